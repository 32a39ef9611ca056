"""Decoder: Kafka record → hotline_events row, or → rejects row with the exact reason code. Never raises."""
from __future__ import annotations

import datetime as dt
import json

import h3
import pytest

from domain.districts import DistrictIndex
from ingest.decode import Decoder, Limits
from streams.kafka_io import Record

UTC = dt.timezone.utc
FIXED_NOW = dt.datetime(2025, 6, 15, 4, 0, tzinfo=UTC).timestamp()  # 12:00 in Guangzhou
TOPIC, PARTITION, OFFSET, KEY = "city.hotline", 2, 7, b"WO1"
TIANHE_GCJ = {"lon": 113.3245, "lat": 23.1375}  # near 天河体育中心, GCJ-02
DROP = object()


@pytest.fixture(scope="module")
def districts() -> DistrictIndex:
    return DistrictIndex.for_city("440100")


@pytest.fixture(scope="module")
def decoder(districts) -> Decoder:
    return Decoder(districts, clock=lambda: FIXED_NOW)


def event(**fields) -> dict:
    """A minimal valid hotline.v1 event; ``name=DROP`` removes a field."""
    e = {"event_id": "WO1.1", "schema": "hotline.v1", "ts": "2025-06-15T10:30:00+08:00", "order_id": "WO1",
         "status": "received"}
    e.update(fields)
    return {k: v for k, v in e.items() if v is not DROP}


def record(value, key=KEY) -> Record:
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False).encode()
    return Record(TOPIC, PARTITION, OFFSET, key, value)


def accepted(decoder: Decoder, value) -> dict:
    table, row = decoder.decode(record(value))
    assert table == "hotline_events", row
    return row


def rejected(decoder: Decoder, value, key=KEY) -> dict:
    table, row = decoder.decode(record(value, key))
    assert table == "rejects", row
    return row


def at_utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- valid events ---------------------------------------------------------------------------------------------

def test_valid_event_becomes_exact_row_in_utc(decoder):
    full = event(event_id="WO1.6", status="visited", category="城市管理", subcategory="占道经营", channel="phone",
                 urgency="urgent", district_code="440106", location={**TIANHE_GCJ, "crs": "GCJ02"},
                 department="城市管理和综合执法局", deadline="2025-06-16T09:00:00+08:00",
                 content="路边有流动摊贩占道经营", satisfaction="satisfied", resolved=True)
    row = accepted(decoder, full)
    assert row == {
        "event_id": "WO1.6", "order_id": "WO1", "ts": at_utc(2025, 6, 15, 2, 30), "status": "visited",
        "category": "城市管理", "subcategory": "占道经营", "channel": "phone", "urgency": "urgent",
        "district_code": "440106",
        "lon": pytest.approx(113.3190876, abs=1e-6), "lat": pytest.approx(23.1400985, abs=1e-6),
        "map_lon": 113.3245, "map_lat": 23.1375, "h3": h3.str_to_int(h3.latlng_to_cell(23.1400985, 113.3190876, 11)),
        "department": "城市管理和综合执法局", "deadline": at_utc(2025, 6, 16, 1, 0),
        "content": "路边有流动摊贩占道经营", "satisfaction": "satisfied", "resolved": 1, "extra": "",
        "topic": TOPIC, "partition": PARTITION, "offset": OFFSET, "ingested_at": at_utc(2025, 6, 15, 4, 0),
    }
    assert row["ts"].utcoffset() == dt.timedelta(0) and row["deadline"].utcoffset() == dt.timedelta(0)
    assert row["h3"] != h3.str_to_int(h3.latlng_to_cell(23.1375, 113.3245, 11))  # the WGS-84 point's, not GCJ-02's


def test_minimal_event_gets_defaults_and_no_place(decoder):
    row = accepted(decoder, event())
    assert (row["category"], row["channel"], row["urgency"], row["department"], row["content"]) == \
        ("", "", "normal", "", "")
    assert (row["district_code"], row["lon"], row["lat"], row["map_lon"], row["map_lat"]) == ("", None, None, None, None)
    assert (row["deadline"], row["satisfaction"], row["resolved"], row["extra"]) == (None, "", None, "")


