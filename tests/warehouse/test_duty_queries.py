"""The duty screen's queries (warehouse/duty_queries.py) on both backends: the recent events of an alert's subject
(a district's or a department's work orders, an incident, a station's readings), from crafted events with the
answers worked out by hand — the window's edge, the order and its tie-break, the limit, a redelivered event shown
once, the other subjects left out, and nothing at all."""
import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from config.settings import load
from ingest.consume import make_decoder
from ingest.direct import store_events
from tests.helpers import Clock, store_directly
from warehouse import duty_queries as dq
from warehouse.queries import run

MINUTE, HOUR = 60, 3600
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = int(dt.datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI).timestamp())  # 10:00 in Guangzhou, 02:00 UTC
NOW = Clock(T + 24 * HOUR)  # the decoder's clock: every event below is in its past
TIANHE, YUEXIU = (113.3245, 23.1375), (113.2644, 23.1291)  # GCJ-02 points inside 天河区 440106, 越秀区 440104
COLUMNS = ["ts", "what", "status", "text"]


def ms(seconds: int) -> int:
    return seconds * 1000


def order(event_id: str, order_id: str, at: int, status: str, place=TIANHE, **fields) -> dict:
    return {"event_id": event_id, "schema": "hotline.v1", "ts": ms(at), "order_id": order_id, "status": status,
            "category": "城市管理", "subcategory": "占道经营", "content": f"内容{event_id}",
            "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"}, **fields}


def incident(event_id: str, incident_id: str, at: int, status: str, kind: str = "flood", level: str | None = None,
             text: str = "") -> dict:
    event = {"event_id": event_id, "schema": "emergency.v1", "ts": ms(at), "incident_id": incident_id,
             "type": kind, "status": status, "description": text,
             "location": {"lon": TIANHE[0], "lat": TIANHE[1], "crs": "GCJ02"}}
    return {**event, "level": level} if level else event


def reading(event_id: str, schema: str, station: str, kind: str, at: int, **readings) -> dict:
    return {"event_id": event_id, "schema": schema, "ts": ms(at), "station_id": station, "station_type": kind,
            "readings": readings}


def store_readings(wh, events: list[dict]) -> None:
    """Through the configured decoder: a reading needs its station in the registry (config/stations.yaml)."""
    assert store_events(wh, make_decoder(load(environ={}), clock=NOW), events) == len(events)


def rows(wh, query) -> list[tuple]:
    """(epoch seconds, what, status, text) of each row, in the query's order."""
    df = run(wh, query)
    assert list(df.columns) == COLUMNS
    stamps = [pd.Timestamp(ts) for ts in df["ts"]]
    epochs = [int((s.tz_localize("UTC") if s.tzinfo is None else s).timestamp()) for s in stamps]
    return list(zip(epochs, df["what"], df["status"], df["text"]))


# --- work orders of a district or a department ---------------------------------------------------------------------

def orders() -> list[dict]:
    """WO-1 天河 received T−3 h (before the window below), dispatched to 城管局 T−1 h, accepted T
       WO-2 天河 received T−1 h (the same second as WO-1's dispatch: the tie goes to the event id, "1.2" < "2.1")
       WO-3 越秀 received T−30 min, dispatched to 城管局 T−20 min, its completion T−10 min (no district given)
       WO-4 天河 received exactly at the window's start T−2 h (inside: ``ts >= since``)"""
    return [
        order("1.1", "WO-1", T - 3 * HOUR, "received", district_code="440106"),
        order("1.2", "WO-1", T - HOUR, "dispatched", district_code="440106", department="城管局",
              deadline=ms(T + 24 * HOUR)),
        order("1.3", "WO-1", T, "accepted", district_code="440106", department="城管局"),
        order("2.1", "WO-2", T - HOUR, "received", district_code="440106", category="水电气", content="停水"),
        order("3.1", "WO-3", T - 30 * MINUTE, "received", YUEXIU, district_code="440104"),
        order("3.2", "WO-3", T - 20 * MINUTE, "dispatched", YUEXIU, district_code="440104", department="城管局",
              deadline=ms(T + 24 * HOUR)),
        order("3.3", "WO-3", T - 10 * MINUTE, "completed", YUEXIU, department="城管局"),
        order("4.1", "WO-4", T - 2 * HOUR, "received", district_code="440106"),
    ]


def test_a_districts_orders_newest_first_from_the_window_start_on(warehouse):
    store_directly(warehouse, orders(), NOW)
    assert rows(warehouse, dq.district_orders("440106", T - 2 * HOUR)) == [
        (T, "WO-1", "accepted", "城市管理 · 内容1.3"),
        (T - HOUR, "WO-1", "dispatched", "城市管理 · 内容1.2"),
        (T - HOUR, "WO-2", "received", "水电气 · 停水"),
        (T - 2 * HOUR, "WO-4", "received", "城市管理 · 内容4.1"),
    ]  # WO-1's receipt (T−3 h) is before the window; 越秀's WO-3 is another district


