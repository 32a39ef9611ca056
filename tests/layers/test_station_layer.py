"""Station layer: every status rule at its edges, silence, tooltip lines and legend from hand-built frames; then the
features built from water_latest / ecology_latest on both warehouse backends."""
import datetime as dt
import threading
import time
from pathlib import Path

import dash
import dash_leaflet as dl
import pandas as pd
import pytest
from werkzeug.serving import make_server

from config.settings import load
from config.stations import load_stations
from domain.aqi import LEVELS
from domain.stations import Station
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers import palette
from layers.stations import legend_items, station_features, station_layer
from streams.broker import free_port
from warehouse.map_queries import ecology_latest, water_latest
from warehouse.queries import run

RED, ORANGE, YELLOW, BLUE = (palette.SEVERITY[rank][0] for rank in (4, 3, 2, 1))
NOW = dt.datetime(2026, 7, 15, 6, 0, tzinfo=dt.timezone.utc).timestamp()  # 14:00 in Guangzhou
STATIONS = {s.id: s for s in (
    Station("RV", "珠江广州大桥水位站", "river_gauge", "water", "440105", 113.317086, 23.105567,
            {"river": "珠江前航道", "warning_level_m": 1.9, "guarantee_level_m": 2.6}),
    Station("RG", "越秀山雨量站", "rain_gauge", "water", "440104", 113.266, 23.141, {"alarm_rain_1h_mm": 20}),
    Station("PP", "中山八路测压点", "pipe_pressure", "water", "440103", 113.235, 23.127, {"low_pressure_mpa": 0.14}),
    Station("WQ", "珠江猎德断面水质站", "water_quality", "water", "440106", 113.335, 23.116,
            {"waterbody": "river", "target_class": 4}),
    Station("WQ2", "流溪河李溪坝水质站", "water_quality", "water", "440111", 113.32, 23.35,
            {"waterbody": "river", "target_class": 2}),
    Station("WL", "天河体育中心积水点", "waterlogging", "water", "440106", 113.325, 23.138, {"ponding_alarm_cm": 15}),
    Station("AQ", "广雅中学空气监测站", "air", "ecology", "440103", 113.241, 23.142),
    Station("NS", "北京路噪声监测点", "noise", "ecology", "440104", 113.27, 23.125,
            {"day_limit_db": 60, "night_limit_db": 50}),
)}
INTERVALS = {"river_gauge": 300, "rain_gauge": 300, "pipe_pressure": 300, "waterlogging": 300, "water_quality": 14400}


def row(station_id: str, age_s: float = 60, *, now: float = NOW, naive: bool = False, **values) -> dict:
    """A water_latest / ecology_latest row read ``age_s`` before ``now``; tz-aware UTC (chDB) or naive UTC (server)."""
    ts = pd.Timestamp(now - age_s, unit="s", tz="UTC")
    s = STATIONS[station_id]
    out = {"station_id": station_id, "station_type": s.type, "reading_ts": ts.tz_localize(None) if naive else ts}
    if s.family == "water":
        out["interval_s"] = INTERVALS[s.type]
    return {**out, **values}


def feature(station_id: str, age_s: float = 60, *, now: float = NOW, silent_intervals: int = 3,
            timezone: str = "Asia/Shanghai", naive: bool = False, **values) -> dict:
    """The properties of one station's feature from a one-row frame."""
    s = STATIONS[station_id]
    frame = pd.DataFrame([row(station_id, age_s, now=now, naive=naive, **values)])
    water, ecology = (frame, pd.DataFrame()) if s.family == "water" else (pd.DataFrame(), frame)
    collection = station_features([s], water, ecology, now, silent_intervals=silent_intervals, timezone=timezone)
    return collection["features"][0]["properties"]


def judged(props: dict) -> tuple[str, str, int]:
    return props["color"], props["status"], props["rank"]


# --- status rules ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("level, state, expected", [
    (2.61, "over_guarantee", (RED, "超保证", 4)),
    (2.31, "over_warning", (ORANGE, "超警戒", 3)),
    (1.2, "normal", (palette.OK, "正常", 0)),
])
def test_river_is_coloured_by_its_state_against_warning_and_guarantee(level, state, expected):
    assert judged(feature("RV", water_level_m=level, state=state)) == expected