@pytest.mark.parametrize("ts, expected", [
    ("2025-06-15T10:30:00+08:00", at_utc(2025, 6, 15, 2, 30)),
    ("2025-06-15T02:30:00Z", at_utc(2025, 6, 15, 2, 30)),
    ("2025-06-15T03:30:00+09:00", at_utc(2025, 6, 14, 18, 30)),
    ("2025-06-14T23:59:59.250-04:00", at_utc(2025, 6, 15, 3, 59, 59, 250000)),
])
def test_time_with_offset_is_converted_to_utc(decoder, ts, expected):
    row = accepted(decoder, event(ts=ts))
    assert row["ts"] == expected and row["ts"].tzinfo == UTC


def test_naive_time_is_read_as_shanghai(decoder):
    row = accepted(decoder, event(ts="2025-06-15T10:30:00"))
    assert row["ts"] == at_utc(2025, 6, 15, 2, 30) and row["ts"].tzinfo == UTC


def test_epoch_milliseconds_time_is_an_instant(decoder):
    ms = int(at_utc(2025, 6, 15, 2, 30).timestamp() * 1000) + 123
    row = accepted(decoder, event(ts=ms))
    assert row["ts"] == at_utc(2025, 6, 15, 2, 30, 0, 123000) and row["ts"].tzinfo == UTC


@pytest.mark.parametrize("deadline, expected", [
    ("2025-06-16T09:00:00+08:00", at_utc(2025, 6, 16, 1, 0)),
    ("2025-06-16T09:00:00", at_utc(2025, 6, 16, 1, 0)),
    (int(at_utc(2025, 6, 16, 1, 0).timestamp() * 1000), at_utc(2025, 6, 16, 1, 0)),
])
def test_deadline_is_parsed_to_utc(decoder, deadline, expected):
    row = accepted(decoder, event(status="dispatched", deadline=deadline))
    assert row["deadline"] == expected and row["deadline"].tzinfo == UTC


@pytest.mark.parametrize("resolved, stored", [(True, 1), (False, 0), (DROP, None), (None, None)])
def test_resolved_is_stored_as_one_zero_or_null(decoder, resolved, stored):
    assert accepted(decoder, event(status="visited", resolved=resolved))["resolved"] is stored


def test_unknown_extra_fields_are_kept_as_json(decoder):
    row = accepted(decoder, event(caller_hash="9f2c", tags=["夜间", 2], source={"system": "12345-gd"}))
    assert json.loads(row["extra"]) == {"caller_hash": "9f2c", "tags": ["夜间", 2], "source": {"system": "12345-gd"}}
    assert "夜间" in row["extra"]


def test_known_district_code_is_kept_as_given(decoder):
    row = accepted(decoder, event(district_code="440111", location={**TIANHE_GCJ, "crs": "GCJ02"}))
    assert row["district_code"] == "440111"


def test_missing_district_is_derived_from_gcj02_location(decoder):
    row = accepted(decoder, event(location={**TIANHE_GCJ, "crs": "GCJ02"}))
    assert row["district_code"] == "440106"


def test_unknown_district_code_is_replaced_by_the_located_one(decoder):
    row = accepted(decoder, event(district_code="999999", location={**TIANHE_GCJ, "crs": "GCJ02"}))
    assert row["district_code"] == "440106"


def test_unknown_district_code_without_location_is_left_empty(decoder):
    assert accepted(decoder, event(district_code="999999"))["district_code"] == ""


def test_location_without_crs_uses_the_city_default_gcj02(decoder):
    row = accepted(decoder, event(location=TIANHE_GCJ))
    assert (row["map_lon"], row["map_lat"]) == (113.3245, 23.1375)
    assert row["district_code"] == "440106"


# Expected GCJ-02 values are from the published formulas (eviltransform 0.1.1), not from domain.coords.
def test_wgs84_location_is_converted_to_gcj02_for_the_map(decoder):
    row = accepted(decoder, event(location={"lon": 113.3190, "lat": 23.1402, "crs": "WGS84"}))
    assert (row["lon"], row["lat"]) == (113.3190, 23.1402)
    assert row["map_lon"] == pytest.approx(113.32441232, abs=1e-6)
    assert row["map_lat"] == pytest.approx(23.13760136, abs=1e-6)
    assert row["district_code"] == "440106"