def test_a_districts_orders_stop_at_the_limit_after_the_order(warehouse):
    store_directly(warehouse, orders(), NOW)
    assert [r[:3] for r in rows(warehouse, dq.district_orders("440106", T - 4 * HOUR, limit=3))] == [
        (T, "WO-1", "accepted"), (T - HOUR, "WO-1", "dispatched"), (T - HOUR, "WO-2", "received")]


def test_a_departments_orders_across_districts(warehouse):
    store_directly(warehouse, orders(), NOW)
    assert [r[:3] for r in rows(warehouse, dq.department_orders("城管局", T - 2 * HOUR))] == [
        (T, "WO-1", "accepted"), (T - 10 * MINUTE, "WO-3", "completed"), (T - 20 * MINUTE, "WO-3", "dispatched"),
        (T - HOUR, "WO-1", "dispatched")]  # the receipts carry no department


def test_a_redelivered_order_event_shows_once(warehouse):
    store_directly(warehouse, orders(), NOW)
    store_directly(warehouse, [orders()[3]], NOW)  # WO-2's receipt delivered again (a second row until a merge)
    assert warehouse.query_df("SELECT count() AS n FROM hotline_events WHERE event_id = '2.1'")["n"].tolist() == [2]
    assert [r[1:3] for r in rows(warehouse, dq.district_orders("440106", T - 2 * HOUR))] == [
        ("WO-1", "accepted"), ("WO-1", "dispatched"), ("WO-2", "received"), ("WO-4", "received")]


@pytest.mark.parametrize("query", [
    dq.district_orders("440106", T - 2 * HOUR), dq.department_orders("城管局", T - 2 * HOUR),
    dq.incident_events("INC-1"), dq.station_readings("water", "ponding_depth_cm", "GZ-WL-001", T - 2 * HOUR)])
def test_nothing_stored_is_no_rows_with_the_columns(warehouse, query):
    assert rows(warehouse, query) == []


def test_an_unknown_district_or_department_or_a_window_after_the_events_is_no_rows(warehouse):
    store_directly(warehouse, orders(), NOW)
    assert rows(warehouse, dq.district_orders("440105", T - 4 * HOUR)) == []
    assert rows(warehouse, dq.department_orders("水务局", T - 4 * HOUR)) == []
    assert rows(warehouse, dq.district_orders("440106", T + 1)) == []  # the newest is at T


# --- an incident's events ------------------------------------------------------------------------------------------

def incidents() -> list[dict]:
    """INC-1 a flood: reported T−2 h as grade II, dispatched T−1 h (no grade given), on scene T; INC-2 a fire.
    No time window: an incident's whole story, newest first."""
    return [
        incident("I1.1", "INC-1", T - 2 * HOUR, "reported", level="II", text="河涌漫堤"),
        incident("I1.2", "INC-1", T - HOUR, "dispatched", text="已调派抢险队"),
        incident("I1.3", "INC-1", T, "on_scene", level="III", text="水位回落，降为较大"),
        incident("I2.1", "INC-2", T - 30 * MINUTE, "reported", kind="fire", level="IV", text="仓库起火"),
    ]


def test_an_incidents_events_newest_first_with_its_type_and_grade_in_words(warehouse):
    store_directly(warehouse, incidents(), NOW)
    assert rows(warehouse, dq.incident_events("INC-1")) == [
        (T, "洪涝 Ⅲ级", "on_scene", "水位回落，降为较大"),
        (T - HOUR, "洪涝", "dispatched", "已调派抢险队"),  # no grade on this event: the type alone
        (T - 2 * HOUR, "洪涝 Ⅱ级", "reported", "河涌漫堤"),
    ]
    assert rows(warehouse, dq.incident_events("INC-2")) == [(T - 30 * MINUTE, "火灾 Ⅳ级", "reported", "仓库起火")]


def test_an_incidents_events_with_a_redelivery_and_a_limit(warehouse):
    store_directly(warehouse, incidents(), NOW)
    store_directly(warehouse, incidents()[:1], NOW)  # the report delivered twice
    assert [r[2] for r in rows(warehouse, dq.incident_events("INC-1"))] == ["on_scene", "dispatched", "reported"]
    assert [r[2] for r in rows(warehouse, dq.incident_events("INC-1", limit=2))] == ["on_scene", "dispatched"]
    assert rows(warehouse, dq.incident_events("INC-9")) == []


# --- a station's readings ------------------------------------------------------------------------------------------

