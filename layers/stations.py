"""Station layer (站点): one point per registry station, coloured by its newest reading.

Input: the registry and the results of ``warehouse.map_queries.water_latest`` / ``ecology_latest``. Each station
type has a judge turning its reading into (colour, status, rank) and the reading lines of its tooltip. ``rank`` is
the severity of ``palette.SEVERITY`` (4 red … 1 blue, 0 normal): threshold statuses take that rank's colour, air
takes HJ 633's level colours and water quality GB 3838's class colours. A station with no reading, or whose newest
one is older than ``silent_intervals`` of its intervals, is grey whatever it read. Points are the registry's
locations (GCJ-02, the CRS of the district polygons). Texts are plain strings: assets/stations_map.js sets them as
text, never as HTML.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import dash_leaflet as dl
import pandas as pd

from domain.aqi import LEVELS, level_of
from domain.stations import Station
from domain.times import aware, clock
from domain.water_quality import LABELS
from layers import palette

Status = tuple[str, str, int]  # colour, label, rank
Row = dict[str, Any]

RED, ORANGE, YELLOW, BLUE = (palette.SEVERITY[rank][0] for rank in (4, 3, 2, 1))
INTERVAL_S = {"water": 300, "ecology": 3600}  # when a row names none: water.v1's default; ecology is hourly
EXTREME_RAIN_MM_H = 50  # 极端短时强降水; 短时强降水 starts at each gauge's alarm_rain_1h_mm (20 mm/h)
DAYTIME = (6, 22)  # GB 3096: 昼间 06:00–22:00 local, 夜间 the rest

TYPE_LABELS = {"river_gauge": "水位站", "rain_gauge": "雨量站", "pipe_pressure": "管网测压点",
               "water_quality": "水质站", "waterlogging": "积水监测点", "air": "空气质量站", "noise": "噪声监测站"}
RIVER = {"over_guarantee": (RED, "超保证", 4), "over_warning": (ORANGE, "超警戒", 3), "normal": (palette.OK, "正常", 0)}
PONDING = {"over_alarm": (RED, "积水超警", 4), "ponding": (YELLOW, "有积水", 2), "dry": (palette.OK, "正常", 0)}
PRESSURE = {"low": (ORANGE, "低压", 3), "normal": (palette.OK, "正常", 0)}
RAIN = {"extreme": (RED, "极端短时强降水", 4), "heavy": (ORANGE, "短时强降水", 3), "rain": (BLUE, "降雨", 1),
        "none": (palette.NEUTRAL, "无雨", 0)}
NOISE = {True: (ORANGE, "噪声超标", 3), False: (palette.OK, "正常", 0)}
AQI_RANK = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4}  # HJ 633 level → severity rank
NO_VALUE: Status = (palette.NEUTRAL, "无读数", 0)  # a row without the type's value
NO_DATA: Status = (palette.SILENT, "无数据", 0)
# column → (Chinese name, unit, decimals) of the readings listed as they are
METRICS = {"do_mg_l": ("溶解氧", "mg/L", 2), "codmn_mg_l": ("高锰酸盐指数", "mg/L", 1), "nh3n_mg_l": ("氨氮", "mg/L", 3),
           "tp_mg_l": ("总磷", "mg/L", 3), "ph": ("pH", "", 2), "turbidity_ntu": ("浊度", "NTU", 1),
           "pm25": ("PM2.5", "µg/m³", 0), "pm10": ("PM10", "µg/m³", 0), "o3": ("O₃", "µg/m³", 0),
           "no2": ("NO₂", "µg/m³", 0), "so2": ("SO₂", "µg/m³", 0), "co": ("CO", "mg/m³", 1)}
QUALITY_ITEMS = ("do_mg_l", "codmn_mg_l", "nh3n_mg_l", "tp_mg_l", "ph", "turbidity_ntu")
POLLUTANTS = ("pm25", "pm10", "o3", "no2", "so2", "co")


def _value(row: Row, column: str) -> float | None:
    value = row.get(column)
    return None if value is None or pd.isna(value) else float(value)


def _metric_lines(row: Row, columns: Iterable[str]) -> list[str]:
    lines = []
    for column in columns:
        value = _value(row, column)
        if value is not None:
            name, unit, decimals = METRICS[column]
            lines.append(f"{name} {value:.{decimals}f} {unit}".rstrip())
    return lines


# ---- judges: (station, row, local reading time) → status, reading lines -------------------------------------------

def _river(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    level = _value(row, "water_level_m")
    if level is None:
        return NO_VALUE, []
    a = s.attrs
    return RIVER.get(row.get("state"), NO_VALUE), [
        f"水位 {level:.2f} m（警戒 {a['warning_level_m']:.2f} / 保证 {a['guarantee_level_m']:.2f}）"]


def _waterlogging(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    depth = _value(row, "ponding_depth_cm")
    if depth is None:
        return NO_VALUE, []
    key = "over_alarm" if row.get("state") == "over_alarm" else "ponding" if depth > 0 else "dry"
    return PONDING[key], [f"积水深度 {depth:.1f} cm（报警 {s.attrs['ponding_alarm_cm']:g}）"]


def _pressure(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    pressure = _value(row, "pressure_mpa")
    if pressure is None:
        return NO_VALUE, []
    return PRESSURE["low" if row.get("state") == "low" else "normal"], [
        f"压力 {pressure:.3f} MPa（低压报警 {s.attrs['low_pressure_mpa']:g}）"]


def _rain(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    mm = _value(row, "rainfall_mm")
    if mm is None:
        return NO_VALUE, []
    interval = _interval(row, s.family)
    rate = mm * 3600 / interval
    key = ("extreme" if rate >= EXTREME_RAIN_MM_H else "heavy" if rate >= s.attrs["alarm_rain_1h_mm"]
           else "rain" if rate > 0 else "none")
    return RAIN[key], [f"雨强 {rate:.1f} mm/h（{interval / 60:g} 分钟 {mm:.1f} mm）"]


def _quality(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    grade = int(_value(row, "water_class") or 0)
    if grade not in palette.WATER_CLASS:
        return NO_VALUE, _metric_lines(row, QUALITY_ITEMS)
    target = s.attrs["target_class"]
    over = grade - target
    status = (palette.WATER_CLASS[grade], LABELS[grade] + (" 超目标" if over > 0 else ""),
              min(4, over + 1) if over > 0 else 0)
    return status, [f"水质 {LABELS[grade]}（目标 {LABELS[target]}）", *_metric_lines(row, QUALITY_ITEMS)]


def _air(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    aqi = _value(row, "aqi")
    lines = _metric_lines(row, POLLUTANTS)
    if aqi is None:
        return NO_VALUE, lines
    level, _, name, colour = level_of(int(aqi))
    primary = row.get("primary_pollutants")
    primary = [] if primary is None or isinstance(primary, float) else [METRICS[p][0] for p in primary]
    if primary:
        lines.insert(0, f"首要污染物 {'、'.join(primary)}")
    return (colour, f"AQI {aqi:.0f} {name}", AQI_RANK[level]), lines


def _noise(s: Station, row: Row, at: pd.Timestamp) -> tuple[Status, list[str]]:
    db = _value(row, "noise_db")
    if db is None:
        return NO_VALUE, []
    middle = at - pd.Timedelta(seconds=_interval(row, s.family) / 2)  # a reading covers the interval ending at it
    period, limit = (("昼间", s.attrs["day_limit_db"]) if DAYTIME[0] <= middle.hour < DAYTIME[1]
                     else ("夜间", s.attrs["night_limit_db"]))
    return NOISE[db > limit], [f"噪声 {db:.1f} dB(A)（{period}限值 {limit:g}）"]


JUDGES: dict[str, Callable[[Station, Row, pd.Timestamp], tuple[Status, list[str]]]] = {
    "river_gauge": _river, "waterlogging": _waterlogging, "pipe_pressure": _pressure, "rain_gauge": _rain,
    "water_quality": _quality, "air": _air, "noise": _noise}


def _interval(row: Row, family: str) -> float:
    return _value(row, "interval_s") or INTERVAL_S[family]


def _age(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "刚刚"
    if minutes < 120:
        return f"{minutes} 分钟前"
    return f"{minutes // 60} 小时前" if minutes < 48 * 60 else f"{minutes // 1440} 天前"


def _rows(frame: pd.DataFrame) -> dict[str, Row]:
    return {} if frame.empty else {row["station_id"]: row for row in frame.to_dict("records")}


def _feature(s: Station, row: Row | None, now: pd.Timestamp, silent_intervals: int, tz: str) -> dict:
    lines = [s.name, f"{TYPE_LABELS[s.type]} · {s.id}"]
    (colour, status, rank), silent = NO_DATA, True
    if row is not None:
        ts = aware(pd.Timestamp(row["reading_ts"]))  # the server returns naive UTC
        at = ts.tz_convert(tz)
        (colour, status, rank), readings = JUDGES[s.type](s, row, at)
        age = (now - ts).total_seconds()
        silent = age > silent_intervals * _interval(row, s.family)
        seen = clock(ts, tz, now)
        if silent:
            colour, status, rank = palette.SILENT, f"离线（最后 {seen}）", 0
        lines += readings + [f"时间 {seen}（{_age(age)}）"]
    lines.insert(2, f"状态 {status}")
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {"id": s.id, "name": s.name, "family": s.family, "type": TYPE_LABELS[s.type],
                           "color": colour, "status": status, "rank": rank, "silent": silent, "lines": lines}}


def station_features(stations: Iterable[Station], water: pd.DataFrame, ecology: pd.DataFrame, now: float, *,
                     silent_intervals: int = 3, timezone: str = "Asia/Shanghai") -> dict:
    """A GeoJSON FeatureCollection of every station judged by its newest row in ``water`` / ``ecology``
    (``now``: Unix seconds). Silent stations come first and the most severe last, so that they are drawn on top."""
    rows = {"water": _rows(water), "ecology": _rows(ecology)}
    moment = pd.Timestamp(now, unit="s", tz="UTC")
    features = [_feature(s, rows[s.family].get(s.id), moment, silent_intervals, timezone) for s in stations]
    features.sort(key=lambda f: (not f["properties"]["silent"], f["properties"]["rank"]))
    return {"type": "FeatureCollection", "features": features}


def legend_items() -> list[tuple[str, str]]:
    """(colour, labels) for every status colour, most severe first; statuses sharing a colour share a row."""
    thresholds = sorted([*RIVER.values(), *PONDING.values(), *PRESSURE.values(), *RAIN.values(), *NOISE.values()],
                        key=lambda status: -status[2])
    statuses = [*thresholds, *((colour, f"水质{LABELS[grade]}") for grade, colour in palette.WATER_CLASS.items()),
                *((row[4], f"AQI {row[3]}") for row in LEVELS), NO_VALUE, (palette.SILENT, "离线 / 无数据")]
    merged: dict[str, list[str]] = {}
    for colour, label, *_ in statuses:
        labels = merged.setdefault(colour, [])
        if label not in labels:
            labels.append(label)
    return [(colour, " · ".join(labels)) for colour, labels in merged.items()]


def station_layer(prefix: str) -> dl.GeoJSON:
    """The (empty) station layer, drawn by ``cockpit.stationPoint``; a callback fills ``data``."""
    return dl.GeoJSON(id=f"{prefix}-stations", data={"type": "FeatureCollection", "features": []},
                      pointToLayer={"variable": "cockpit.stationPoint"})