def test_bd09_location_is_converted_to_gcj02_for_the_map(decoder):
    row = accepted(decoder, event(location={"lon": 113.3310, "lat": 23.1436, "crs": "BD09"}))
    assert row["map_lon"] == pytest.approx(113.32447028, abs=1e-6)
    assert row["map_lat"] == pytest.approx(23.13783771, abs=1e-6)
    assert row["lon"] == pytest.approx(113.3190579, abs=1e-6)
    assert row["lat"] == pytest.approx(23.1404361, abs=1e-6)
    assert row["district_code"] == "440106"


def test_markup_and_sql_in_content_are_kept_verbatim(decoder):
    text = "<script>alert(1)</script>'; DROP TABLE x; -- \"引号\" \\ \u0000"
    row = accepted(decoder, event(content=text, subcategory="<b>x</b>"))
    assert row["content"] == text and row["subcategory"] == "<b>x</b>"


def test_time_just_inside_the_future_tolerance_is_accepted(decoder):
    nine_minutes_ahead = int((FIXED_NOW + 9 * 60) * 1000)
    assert accepted(decoder, event(ts=nine_minutes_ahead))["ts"].timestamp() == FIXED_NOW + 540


# --- rejects: one test per reason ------------------------------------------------------------------------------

def test_oversized_message_is_rejected(decoder):
    big = json.dumps(event(content="x" * 70000)).encode()
    assert len(big) > Limits().max_message_bytes
    row = rejected(decoder, big)
    assert row["reason"] == "oversized"
    assert row["detail"] == f"{len(big)} bytes > limit 65536"


def test_reject_raw_is_capped_to_the_configured_bytes(districts):
    decoder = Decoder(districts, clock=lambda: FIXED_NOW, limits=Limits(max_message_bytes=1000, reject_raw_bytes=100))
    big = json.dumps(event(content="x" * 2000)).encode()
    row = rejected(decoder, big)
    assert row["reason"] == "oversized"
    assert row["raw"] == big[:100].decode()


def test_reject_raw_is_capped_at_4096_bytes_by_default(decoder):
    row = rejected(decoder, b"[" + b"1," * 5000 + b"1]")
    assert row["reason"] == "not_object"
    assert len(row["raw"]) == Limits().reject_raw_bytes == 4096


def test_invalid_utf8_is_rejected_as_not_utf8(decoder):
    row = rejected(decoder, b"\xff\xfe{")
    assert row["reason"] == "not_utf8"
    assert row["raw"] == "\\xff\\xfe{"