def readings() -> list[dict]:
    """GZ-WL-001 (waterlogging): ponding 12.346 cm at T−3 h (before the window), 20 at T−1 h, a reading without
    ponding at T−30 min, 7.004 at T; GZ-WL-002: 99 at T. GZ-AQ-001 (air): PM2.5 75 at T−1 h."""
    return [
        reading("W1.1", "water.v1", "GZ-WL-001", "waterlogging", T - 3 * HOUR, ponding_depth_cm=12.346),
        reading("W1.2", "water.v1", "GZ-WL-001", "waterlogging", T - HOUR, ponding_depth_cm=20.0),
        reading("W1.3", "water.v1", "GZ-WL-001", "waterlogging", T - 30 * MINUTE, rainfall_mm=3.5),
        reading("W1.4", "water.v1", "GZ-WL-001", "waterlogging", T, ponding_depth_cm=7.004),
        reading("W2.1", "water.v1", "GZ-WL-002", "waterlogging", T, ponding_depth_cm=99.0),
        reading("A1.1", "ecology.v1", "GZ-AQ-001", "air", T - HOUR, pm25=75.0),
    ]


def test_a_stations_readings_of_one_metric_newest_first_rounded_to_two_places(warehouse):
    store_readings(warehouse, readings())
    # 7.004 → "7", 20.0 → "20"; the reading without ponding (T−30 min) is left out, the one before the window too
    assert rows(warehouse, dq.station_readings("water", "ponding_depth_cm", "GZ-WL-001", T - 2 * HOUR)) == [
        (T, "GZ-WL-001", "", "7"), (T - HOUR, "GZ-WL-001", "", "20")]
    assert rows(warehouse, dq.station_readings("water", "ponding_depth_cm", "GZ-WL-001", T - 4 * HOUR)) == [
        (T, "GZ-WL-001", "", "7"), (T - HOUR, "GZ-WL-001", "", "20"), (T - 3 * HOUR, "GZ-WL-001", "", "12.35")]


def test_an_air_stations_readings_and_its_derived_aqi(warehouse):
    store_readings(warehouse, readings())
    assert rows(warehouse, dq.station_readings("ecology", "pm25", "GZ-AQ-001", T - 2 * HOUR)) == [
        (T - HOUR, "GZ-AQ-001", "", "75")]
    # the AQI is derived at ingest: hourly PM2.5 75 under HJ 633—2026 (IAQI-100 at 60, 150 at 115):
    # 100 + (150 − 100) / (115 − 60) × (75 − 60) = 113.6 → 114, rounded up (DOMAIN.md's check example)
    assert rows(warehouse, dq.station_readings("ecology", "aqi", "GZ-AQ-001", T - 2 * HOUR)) == [
        (T - HOUR, "GZ-AQ-001", "", "114")]


def test_a_stations_readings_redelivered_limited_and_other_stations_left_out(warehouse):
    store_readings(warehouse, readings())
    store_readings(warehouse, readings()[1:2])  # W1.2 again
    query = dq.station_readings("water", "ponding_depth_cm", "GZ-WL-001", T - 4 * HOUR)
    assert [ts for ts, *_ in rows(warehouse, query)] == [T, T - HOUR, T - 3 * HOUR]
    query = dq.station_readings("water", "ponding_depth_cm", "GZ-WL-001", T - 4 * HOUR, limit=2)
    assert [ts for ts, *_ in rows(warehouse, query)] == [T, T - HOUR]
    assert rows(warehouse, dq.station_readings("water", "ponding_depth_cm", "GZ-WL-002", T - 4 * HOUR)) == [
        (T, "GZ-WL-002", "", "99")]
    assert rows(warehouse, dq.station_readings("water", "ponding_depth_cm", "GZ-WL-009", T - 4 * HOUR)) == []


@pytest.mark.parametrize("source, metric", [("water", "pm25"), ("ecology", "ponding_depth_cm"), ("noise", "pm25"),
                                            ("water", "ponding_depth_cm; DROP TABLE water_readings"), ("", "")])
def test_a_source_or_metric_off_the_whitelist_is_refused_before_any_sql(source, metric):
    with pytest.raises(ValueError, match=r"^no '.*' metric '.*'$"):
        dq.station_readings(source, metric, "GZ-WL-001", T)


def test_the_builders_bind_every_value_and_write_the_limit_as_an_integer():
    sql, params = dq.district_orders("440106'; --", T, limit="5")  # type: ignore[arg-type]
    assert "440106" not in sql and params == {"key": "440106'; --", "since": T} and sql.rstrip().endswith("LIMIT 5")
    sql, params = dq.station_readings("water", "ph", "GZ-WQ-001", T, limit=3)
    assert "GZ-WQ-001" not in sql and "FROM water_readings" in sql and "round(ph, 2)" in sql
    assert params == {"key": "GZ-WQ-001", "since": T}
