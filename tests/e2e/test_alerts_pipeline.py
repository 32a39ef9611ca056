"""Every shipped alert rule, driven end to end: crafted events → real broker → ingest → warehouse (both backends)
→ one evaluation cycle finds each alert exactly once, a second cycle re-fires without duplicating, and an
unacknowledged red or orange alert escalates on time."""
import datetime as dt
import uuid
from pathlib import Path

import msgspec

from alerts import store
from alerts.engine import evaluate
from alerts.rules import load_rules
from tests.helpers import ingest_until_committed, publish_raw, unique_topic

ROOT = Path(__file__).resolve().parents[2]
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime.now(CST).replace(second=0, microsecond=0)


def at(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()


def reading(family: str, station: str, kind: str, minutes_ago: float, **readings) -> tuple[str, dict]:
    return station, {"event_id": f"{station}.{minutes_ago}", "schema": f"{family}.v1", "ts": at(minutes_ago),
                     "station_id": station, "station_type": kind, "readings": readings}


def order(order_id: str, status: str, minutes_ago: float, category: str, **fields) -> tuple[str, dict]:
    return order_id, {"event_id": f"{order_id}.{status}", "schema": "hotline.v1", "ts": at(minutes_ago),
                      "order_id": order_id, "status": status, "category": category, "district_code": "440106",
                      "location": {"lon": 113.3245, "lat": 23.1375}, **fields}


def incident(incident_id: str, status: str, minutes_ago: float, **fields) -> tuple[str, dict]:
    return incident_id, {"event_id": f"{incident_id}.{status}", "schema": "emergency.v1", "ts": at(minutes_ago),
                         "incident_id": incident_id, "type": "fire", "status": status, "district_code": "440104",
                         "location": {"lon": 113.27, "lat": 23.13}, **fields}


def crafted() -> dict[str, list[tuple[str, dict]]]:
    """Events that make each shipped rule fire for exactly one subject."""
    days_ago = 10 * 24 * 60
    deadline = (NOW - dt.timedelta(days=2)).isoformat()
    backlog = [event for i in range(51) for event in (
        order(f"WO-LATE-{i}", "received", days_ago, "市场监管"),
        order(f"WO-LATE-{i}", "dispatched", days_ago - 10, "市场监管", department="市场监督管理局",
              deadline=deadline))]
    return {
        "hotline": backlog + [order(f"WO-NOISE-{i}", "received", 50 - 3 * i, "环境保护") for i in range(12)],
        "emergency": [incident("INC-MAJOR", "reported", 30), incident("INC-MAJOR", "dispatched", 25, level="II"),
                      incident("INC-WAITING", "reported", 20, level="IV")],
        "water": [reading("water", "GZ-RV-001", "river_gauge", 5, water_level_m=2.7),
                  reading("water", "GZ-WL-001", "waterlogging", 5, ponding_depth_cm=18.0),
                  *(reading("water", "GZ-PP-002", "pipe_pressure", m, pressure_mpa=0.15) for m in (12, 8, 4)),
                  reading("water", "GZ-WQ-004", "water_quality", 30, do_mg_l=6.0, nh3n_mg_l=2.5, codmn_mg_l=4.0)],
        "ecology": [reading("ecology", "GZ-AQ-001", "air", m, pm25=160.0, o3=80.0) for m in (110, 50, 5)],
    }


EXPECTED = {("air-heavy-pollution", "GZ-AQ-001"), ("river-over-warning", "GZ-RV-001"),
            ("river-over-guarantee", "GZ-RV-001"), ("street-ponding", "GZ-WL-001"),
            ("pipe-low-pressure", "GZ-PP-002"), ("water-quality-below-iii", "GZ-WQ-004"),
            ("hotline-surge", "440106/环境保护"), ("major-incident", "INC-MAJOR"),
            ("incident-not-dispatched", "INC-WAITING"), ("department-backlog", "市场监督管理局")}


def test_each_shipped_rule_fires_once_through_the_whole_pipeline_and_escalates_on_time(broker, warehouse,
                                                                                        settings_for):
    families = crafted()
    topics = {name: unique_topic().replace("hotline", name) for name in families}
    ends = {name: publish_raw(broker.bootstrap, topics[name],
                              [(key, msgspec.json.encode(event)) for key, event in events])
            for name, events in families.items()}
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "ingest.topics": ",".join(topics.values())})
    ingest_until_committed(settings, warehouse, {topics[n]: ends[n] for n in families})
    assert int(warehouse.scalar("SELECT count() FROM rejects")) == 0

    rules = load_rules(ROOT / "config" / "alerts.yaml")
    now = NOW.timestamp()
    first = evaluate(warehouse, rules, now, escalate_after_minutes=10)
    alerts = store.current(warehouse, active_only=True)
    assert set(zip(alerts["rule_id"], alerts["subject_id"])) == EXPECTED
    assert first.opened == len(EXPECTED) == len(alerts)

    again = evaluate(warehouse, rules, now + 60, escalate_after_minutes=10)
    assert (again.opened, again.refired) == (0, len(EXPECTED))
    assert len(store.current(warehouse)) == len(EXPECTED)

    later = evaluate(warehouse, rules, now + 11 * 60, escalate_after_minutes=10)
    escalated = store.current(warehouse, active_only=True).set_index("rule_id")
    red_or_orange = {rule.id for rule in rules if rule.severity in ("red", "orange")} & {r for r, _ in EXPECTED}
    assert later.escalated == len(red_or_orange)
    assert escalated.loc["river-over-warning", "severity"] == "red"  # orange → red
    assert escalated.loc["major-incident", "escalations"] == 1  # red: the next level is notified
    assert escalated.loc["hotline-surge", "severity"] == "yellow"  # yellow alerts do not escalate by themselves
    log = store.actions(warehouse)
    assert (log["action"] == "escalate").sum() == len(red_or_orange) and set(log["actor"]) == {"system"}