def test_river_line_gives_the_level_with_its_warning_and_guarantee_levels():
    assert "水位 2.31 m（警戒 1.90 / 保证 2.60）" in feature("RV", water_level_m=2.31, state="over_warning")["lines"]


@pytest.mark.parametrize("depth, state, expected", [
    (15.0, "over_alarm", (RED, "积水超警", 4)),
    (0.1, "normal", (YELLOW, "有积水", 2)),
    (0.0, "normal", (palette.OK, "正常", 0)),
])
def test_waterlogging_tells_alarm_from_some_ponding_from_none(depth, state, expected):
    props = feature("WL", ponding_depth_cm=depth, state=state)
    assert judged(props) == expected
    assert f"积水深度 {depth:.1f} cm（报警 15）" in props["lines"]


@pytest.mark.parametrize("pressure, state, expected", [
    (0.139, "low", (ORANGE, "低压", 3)),
    (0.14, "normal", (palette.OK, "正常", 0)),
])
def test_pipe_pressure_below_its_alarm_is_low(pressure, state, expected):
    props = feature("PP", pressure_mpa=pressure, state=state)
    assert judged(props) == expected
    assert f"压力 {pressure:.3f} MPa（低压报警 0.14）" in props["lines"]


@pytest.mark.parametrize("mm_in_an_hour, expected", [
    (50.0, (RED, "极端短时强降水", 4)),
    (49.9, (ORANGE, "短时强降水", 3)),
    (20.0, (ORANGE, "短时强降水", 3)),  # the gauge's alarm_rain_1h_mm
    (19.9, (BLUE, "降雨", 1)),
    (0.1, (BLUE, "降雨", 1)),
    (0.0, (palette.NEUTRAL, "无雨", 0)),
])
def test_rain_is_graded_by_its_hourly_intensity(mm_in_an_hour, expected):
    assert judged(feature("RG", rainfall_mm=mm_in_an_hour, interval_s=3600)) == expected


def test_rain_of_a_five_minute_interval_is_scaled_to_mm_per_hour():
    props = feature("RG", rainfall_mm=2.0)
    assert judged(props) == (ORANGE, "短时强降水", 3)
    assert "雨强 24.0 mm/h（5 分钟 2.0 mm）" in props["lines"]


@pytest.mark.parametrize("station, grade, expected", [
    ("WQ", 1, (palette.WATER_CLASS[1], "Ⅰ类", 0)),
    ("WQ", 3, (palette.WATER_CLASS[3], "Ⅲ类", 0)),
    ("WQ", 4, (palette.WATER_CLASS[4], "Ⅳ类", 0)),  # its target
    ("WQ", 5, (palette.WATER_CLASS[5], "Ⅴ类 超目标", 2)),
    ("WQ", 6, (palette.WATER_CLASS[6], "劣Ⅴ类 超目标", 3)),
    ("WQ2", 3, (palette.WATER_CLASS[3], "Ⅲ类 超目标", 2)),
    ("WQ2", 6, (palette.WATER_CLASS[6], "劣Ⅴ类 超目标", 4)),
])
def test_water_quality_takes_its_class_colour_and_is_ranked_by_how_far_it_misses_the_target(station, grade, expected):
    assert judged(feature(station, water_class=grade)) == expected


def test_water_quality_lines_give_class_target_and_items():
    props = feature("WQ", water_class=5, do_mg_l=6.5, nh3n_mg_l=1.8, ph=7.21, codmn_mg_l=None, tp_mg_l=float("nan"))
    assert props["lines"][3:] == ["水质 Ⅴ类（目标 Ⅳ类）", "溶解氧 6.50 mg/L", "氨氮 1.800 mg/L", "pH 7.21",
                                  "时间 13:59（1 分钟前）"]


@pytest.mark.parametrize("aqi, level", [(0, 1), (50, 1), (51, 2), (100, 2), (101, 3), (150, 3), (151, 4), (200, 4),
                                        (201, 5), (300, 5), (301, 6), (500, 6)])
def test_air_takes_the_hj633_level_colour_of_its_aqi(aqi, level):
    _, _, _, name, colour = LEVELS[level - 1]
    assert judged(feature("AQ", aqi=aqi)) == (colour, f"AQI {aqi} {name}", {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4}[level])


