"""Where each event family travels: its Kafka topic, and the field that keys its messages (one order's, incident's
or station's events stay in order on one partition)."""
from __future__ import annotations

TOPICS = {"hotline": "city.hotline", "emergency": "city.emergency", "water": "city.water", "ecology": "city.ecology"}
# schema → (topic, key field)
ROUTES = {"hotline.v1": (TOPICS["hotline"], "order_id"), "emergency.v1": (TOPICS["emergency"], "incident_id"),
          "water.v1": (TOPICS["water"], "station_id"), "ecology.v1": (TOPICS["ecology"], "station_id")}


def route(event: dict) -> tuple[str, str]:
    """(topic, key) of a contract event."""
    topic, field = ROUTES[event["schema"]]
    return topic, event[field]
