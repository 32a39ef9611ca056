"""Bad messages for ``simulate --bad-ratio``: the real decoder rejects each kind with exactly its reason code, and
a seeded generator sends the same bytes."""
from __future__ import annotations

import copy
import datetime as dt
import random

import msgspec
import pytest

from config.settings import load
from domain.topics import TOPICS
from ingest.consume import make_decoder
from simulator.malformed import KINDS, REASON, corrupt, kinds_for
from streams.kafka_io import Record
from tests.helpers import Clock

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 5, 8, tzinfo=SHANGHAI).timestamp()
SETTINGS = load(environ={})
DECODER = make_decoder(SETTINGS, clock=Clock(NOW))
LIMIT = SETTINGS.ingest.max_message_bytes
SEEDS = range(20)  # enough to meet every variant: each cut, each dropped field, array and string
TS = dt.datetime.fromtimestamp(NOW - 3600, SHANGHAI).isoformat(timespec="seconds")


def sensor(schema: str, station_type: str, readings: dict, **more) -> dict:
    """A reading of the registry's first station of a type, as simulator.sensors writes it."""
    station = DECODER.stations.of_type(station_type)[0]
    return {"event_id": f"{station.id}.{int(NOW)}", "schema": schema, "ts": TS, "district_code": station.district_code,
            "station_id": station.id, "station_type": station_type, "readings": readings, **more}


EVENTS = {
    "work_order": {"event_id": "WO20250615ABC.1", "schema": "hotline.v1", "ts": TS, "order_id": "WO20250615ABC",
                   "status": "received", "category": "城市管理", "subcategory": "占道经营", "channel": "phone",
                   "urgency": "normal", "location": {"lon": 113.3245, "lat": 23.1375, "crs": "GCJ02"},
                   "district_code": "440106", "content": "天河区：路边有流动摊贩占道经营，影响通行"},
    "bare_work_order": {"event_id": "WO2.2", "schema": "hotline.v1", "ts": int(NOW * 1000) - 60_000,
                        "order_id": "WO2", "status": "dispatched", "content": "see attachment"},
    "incident": {"event_id": "INC-1.2", "schema": "emergency.v1", "ts": TS, "incident_id": "INC-1",
                 "type": "waterlogging", "status": "dispatched", "level": "III", "district_code": "440106",
                 "location": {"lon": 113.3612, "lat": 23.1247, "crs": "GCJ02"}, "units": ["排水抢险队"],
                 "description": "下穿隧道积水，车辆涉水受阻"},
    "ungraded_incident": {"event_id": "INC-2.1", "schema": "emergency.v1", "incident_id": "INC-2",
                          "ts": dt.datetime.fromtimestamp(NOW - 600, dt.timezone.utc).isoformat(),
                          "type": "fire", "status": "reported", "location": {"lon": 113.264, "lat": 23.129}},
    "river_level": sensor("water.v1", "river_gauge", {"water_level_m": -0.35}, interval_s=300),
    "water_quality": sensor("water.v1", "water_quality", {"do_mg_l": 6.2, "codmn_mg_l": 3.1, "nh3n_mg_l": 0.4,
                                                          "tp_mg_l": 0.08, "ph": 7.4, "turbidity_ntu": 12.0},
                            interval_s=3600),
    "air": sensor("ecology.v1", "air", {"pm25": 35.0, "pm10": 58.0, "o3": 0.0, "no2": 41.0, "so2": 8.0, "co": 0.7},
                  averaging="1h"),
    "noise": sensor("ecology.v1", "noise", {"noise_db": 0.0}, averaging="1h"),
}
CASES = [(name, kind) for name, event in EVENTS.items() for kind in kinds_for(event["schema"])]
OBJECT_KINDS = [kind for kind in KINDS if kind not in ("empty", "truncated", "not_object", "not_utf8")]


def decode(event: dict, values: list[bytes]) -> list[tuple[str, dict]]:
    topic = TOPICS[event["schema"].split(".")[0]]
    return DECODER.decode_batch([Record(topic, 0, i, b"key", v) for i, v in enumerate(values)])


def bad(kind: str, event: dict, seed: int, limit: int = LIMIT) -> bytes:
    return corrupt(kind, event, random.Random(seed), max_message_bytes=limit, now=NOW)


@pytest.mark.parametrize("name", EVENTS)
def test_the_valid_events_are_accepted(name):
    [(table, row)] = decode(EVENTS[name], [msgspec.json.encode(EVENTS[name])])
    assert table != "rejects", row


@pytest.mark.parametrize("name, kind", CASES)
def test_each_kind_is_rejected_with_its_reason(name, kind):
    out = decode(EVENTS[name], [bad(kind, EVENTS[name], seed) for seed in SEEDS])
    assert [(table, row["reason"]) for table, row in out] == [("rejects", REASON[kind])] * len(SEEDS), \
        [row["detail"] for _, row in out]


def test_every_kind_applies_to_some_schema_in_a_fixed_order():
    schemas = ("hotline.v1", "emergency.v1", "water.v1", "ecology.v1")
    assert set(KINDS) == set(REASON) == {kind for s in schemas for kind in kinds_for(s)}
    assert all(kinds_for(s) == tuple(k for k in KINDS if k in kinds_for(s)) for s in schemas)
    assert kinds_for("hotline.v9") == ()


def test_sensor_kinds_apply_to_sensors_only():
    assert {"negative_reading", "unknown_station"} & set(kinds_for("hotline.v1") + kinds_for("emergency.v1")) == set()
    assert {"negative_reading", "unknown_station"} <= set(kinds_for("water.v1")) & set(kinds_for("ecology.v1"))


@pytest.mark.parametrize("name, kind", CASES)
def test_the_same_seed_gives_the_same_bytes(name, kind):
    assert bad(kind, EVENTS[name], 42) == bad(kind, EVENTS[name], 42)


def test_the_event_is_left_unchanged():
    before = copy.deepcopy(EVENTS)
    for name, kind in CASES:
        bad(kind, EVENTS[name], 1)
    assert EVENTS == before


@pytest.mark.parametrize("name, kind", [(name, kind) for name, kind in CASES if kind in OBJECT_KINDS])
def test_one_thing_is_wrong(name, kind):
    event = EVENTS[name]
    for seed in SEEDS:
        message = msgspec.json.decode(bad(kind, event, seed))
        assert len({k for k in event.keys() | message.keys() if event.get(k) != message.get(k)}) == 1, message


@pytest.mark.parametrize("name", EVENTS)
@pytest.mark.parametrize("limit", [LIMIT, 4096])
def test_oversized_is_just_over_the_limit(name, limit):
    size = len(bad("oversized", EVENTS[name], 3, limit))
    assert limit < size < 2 * limit


def test_a_message_cut_in_a_character_keeps_the_rest_of_the_event():
    message = bad("not_utf8", EVENTS["work_order"], 5)
    text = message.decode("utf-8", "replace")
    assert '"event_id":"WO20250615ABC.1"' in text and '"order_id":"WO20250615ABC"' in text
    assert "\ufffd\"" in text  # the half character ends the content


def test_times_keep_the_event_format():
    iso, ms = EVENTS["work_order"], EVENTS["bare_work_order"]
    future = msgspec.json.decode(bad("future_time", iso, 0))["ts"]
    assert future.endswith("+08:00") and dt.datetime.fromisoformat(future).timestamp() > NOW + 86400
    past = msgspec.json.decode(bad("past_time", ms, 0))["ts"]
    assert isinstance(past, int) and past < (NOW - 2 * 365 * 86400) * 1000