def test_air_lines_name_the_primary_pollutant_and_the_readings():
    props = feature("AQ", aqi=156, pm25=118.4, pm10=160.0, co=0.8, o3=None, primary_pollutants=["pm25"])
    assert props["status"] == "AQI 156 中度污染"
    assert props["lines"][3:7] == ["首要污染物 PM2.5", "PM2.5 118 µg/m³", "PM10 160 µg/m³", "CO 0.8 mg/m³"]


@pytest.mark.parametrize("local_time, db, expected", [
    ("14:00", 60.0, (palette.OK, "正常", 0)),  # at the day limit: within it
    ("14:00", 60.1, (ORANGE, "噪声超标", 3)),
    ("22:00", 55.0, (palette.OK, "正常", 0)),  # covers 21:00–22:00: daytime
    ("23:00", 50.1, (ORANGE, "噪声超标", 3)),
    ("23:00", 50.0, (palette.OK, "正常", 0)),
    ("06:00", 55.0, (ORANGE, "噪声超标", 3)),  # covers 05:00–06:00: night
    ("07:00", 55.0, (palette.OK, "正常", 0)),
])
def test_noise_is_judged_against_the_day_or_night_limit_of_the_hour_it_covers(local_time, db, expected):
    reading = dt.datetime.fromisoformat(f"2026-07-15T{local_time}:00+08:00").timestamp()
    props = feature("NS", 0, now=reading, noise_db=db)
    assert judged(props) == expected
    period, limit = ("昼间", 60) if local_time in ("14:00", "22:00", "07:00") else ("夜间", 50)
    assert f"噪声 {db:.1f} dB(A)（{period}限值 {limit}）" in props["lines"]


@pytest.mark.parametrize("station, values", [
    ("RV", {"water_level_m": None, "state": ""}), ("WL", {"ponding_depth_cm": float("nan")}),
    ("PP", {"pressure_mpa": None}), ("RG", {"rainfall_mm": None}), ("WQ", {"water_class": 0}),
    ("AQ", {"aqi": None}), ("NS", {"noise_db": float("nan")}),
])
def test_a_row_without_its_value_is_neutral(station, values):
    assert judged(feature(station, **values)) == (palette.NEUTRAL, "无读数", 0)


# --- silence and time ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize("station, values, last_heard", [
    ("RV", {"water_level_m": 2.7, "state": "over_guarantee"}, 3 * 300),
    ("WQ", {"water_class": 6}, 3 * 14400),
    ("AQ", {"aqi": 320}, 3 * 3600),
])
def test_a_station_silent_for_three_intervals_is_grey(naive, station, values, last_heard):
    assert not feature(station, last_heard, naive=naive, **values)["silent"]
    props = feature(station, last_heard + 1, naive=naive, **values)
    assert props["silent"] and props["color"] == palette.SILENT and props["rank"] == 0
    clock = pd.Timestamp(NOW - last_heard - 1, unit="s", tz="Asia/Shanghai").strftime("%H:%M")
    assert props["status"] == f"离线（最后 {clock}）"


def test_silent_intervals_is_configurable():
    assert feature("RV", 301, silent_intervals=1, water_level_m=1.0, state="normal")["silent"]
    assert not feature("RV", 1500, silent_intervals=5, water_level_m=1.0, state="normal")["silent"]


def test_a_silent_station_keeps_its_last_readings_and_their_age():
    props = feature("RV", 2 * 3600 + 600, water_level_m=1.2, state="normal")
    assert props["lines"] == ["珠江广州大桥水位站", "水位站 · RV", "状态 离线（最后 11:50）",
                              "水位 1.20 m（警戒 1.90 / 保证 2.60）", "时间 11:50（2 小时前）"]


@pytest.mark.parametrize("age_s, text", [(30, "时间 13:59（刚刚）"), (60, "时间 13:59（1 分钟前）"),
                                         (119 * 60, "时间 12:01（119 分钟前）"), (5 * 3600, "时间 09:00（5 小时前）"),
                                         (15 * 3600, "时间 07-14 23:00（15 小时前）"),
                                         (3 * 86400, "时间 07-12 14:00（3 天前）")])
def test_the_time_line_gives_local_time_and_age_with_the_date_when_not_today(age_s, text):
    assert feature("AQ", age_s, aqi=40)["lines"][-1] == text


def test_times_follow_the_configured_timezone():
    assert feature("AQ", 60, timezone="UTC", aqi=40)["lines"][-1] == "时间 05:59（1 分钟前）"