def test_invalid_utf8_inside_a_json_string_is_rejected_as_not_utf8(decoder):
    value = json.dumps(event(content="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"\xff\xfe")
    assert rejected(decoder, value)["reason"] == "not_utf8"


@pytest.mark.parametrize("value", [b'{"event_id": ', b"", None, b"   ", b"{'a': 1}", b"NaN"])
def test_not_json_is_rejected(decoder, value):
    assert rejected(decoder, value)["reason"] == "not_json"


@pytest.mark.parametrize("value", [b"[1, 2]", b"42", b'"hotline.v1"', b"null", b"true"])
def test_json_that_is_not_an_object_is_rejected(decoder, value):
    assert rejected(decoder, value)["reason"] == "not_object"


@pytest.mark.parametrize("schema", ["hotline.v9", "", "HOTLINE.V1", 5])
def test_unknown_schema_is_rejected(decoder, schema):
    assert rejected(decoder, event(schema=schema))["reason"] == "unknown_schema"


@pytest.mark.parametrize("schema", [[], {"name": "hotline.v1"}])
def test_non_string_schema_is_rejected_without_raising(decoder, schema):
    assert rejected(decoder, event(schema=schema))["reason"] in ("bad_type", "unknown_schema")


@pytest.mark.parametrize("fields, where", [
    ({"order_id": DROP}, "order_id"),
    ({"schema": DROP}, "schema"),
    ({"event_id": DROP}, "event_id"),
    ({"ts": DROP}, "ts"),
    ({"status": DROP}, "status"),
    ({"location": {"lon": 113.3}}, "lat"),
])
def test_missing_required_field_is_rejected(decoder, fields, where):
    row = rejected(decoder, event(**fields))
    assert row["reason"] == "missing_field"
    assert f"`{where}`" in row["detail"]


@pytest.mark.parametrize("fields", [
    {"order_id": 123}, {"ts": 1749954600.5}, {"ts": "yesterday"}, {"ts": True}, {"resolved": "yes"},
    {"location": "天河"}, {"location": {"lon": "113.3", "lat": 23.1}}, {"content": ["a"]}, {"event_id": None},
])
def test_ill_typed_field_is_rejected_as_bad_type(decoder, fields):
    assert rejected(decoder, event(**fields))["reason"] == "bad_type"


@pytest.mark.parametrize("fields", [
    {"status": "done"}, {"channel": "fax"}, {"urgency": "high"}, {"satisfaction": "ok"},
    {"district_code": "44010"}, {"location": {**TIANHE_GCJ, "crs": "EPSG:4326"}},
])
def test_value_outside_the_allowed_ones_is_rejected_as_bad_value(decoder, fields):
    assert rejected(decoder, event(**fields))["reason"] == "bad_value"


@pytest.mark.parametrize("fields", [
    {"location": {"lon": 113.3, "lat": 200}},
    {"location": {"lon": -181, "lat": 23.1}},
    {"ts": (dt.datetime(2035, 6, 15, 12, 0)).isoformat()},  # 10 years ahead
    {"ts": int((FIXED_NOW + 11 * 60) * 1000)},  # beyond max_future_minutes
    {"ts": int((FIXED_NOW - 401 * 86400) * 1000)},  # older than max_past_days
    {"ts": "2024-05-10T12:00:00+08:00"},  # 401 days before FIXED_NOW
    {"ts": 10 ** 30},
    {"location": {"lon": 116.4039, "lat": 39.9151, "crs": "GCJ02"}},  # Beijing, outside the city
    {"event_id": "x" * 65},
    {"content": "长" * 8193},
])
def test_impossible_value_is_rejected_as_out_of_range(decoder, fields):
    assert rejected(decoder, event(**fields))["reason"] == "out_of_range"


@pytest.mark.parametrize("fields", [
    {"ts": "9999-12-31T23:59:59-14:00"},
    {"ts": "0001-01-01T00:00:00"},
    {"ts": "0001-01-01T00:00:00+14:00"},
    {"deadline": "9999-12-31T23:59:59-14:00"},
])
def test_time_at_the_edge_of_the_calendar_is_rejected_as_out_of_range(decoder, fields):
    assert rejected(decoder, event(**fields))["reason"] == "out_of_range"


# --- reject rows ---------------------------------------------------------------------------------------------

def test_reject_row_carries_where_the_record_came_from(decoder):
    raw = json.dumps(event(status="done")).encode()
    row = rejected(decoder, raw)
    detail = row.pop("detail")
    assert row == {"topic": TOPIC, "partition": PARTITION, "offset": OFFSET, "key": "WO1", "raw": raw.decode(),
                   "reason": "bad_value", "received_at": at_utc(2025, 6, 15, 4, 0)}
    assert "'done'" in detail and "$.status" in detail


@pytest.mark.parametrize("key, stored", [(None, ""), (b"\xffWO", "\\xffWO"), ("工单".encode(), "工单")])
def test_reject_row_key_is_text_even_for_odd_keys(decoder, key, stored):
    assert rejected(decoder, b"[]", key=key)["key"] == stored


ODD_VALUES = [None, True, 0, -1, 1.5, 10 ** 30, -(10 ** 30), "", "\u0000", "9999-12-31T23:59:59-14:00",
              "0001-01-01", [], [1], {}, {"lon": 1}, "x" * 9000]


@pytest.mark.parametrize("field", ["event_id", "schema", "ts", "district_code", "location", "order_id", "status",
                                   "category", "channel", "deadline", "content", "resolved", "extra_field"])
def test_any_value_in_any_field_never_raises(decoder, field):
    for value in ODD_VALUES:
        table, row = decoder.decode(record(event(**{field: value})))
        assert table in ("hotline_events", "rejects")
        if table == "rejects":
            assert row["reason"] in ("oversized", "not_utf8", "not_json", "not_object", "unknown_schema",
                                     "missing_field", "bad_type", "bad_value", "out_of_range")
