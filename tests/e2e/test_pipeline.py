"""Simulator → real broker → ingest → warehouse (both backends): exact counts, also after redelivery."""
import datetime as dt
import uuid

import msgspec
import pandas as pd
import pytest

from streams.kafka_io import CLIENTS
from tests.helpers import (
    as_messages,
    ingest_until_committed,
    publish_raw,
    simulated_events,
    unique_topic,
)
from warehouse import queries as q

BAD = [(None, b"not json at all"), ("k", b"[1, 2, 3]"),
       ("k", b'{"event_id": "x", "schema": "hotline.v9", "ts": 0}')]


def ingest_all(settings, warehouse, topic, ends: dict[int, int], timeout: float = 90) -> None:
    ingest_until_committed(settings, warehouse, {topic: ends}, timeout)


def counts(warehouse):
    events = int(q.run(warehouse, q.event_count())["events"].iloc[0])
    rejects = dict(q.run(warehouse, q.reject_counts()).itertuples(index=False))
    return events, rejects


@pytest.mark.parametrize("client", CLIENTS)
def test_ingest_stats_account_for_every_committed_message(broker, warehouse, settings_for, client):
    events = simulated_events(hours=3, seed=5)
    topic = unique_topic()
    ends = publish_raw(broker.bootstrap, topic, as_messages(events) + BAD)
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_size": 500, "ingest.stats_seconds": 1, "kafka.client": client})
    ingest_all(settings, warehouse, topic, ends)
    stats = q.run(warehouse, q.ingest_partitions(0)).set_index("partition")
    assert set(stats["topic"]) == {topic} and set(stats.index) == set(ends)
    assert (int(stats["rows"].sum()), int(stats["rejects"].sum())) == (len(events), len(BAD))
    assert stats["committed"].to_dict() == ends and stats["high_watermark"].to_dict() == ends
    assert stats["lag"].tolist() == [0] * len(ends)
    newest = max(pd.Timestamp(e["ts"]).tz_convert("UTC") for e in events)
    assert pd.Timestamp(stats["newest_event"].max()).tz_localize(None) == newest.tz_localize(None)


@pytest.mark.parametrize("client", CLIENTS)
def test_simulated_events_count_exactly_once_even_when_redelivered(broker, warehouse, settings_for, client):
    events = simulated_events(hours=4)
    orders = {e["order_id"] for e in events}
    topic = unique_topic()
    ends = publish_raw(broker.bootstrap, topic, as_messages(events) + BAD)
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "ingest.batch_size": 2000, "kafka.client": client})

    ingest_all(settings, warehouse, topic, ends)
    assert counts(warehouse) == (len(events), {"not_json": 1, "not_object": 1, "unknown_schema": 1})

    # Redelivery: the same events published again, and a new consumer group reading the topic from the start.
    ends = publish_raw(broker.bootstrap, topic, as_messages(events[: len(events) // 2]))
    again = settings.replace(**{"kafka.group_id": f"g-{uuid.uuid4().hex[:6]}"})
    ingest_all(again, warehouse, topic, ends)
    assert counts(warehouse) == (len(events), {"not_json": 1, "not_object": 1, "unknown_schema": 1})
    states = q.run(warehouse, q.order_states(0, 0, 2**32 - 1))
    assert int(states["orders"].sum()) == len(orders)


@pytest.mark.parametrize("client", CLIENTS)
def test_committed_offsets_are_not_consumed_again(broker, warehouse, settings_for, client):
    topic = unique_topic()
    events = simulated_events(hours=1, seed=11)
    ends = publish_raw(broker.bootstrap, topic, as_messages(events))
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "kafka.client": client})
    ingest_all(settings, warehouse, topic, ends)
    later = simulated_events(hours=1, seed=12)
    ends = publish_raw(broker.bootstrap, topic, as_messages(later))
    ingest_all(settings, warehouse, topic, ends)  # the same group resumes after its commit
    assert q.run(warehouse, q.event_count())["events"].iloc[0] == len(events) + len(later)
    assert q.run(warehouse, q.ingest_health())["rows"].iloc[0] == len(events) + len(later)  # nothing read twice


def test_all_four_families_through_the_broker_land_in_their_tables(broker, warehouse, settings_for):
    from config.stations import load_stations

    stations = load_stations(city="440100")
    river, air = stations.of_type("river_gauge")[0], stations.of_type("air")[0]
    hour = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(minute=0, second=0, microsecond=0)
    ts = (hour - dt.timedelta(hours=1)).isoformat()  # an hour ago, at minute 0: the readings below are at 00–02
    families = {
        "hotline": [(e["order_id"], msgspec.json.encode(e)) for e in simulated_events(hours=1, seed=31)],
        "emergency": [("INC-9", msgspec.json.encode(
            {"event_id": f"INC-9.{i}", "schema": "emergency.v1", "ts": ts, "incident_id": "INC-9", "type": "flood",
             "level": "II", "status": status, "location": {"lon": 113.36, "lat": 23.12}}))
            for i, status in enumerate(["reported", "dispatched", "on_scene"])],
        "water": [(river.id, msgspec.json.encode(
            {"event_id": f"{river.id}.{i}", "schema": "water.v1", "ts": ts.replace(":00:00", f":0{i}:00"),
             "station_id": river.id, "station_type": "river_gauge", "readings": {"water_level_m": level}}))
            for i, level in enumerate([river.attrs["warning_level_m"] - 0.1, river.attrs["warning_level_m"],
                                       river.attrs["guarantee_level_m"]])],
        "ecology": [(air.id, msgspec.json.encode(
            {"event_id": f"{air.id}.1", "schema": "ecology.v1", "ts": ts, "station_id": air.id,
             "station_type": "air", "readings": {"pm25": 160, "o3": 120}})),
            (air.id, b'{"event_id": "x", "schema": "ecology.v1", "ts": 0, "station_id": "NOPE"}')],
    }
    topics = {name: unique_topic().replace("hotline", name) for name in families}
    ends = {name: publish_raw(broker.bootstrap, topics[name], messages) for name, messages in families.items()}
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "ingest.topics": ",".join(topics.values())})
    ingest_until_committed(settings, warehouse, {topics[n]: ends[n] for n in families})
    count = lambda table: int(warehouse.scalar(f"SELECT uniqExact(event_id) FROM {table}"))  # noqa: E731
    assert count("hotline_events") == len(families["hotline"])
    assert count("emergency_events") == 3
    states = warehouse.query_df("SELECT state FROM water_readings FINAL ORDER BY ts")["state"].tolist()
    assert states == ["normal", "over_warning", "over_guarantee"]
    air_row = warehouse.query_df("SELECT aqi, aqi_level, primary_pollutants, aqi_edition FROM ecology_readings")
    # HJ 633—2026, PM2.5 160 (24h column on the hourly value): (300−200)/(250−150)×(160−150)+200 = 210
    assert air_row.iloc[0]["aqi"] == 210 and air_row.iloc[0]["aqi_level"] == 5
    assert list(air_row.iloc[0]["primary_pollutants"]) == ["pm25"]
    assert dict(q.run(warehouse, q.reject_counts()).itertuples(index=False)) == {"missing_field": 1}