def test_a_station_without_a_row_has_no_data():
    collection = station_features([STATIONS["RV"], STATIONS["NS"]], pd.DataFrame([row("RV", water_level_m=1.0)]),
                                  pd.DataFrame(), NOW)
    props = collection["features"][0]["properties"]
    assert props == {"id": "NS", "name": "北京路噪声监测点", "family": "ecology", "type": "噪声监测站",
                     "color": palette.SILENT, "status": "无数据", "rank": 0, "silent": True,
                     "lines": ["北京路噪声监测点", "噪声监测站 · NS", "状态 无数据"]}


def test_empty_frames_give_every_station_without_data():
    features = station_features(STATIONS.values(), pd.DataFrame(), pd.DataFrame(), NOW)["features"]
    assert [f["properties"]["status"] for f in features] == ["无数据"] * len(STATIONS)


# --- features ------------------------------------------------------------------------------------------------------

def test_points_are_the_registry_locations_and_severe_stations_come_last():
    water = pd.DataFrame([row("RV", water_level_m=2.7, state="over_guarantee"), row("PP", 4000, pressure_mpa=0.3),
                          row("WL", ponding_depth_cm=0.0, state="normal")])
    ecology = pd.DataFrame([row("AQ", aqi=120), row("NS", noise_db=40.0)])
    features = station_features([STATIONS[i] for i in ("RV", "PP", "WL", "AQ", "NS")], water, ecology, NOW)
    assert [(f["properties"]["id"], f["properties"]["rank"]) for f in features["features"]] == [
        ("PP", 0), ("WL", 0), ("NS", 0), ("AQ", 2), ("RV", 4)]
    assert features["features"][-1]["geometry"] == {"type": "Point", "coordinates": [113.317086, 23.105567]}


def test_markup_in_a_name_stays_text_in_the_tooltip_lines():
    name = '<img src=x onerror="alert(1)">站 & <b>'
    station = Station("NS", name, "noise", "ecology", "440104", 113.27, 23.125, STATIONS["NS"].attrs)
    ecology = pd.DataFrame([row("NS", noise_db=52.0)])
    props = station_features([station], pd.DataFrame(), ecology, NOW)["features"][0]["properties"]
    assert props["name"] == name and props["lines"][0] == name
    assert all(isinstance(line, str) for line in props["lines"])


def test_legend_has_one_row_per_status_colour_most_severe_first():
    items = legend_items()
    colours = [colour for colour, _ in items]
    assert len(colours) == len(set(colours))
    assert set(colours) == {RED, ORANGE, YELLOW, BLUE, palette.OK, palette.NEUTRAL, palette.SILENT,
                            *palette.WATER_CLASS.values(), *(level[4] for level in LEVELS)}
    assert items[0] == (RED, "超保证 · 积水超警 · 极端短时强降水 · 水质劣Ⅴ类")
    assert (palette.SILENT, "离线 / 无数据") in items and (LEVELS[3][4], "AQI 中度污染") in items


def test_station_layer_starts_empty_and_draws_with_station_point():
    layer = station_layer("wall")
    assert layer.id == "wall-stations"
    assert layer.data == {"type": "FeatureCollection", "features": []}
    assert layer.pointToLayer == {"variable": "cockpit.stationPoint"}


# --- from the warehouse --------------------------------------------------------------------------------------------

def test_features_from_the_latest_readings_in_the_warehouse(warehouse):
    now = int(time.time())
    registry = load_stations()

    def event(station_id: str, age_s: int, readings: dict) -> dict:
        s = registry[station_id]
        ts = dt.datetime.fromtimestamp(now - age_s, dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")
        e = {"event_id": f"{station_id}.{now - age_s}", "schema": f"{s.family}.v1", "ts": ts,
             "district_code": s.district_code, "station_id": station_id, "station_type": s.type, "readings": readings}
        return {**e, "interval_s": 14400 if s.type == "water_quality" else 300} if s.family == "water" else {
            **e, "averaging": "1h"}

    events = [event("GZ-RV-001", 900, {"water_level_m": 1.5}), event("GZ-RV-001", 120, {"water_level_m": 2.31}),
              event("GZ-RV-002", 7200, {"water_level_m": 2.7}), event("GZ-RG-001", 120, {"rainfall_mm": 2.0}),
              event("GZ-PP-002", 120, {"pressure_mpa": 0.1}), event("GZ-WL-001", 120, {"ponding_depth_cm": 20.0}),
              event("GZ-WQ-001", 600, {"do_mg_l": 6.5, "codmn_mg_l": 3.0, "nh3n_mg_l": 1.8, "tp_mg_l": 0.15}),
              event("GZ-AQ-001", 120, {"pm25": 120.0, "pm10": 150.0}), event("GZ-NS-001", 120, {"noise_db": 75.0})]
    assert store_events(warehouse, make_decoder(load(environ={})), events) == len(events)

    water = run(warehouse, water_latest(now - 86400, now))
    ecology = run(warehouse, ecology_latest(now - 86400, now))
    features = station_features(registry, water, ecology, now)["features"]
    by_id = {f["properties"]["id"]: f["properties"] for f in features}
    assert len(by_id) == len(registry)
    assert judged(by_id["GZ-RV-001"]) == (ORANGE, "超警戒", 3)
    assert "水位 2.31 m（警戒 1.90 / 保证 2.60）" in by_id["GZ-RV-001"]["lines"]
    assert by_id["GZ-RV-002"]["silent"] and by_id["GZ-RV-002"]["status"].startswith("离线（最后 ")
    assert judged(by_id["GZ-RG-001"]) == (ORANGE, "短时强降水", 3)
    assert judged(by_id["GZ-PP-002"]) == (ORANGE, "低压", 3)
    assert judged(by_id["GZ-WL-001"]) == (RED, "积水超警", 4)
    assert judged(by_id["GZ-WQ-001"]) == (palette.WATER_CLASS[5], "Ⅴ类 超目标", 2)
    assert judged(by_id["GZ-AQ-001"]) == (LEVELS[3][4], "AQI 158 中度污染", 3)
    assert "首要污染物 PM2.5" in by_id["GZ-AQ-001"]["lines"]
    assert judged(by_id["GZ-NS-001"]) == (ORANGE, "噪声超标", 3)
    assert by_id["GZ-RV-003"]["status"] == "无数据"


# --- in the browser (a stub app with only the station layer) --------------------------------------------------------

@pytest.fixture
def stub_map():
    """``serve(features)`` → the URL of a page showing only a map with the station layer holding ``features``."""
    servers = []

    def serve(features: dict) -> str:
        app = dash.Dash(__name__, assets_folder=str(Path(__file__).resolve().parents[2] / "assets"))
        layer = station_layer("stub")
        layer.data = features
        pane = dl.Pane(name="pointPane")  # as layers.city_map composes it: stationPoint draws circles there
        app.layout = dl.Map([pane, layer], center=[23.13, 113.29], zoom=12, style={"height": "600px"})
        server = make_server("127.0.0.1", free_port(), app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield serve
    for server in servers:
        server.shutdown()


def test_browser_draws_water_circles_ecology_squares_and_text_tooltips(stub_map, chromium):
    hostile = '<img src=x onerror="document.body.dataset.pwned=1">站'
    stations = [Station("RV", hostile, "river_gauge", "water", "440105", 113.317086, 23.105567,
                        STATIONS["RV"].attrs), STATIONS["PP"], STATIONS["AQ"]]
    water = pd.DataFrame([row("RV", water_level_m=2.31, state="over_warning")])
    ecology = pd.DataFrame([row("AQ", aqi=156)])
    collection = station_features(stations, water, ecology, NOW)
    page = chromium.new_page(viewport={"width": 1000, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stub_map(collection))
    page.wait_for_selector(".station-square", timeout=30000)

    circles = page.locator("path.leaflet-interactive")
    assert circles.count() == 2 and page.locator(".station-square").count() == 1
    dashes = sorted(str(circles.nth(i).get_attribute("stroke-dasharray")) for i in range(2))
    assert dashes == ["3 2", "None"]  # the silent pressure point (no data) only
    circles.nth(1).hover()  # the river gauge, drawn last as the most severe
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=5000)
    river = next(f for f in collection["features"] if f["properties"]["id"] == "RV")
    assert tooltip.locator("div > div").all_text_contents() == river["properties"]["lines"]
    assert tooltip.locator("img").count() == 0 and page.evaluate("document.body.dataset.pwned") is None
    page.locator(".station-square").hover()
    page.wait_for_function("() => document.querySelector('.leaflet-tooltip').textContent.includes('AQI 156 中度污染')",
                           timeout=5000)
    assert errors == []
    page.close()
