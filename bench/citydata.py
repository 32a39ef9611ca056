"""The filled city of the benchmarks: 10M work-order events and 50M sensor readings generated inside chDB.

A chDB database is filled inside chDB by
``INSERT … SELECT`` from ``numbers()`` — generating 60M rows in Python would take longer than everything else:

- ``hotline_events``: ``--orders`` work-order events, the lifecycle of ``streams/simulator.py`` (received →
  dispatched → accepted → processing → completed → visited, 4 % reopened) of orders received over the last five
  weeks with the simulator's daily shape, district weights, categories, departments, channels and deadlines; events
  after now are not there yet, so recent orders are still open and a few are past their deadline;
- ``emergency_events``: ~150 incidents a day of the simulator's types and grades;
- ``water_readings`` / ``ecology_readings``: ``--readings`` readings (nine tenths water) of the 123 stations of
  ``config/stations.yaml`` over the same five weeks, each type at its real interval divided by one factor (so every
  5-minute station reports every few seconds: the volume of a city with ~60 times the stations);

and "what is going on now", so that the cycle opens alerts of every rule: two rivers over their warning level (one
over its guarantee level), two streets flooded, a pipe at low pressure, two river sections worse than class Ⅴ,
two air stations heavily polluted, a surge of drainage orders in 天河, two major incidents and three not
dispatched. The readings' rollup views (sensor_minute / sensor_hour, which no rule reads) are dropped for the fill
unless ``--rollups``: they would triple its time. The tables are then merged (``OPTIMIZE … FINAL``) so that no
background merge runs during the timings.
"""
from __future__ import annotations

import math
import random
import time
from itertools import accumulate

import h3
import numpy as np

from config.stations import load_stations
from domain.contract import ECOLOGY_METRICS, WATER_METRICS
from domain.coords import gcj02_to_wgs84, to_wgs84_and_gcj02_many
from domain.districts import DistrictIndex
from simulator.hotline import (
    CATEGORIES,
    CHANNELS,
    DISTRICT_WEIGHT,
    HOURLY,
    random_point,
)
from simulator.incidents import BACKGROUND, GRADE, LEVELS, TYPES
from warehouse import connect, queries
from warehouse.migrations import H3_RESOLUTION, migrate
from warehouse.sql import placeholders

MINUTE, HOUR, DAY = 60, 3600, 86400
SPAN = 35 * DAY  # five weeks: the surge rule reads the same hour of the previous four
INTERVAL_S = {"rain_gauge": 300, "river_gauge": 300, "waterlogging": 300, "pipe_pressure": 300,
              "water_quality": 4 * HOUR, "air": HOUR, "noise": HOUR}  # as streams/sim_sensors.py
POINTS = 256  # places per district that orders and incidents happen at
STATUSES = ("received", "dispatched", "accepted", "processing", "completed", "visited", "reopened", "processing",
            "completed")
INCIDENT_STATUSES = ("reported", "dispatched", "on_scene", "contained", "closed")
# Now in the filled city, per station type: station (index in the registry's order of its type) →
# (seconds before now, value of the watched metric); the rules of config/alerts.yaml fire on them.
NOW = {"river_gauge": {2: (3 * HOUR, "over_warning"), 11: (2 * HOUR, "over_guarantee")},
       "waterlogging": {0: (40 * MINUTE, 22.0), 5: (25 * MINUTE, 18.0)},
       "pipe_pressure": {2: (45 * MINUTE, 0.12)},
       "water_quality": {0: (6 * HOUR, 2.6), 3: (6 * HOUR, 2.4)},  # NH3-N mg/L: worse than class Ⅴ
       "air": {0: (3 * HOUR, 135.0), 6: (3 * HOUR, 128.0)}}  # PM2.5 µg/m³: AQI ~170–180
SURGE = ("440106", "水电气", 40)  # extra drainage orders in the last hour
STAGED_INCIDENTS = ((2 * HOUR, "I", "fire", 3), (5 * HOUR, "II", "hazmat", 3),  # (age, grade, type, steps so far)
                    (20 * MINUTE, "IV", "traffic", 1), (32 * MINUTE, "III", "other", 1), (41 * MINUTE, "IV", "crowd", 1))
NH3N = (0.15, 0.5, 1.0, 1.5, 2.0)  # GB 3838 class limits (mg/L), as in DOMAIN.md
CODMN = (2.0, 4.0, 6.0, 10.0, 15.0)
DO = (7.5, 6.0, 5.0, 3.0, 2.0)
TP = {"river": (0.02, 0.1, 0.2, 0.3, 0.4), "lake": (0.01, 0.025, 0.05, 0.1, 0.2)}
PM25_2026 = ((0, 0), (35, 50), (60, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500))


def u(salt: int, key: str = "o") -> str:
    """A uniform draw in (0, 1) fixed by key and salt: every row made from one order sees the same draws."""
    return f"((sipHash64({key}, {salt}) % 1000000 + 0.5) / 1000000)"


def z(salt: int, key: str = "o") -> str:
    """A standard normal draw (Box–Muller)."""
    return f"(sqrt(-2 * log({u(salt, key)})) * cos(2 * pi() * {u(salt + 1, key)}))"


def pick(salt: int, cum: str, key: str = "o") -> str:
    """A 1-based index drawn with the cumulative weights of the Array(Float64) parameter ``cum``."""
    weights = f"{{{cum}:Array(Float64)}}"
    return f"arrayFirstIndex(c -> c > {u(salt, key)} * arrayElement({weights}, -1), {weights})"


def places(districts: DistrictIndex) -> dict[str, list]:
    """POINTS random places per district — map (GCJ-02) and WGS-84 coordinates and the H3 cell — as flat
    parameters: place ``pt`` of district ``d`` at ``(d - 1) * POINTS + pt`` (a nested constant array would be
    copied for every row)."""
    r = random.Random(7)
    out: dict[str, list] = {"map_lon": [], "map_lat": [], "lon": [], "lat": [], "h3": []}
    for geom in districts.geometries:
        gcj = np.array([random_point(r, geom) for _ in range(POINTS)])
        wlon, wlat, _, _ = to_wgs84_and_gcj02_many(gcj[:, 0], gcj[:, 1], np.full(POINTS, "GCJ02"))
        out["map_lon"] += gcj[:, 0].tolist()
        out["map_lat"] += gcj[:, 1].tolist()
        out["lon"] += wlon.round(6).tolist()
        out["lat"] += wlat.round(6).tolist()
        out["h3"] += [h3.str_to_int(h3.latlng_to_cell(y, x, H3_RESOLUTION)) for x, y in zip(wlon, wlat)]
    return out


PLACE = ", ".join(f"{{{c}:Array({t})}}[place]"  # the place columns of an event at place number ``place``
                  for c, t in (("lon", "Float64"), ("lat", "Float64"), ("map_lon", "Float64"), ("map_lat", "Float64"),
                               ("h3", "UInt64")))


def used(sql: str, params: dict) -> tuple[str, dict]:
    """The query with only the parameters it names (a type's physics uses some of the arrays)."""
    return sql, {k: v for k, v in params.items() if k in placeholders(sql)}


def hotline_fill(rows: int, now: int, districts: DistrictIndex) -> tuple[str, dict]:
    """``rows`` work-order events: orders drawn per number, their steps ARRAY JOINed, the future cut off."""
    cats = list(CATEGORIES)
    hourly = [f / max(HOURLY) for f in HOURLY]
    events_per_order = 6 * 0.95 * sum(hourly) / 24  # steps per order × share not in the future × daily shape
    p = {"now": now, "span": SPAN, "rows": rows, "candidates": int(rows / events_per_order * 1.3) + 1000,
         "accept": hourly, "surge": SURGE[2], "surge_district": districts.codes.index(SURGE[0]) + 1,
         "surge_category": cats.index(SURGE[1]) + 1,
         "codes": districts.codes, "names": [districts.names[c] for c in districts.codes],
         "dweights": list(accumulate(DISTRICT_WEIGHT.get(c, 1.0) for c in districts.codes)),
         "cats": cats, "cweights": list(accumulate(CATEGORIES[c][0] for c in cats)),
         "departments": [CATEGORIES[c][1] for c in cats],
         "subs": [s for c in cats for s, _ in CATEGORIES[c][2]], "texts": [t for c in cats for _, t in CATEGORIES[c][2]],
         "sub_count": [len(CATEGORIES[c][2]) for c in cats],
         "first_sub": list(accumulate((len(CATEGORIES[c][2]) for c in cats[:-1]), initial=1)),
         "channels": [c for c, _ in CHANNELS], "chweights": list(accumulate(w for _, w in CHANNELS)),
         "statuses": list(STATUSES), **places(districts)}
    sql = f"""
INSERT INTO hotline_events (event_id, order_id, ts, status, category, subcategory, channel, urgency, district_code,
    lon, lat, map_lon, map_lat, h3, department, deadline, content, satisfaction, resolved, extra, topic, partition,
    offset, ingested_at)
SELECT concat(order_id, '.', toString(step)), order_id, toDateTime(t, 'UTC'), status, {{cats:Array(String)}}[c],
       if(surging, '道路积水', {{subs:Array(String)}}[sub]), {{channels:Array(String)}}[ch],
       if(urgent, 'urgent', 'normal'), {{codes:Array(String)}}[d],
       {PLACE}, if(status = 'received', '', {{departments:Array(String)}}[c]),
       if(status = 'dispatched', toDateTime(deadline_s, 'UTC'), NULL),
       if(status = 'received', concat({{names:Array(String)}}[d], '：',
          if(surging, '暴雨后路面积水严重，车辆行人无法通行', {{texts:Array(String)}}[sub])), ''),
       if(status = 'visited', satisfaction, ''), if(status = 'visited', toUInt8(resolved), NULL),
       '', 'city.hotline', toUInt16(o % 3), o * 9 + step, toDateTime(t + 2, 'UTC')
FROM (
    SELECT number AS o, o < {{surge:UInt64}} AS surging,
           if(surging, {{now:UInt32}} - 60 - sipHash64(o, 1) % 3200, {{now:UInt32}} - sipHash64(o, 1) % {{span:UInt32}})
               AS received,
           {u(3)} < 0.06 AS urgent,
           if(surging, {{surge_category:UInt8}}, {pick(4, 'cweights')}) AS c,
           if(surging, {{surge_district:UInt8}}, {pick(5, 'dweights')}) AS d,
           {pick(6, 'chweights')} AS ch,
           {{first_sub:Array(UInt32)}}[c] + sipHash64(o, 7) % {{sub_count:Array(UInt32)}}[c] AS sub,
           (d - 1) * {POINTS} + 1 + sipHash64(o, 8) % {POINTS} AS place,
           concat('WO', formatDateTime(toDateTime(received, 'Asia/Shanghai'), '%Y%m%d'), leftPad(hex(o), 10, '0'))
               AS order_id,
           if(urgent, {DAY}, 5 * {DAY}) AS limit_s,
           received + (2 + {u(9)} * if(urgent, 8, 43)) * 60 AS dispatched,
           dispatched + limit_s AS deadline_s,
           dispatched + exp(if(urgent, -1.5, 0.8) + 0.8 * {z(10)}) * {HOUR} AS accepted,
           accepted + (0.2 + 1.8 * {u(12)}) * {HOUR} AS processing,
           greatest(dispatched + limit_s * least(exp(-1.3 + 0.6 * {z(13)}), 1.6), processing + 0.2 * {HOUR}) AS completed,
           completed + (2 + 28 * {u(15)}) * {HOUR} AS visited,
           visited + (1 + 5 * {u(16)}) * {HOUR} AS again,
           {u(17)} + if(visited - deadline_s > -{HOUR}, 0.25, 0) AS mood,
           multiIf(mood < 0.74, 'satisfied', mood < 0.9, 'basically_satisfied', 'dissatisfied') AS satisfaction,
           satisfaction != 'dissatisfied' OR {u(18)} < 0.3 AS resolved,
           if({u(19)} < 0.04, 9, 6) AS steps,
           arraySlice([toUInt32(received), toUInt32(dispatched), toUInt32(accepted), toUInt32(processing),
                       toUInt32(completed), toUInt32(visited), toUInt32(again),
                       toUInt32(again + (1 + 2 * {u(20)}) * {HOUR}), toUInt32(again + (6 + 42 * {u(21)}) * {HOUR})],
                      1, steps) AS times
    FROM numbers({{candidates:UInt64}})
    WHERE surging OR {u(2)} < {{accept:Array(Float64)}}[toHour(toDateTime(received), 'Asia/Shanghai') + 1]
)
ARRAY JOIN times AS t, arraySlice({{statuses:Array(String)}}, 1, steps) AS status, arrayEnumerate(times) AS step
WHERE t <= {{now:UInt32}}
LIMIT {{rows:UInt64}}"""
    return used(sql, p)


def incidents_fill(now: int, districts: DistrictIndex, per_day: int = 150) -> tuple[str, dict]:
    """Incidents over the span (grades and types as the simulator draws them) and the staged ones: the first
    numbers are STAGED_INCIDENTS, reported ``age`` ago and ``steps`` statuses along."""
    grades = [g for g, _ in LEVELS]
    staged = [(age, grades.index(g) + 1, list(TYPES).index(k) + 1, n) for age, g, k, n in STAGED_INCIDENTS]
    p = {"now": now, "span": SPAN, "n": per_day * SPAN // DAY, "staged": len(staged),
         "ages": [s[0] for s in staged], "sgrades": [s[1] for s in staged], "skinds": [s[2] for s in staged],
         "ssteps": [s[3] for s in staged],
         "types": list(TYPES), "kweights": list(accumulate(float(BACKGROUND.get(k, (0,))[0]) for k in TYPES)),
         "grades": grades, "gweights": list(accumulate(float(w) for _, w in LEVELS)),
         "dispatch": [float(GRADE[g].dispatch_minutes) for g in grades],
         "factor": [GRADE[g].duration_factor for g in grades],
         "hours": [TYPES[k].work_hours for k in TYPES], "texts": [list(TYPES[k].texts) for k in TYPES],
         "units": [list(TYPES[k].units) for k in TYPES], "codes": districts.codes,
         "names": [districts.names[c] for c in districts.codes],
         "dweights": list(accumulate(DISTRICT_WEIGHT.get(c, 1.0) for c in districts.codes)),
         "statuses": list(INCIDENT_STATUSES), **places(districts)}
    sql = f"""
INSERT INTO emergency_events (event_id, incident_id, ts, type, level, status, casualties, units, description,
    district_code, lon, lat, map_lon, map_lat, h3, extra, topic, partition, offset, ingested_at)
SELECT concat(incident_id, '.', toString(step)), incident_id, toDateTime(t, 'UTC'), {{types:Array(String)}}[k],
       {{grades:Array(String)}}[g], status, if(step >= 3, toUInt32(sipHash64(o, 9) % 3), NULL),
       if(status = 'reported', [], arrayMap(x -> replaceAll(x, '{{d}}', {{names:Array(String)}}[d]),
                                            arraySlice({{units:Array(Array(String))}}[k], 1, least(step, 3)))),
       concat({{names:Array(String)}}[d], '：', arrayElement({{texts:Array(Array(String))}}[k],
                                                       1 + sipHash64(o, 8) % length({{texts:Array(Array(String))}}[k]))),
       {{codes:Array(String)}}[d], {PLACE}, '', 'city.emergency', toUInt16(o % 3), o * 5 + step, toDateTime(t + 2, 'UTC')
FROM (
    SELECT number AS o, o < {{staged:UInt64}} AS is_staged,
           if(is_staged, {{now:UInt32}} - {{ages:Array(UInt32)}}[o + 1], {{now:UInt32}} - sipHash64(o, 1) % {{span:UInt32}})
               AS reported,
           if(is_staged, {{skinds:Array(UInt8)}}[o + 1], {pick(2, 'kweights')}) AS k,
           if(is_staged, {{sgrades:Array(UInt8)}}[o + 1], {pick(3, 'gweights')}) AS g,
           {pick(4, 'dweights')} AS d,
           (d - 1) * {POINTS} + 1 + sipHash64(o, 5) % {POINTS} AS place,
           concat('EM', formatDateTime(toDateTime(reported, 'Asia/Shanghai'), '%Y%m%d'), leftPad(hex(o), 10, '0'))
               AS incident_id,
           reported + if(g >= 3 AND {u(6)} < 0.03, 30 + 60 * {u(7)},
                         least(exp(log({{dispatch:Array(Float64)}}[g]) + 0.5 * {z(10)}), 25)) * 60 AS dispatched,
           dispatched + least(exp(log(15) + 0.5 * {z(12)}), 120) * 60 AS on_scene,
           on_scene + least(greatest({{hours:Array(Float64)}}[k] * {{factor:Array(Float64)}}[g] * exp(0.6 * {z(14)}), 0.2),
                            24) * {HOUR} AS contained,
           contained + least((0.3 + 1.7 * {u(16)}) * {{factor:Array(Float64)}}[g], 12) * {HOUR} AS closed,
           arraySlice([toUInt32(reported), toUInt32(dispatched), toUInt32(on_scene), toUInt32(contained),
                       toUInt32(closed)], 1, if(is_staged, {{ssteps:Array(UInt8)}}[o + 1], 5)) AS times
    FROM numbers({{n:UInt64}} + {{staged:UInt64}})
)
ARRAY JOIN times AS t, arraySlice({{statuses:Array(String)}}, 1, length(times)) AS status, arrayEnumerate(times) AS step
WHERE t <= {{now:UInt32}}"""
    return used(sql, p)


def split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """``total`` split by weight, exactly (the last one takes the rounding)."""
    out, left = {}, total
    for i, (name, w) in enumerate(weights.items()):
        out[name] = left if i == len(weights) - 1 else round(total * w / sum(weights.values()))
        left -= out[name]
    return out


def readings_fill(station_type: str, stations: list, rows: int, now: int) -> tuple[str, dict]:
    """``rows`` readings of the stations of one type, evenly spaced over the span back from now (reading i of
    station s at ``now − ⌊i · span / per_station⌋``), with the type's physics and NOW's alarms."""
    n, per_station, family, alarm = len(stations), math.ceil(rows / len(stations)), stations[0].family, NOW.get(station_type, {})
    wgs = [gcj02_to_wgs84(s.lon, s.lat) for s in stations]
    p = {"now": now, "span": SPAN, "rows": rows, "n": n, "per": per_station, "type": station_type,
         "ids": [s.id for s in stations], "codes": [s.district_code for s in stations],
         "lon": [round(x, 6) for x, _ in wgs], "lat": [round(y, 6) for _, y in wgs],
         "map_lon": [s.lon for s in stations], "map_lat": [s.lat for s in stations],
         "alarm_for": [alarm.get(i, (0, 0))[0] for i in range(n)],
         "alarm": [float(alarm[i][1]) if i in alarm and not isinstance(alarm[i][1], str) else 0.0 for i in range(n)]}
    hour = "(toHour(toDateTime(ts_s), 'Asia/Shanghai') + toMinute(toDateTime(ts_s)) / 60)"
    alarming = "age < {alarm_for:Array(UInt32)}[s]"

    def noise(salt: int) -> str:  # in (-1, 1), per reading
        return f"(2 * {u(salt, 'number')} - 1)"

    values: dict[str, str] = {}  # metric → its value
    derived = {"water_class": "toUInt8(0)", "state": "''"} if family == "water" else {
        "aqi": "CAST(NULL AS Nullable(UInt16))", "aqi_level": "toUInt8(0)", "primary_pollutants": "[]",
        "aqi_edition": "''", "particulates_from_hourly": "toUInt8(0)"}
    if station_type == "river_gauge":
        warn = [s.attrs["warning_level_m"] for s in stations]
        guar = [s.attrs["guarantee_level_m"] for s in stations]
        p.update(warn=warn, guar=guar, base=[max(0.45 * w, w - 2 * (g - w)) for w, g in zip(warn, guar)],
                 tide=[0.5 if w < 3 else 0.05 for w in warn],
                 alarm=[(w + g) / 2 if alarm.get(i, (0, ""))[1] == "over_warning" else g + 0.2
                        for i, (w, g) in enumerate(zip(warn, guar))])
        values["water_level_m"] = (f"round(if({alarming}, {{alarm:Array(Float64)}}[s] + 0.02 * {noise(1)}, "
                                   f"{{base:Array(Float64)}}[s] + {{tide:Array(Float64)}}[s] * sin(2 * pi() * ts_s / 44712)"
                                   f" + 0.03 * {noise(1)}), 2)")  # a 12.42 h tide on the Pearl River network
        derived["state"] = ("multiIf(water_level_m >= {guar:Array(Float64)}[s], 'over_guarantee', "
                            "water_level_m >= {warn:Array(Float64)}[s], 'over_warning', 'normal')")
    elif station_type == "rain_gauge":  # a shower over a station for one 3-hour block in twelve
        p["interval"] = SPAN / per_station
        values["rainfall_mm"] = (f"round(if({u(2, 'intDiv(ts_s, 10800), s')} < 0.08, "
                                 f"(5 + 40 * {u(3, 'intDiv(ts_s, 10800), s')}) * {{interval:Float64}} / 3600, 0), 2)")
    elif station_type == "waterlogging":
        p["limit"] = [s.attrs["ponding_alarm_cm"] for s in stations]
        values["ponding_depth_cm"] = f"if({alarming}, round({{alarm:Array(Float64)}}[s] + {noise(1)}, 1), 0)"
        derived["state"] = "if(ponding_depth_cm >= {limit:Array(Float64)}[s], 'over_alarm', 'normal')"
    elif station_type == "pipe_pressure":  # lowest at the morning and evening peaks of demand
        p["limit"] = [s.attrs["low_pressure_mpa"] for s in stations]
        values["pressure_mpa"] = (f"round(if({alarming}, {{alarm:Array(Float64)}}[s], {{limit:Array(Float64)}}[s] + 0.15 "
                                  f"+ 0.05 * cos(2 * pi() * ({hour} - 3) / 12)) + 0.005 * {noise(1)}, 3)")
        derived["state"] = "if(pressure_mpa < {limit:Array(Float64)}[s], 'low', 'normal')"
    elif station_type == "water_quality":  # each item at 45–85 % of the target class's limit (DO above it)
        target = [s.attrs["target_class"] for s in stations]
        tp = [TP["river" if s.attrs["waterbody"] == "river" else "lake"] for s in stations]
        p.update(nh3n=[NH3N[t - 1] for t in target], codmn=[CODMN[t - 1] for t in target],
                 do=[DO[t - 1] for t in target], tp=[limits[t - 1] for limits, t in zip(tp, target)],
                 tplimits=[list(limits) for limits in tp])
        values.update(
            do_mg_l=f"round({{do:Array(Float64)}}[s] * (1.15 + 0.1 * {noise(1)}), 2)",
            codmn_mg_l=f"round({{codmn:Array(Float64)}}[s] * (0.65 + 0.2 * {noise(2)}), 2)",
            nh3n_mg_l=(f"round(if({alarming}, {{alarm:Array(Float64)}}[s], "
                       f"{{nh3n:Array(Float64)}}[s] * (0.65 + 0.2 * {noise(3)})), 3)"),
            tp_mg_l=f"round({{tp:Array(Float64)}}[s] * (0.65 + 0.2 * {noise(4)}), 3)",
            ph=f"round(7.2 + 0.4 * {noise(5)}, 2)", turbidity_ntu=f"round(15 + 10 * {noise(6)}, 1)")

        def grade(item: str, limits: str, op: str = "<=") -> str:  # GB 3838 class of one item, 6 = 劣Ⅴ
            first = f"arrayFirstIndex(l -> {item} {op} l, {limits})"
            return f"if({first} = 0, 6, {first})"

        derived["water_class"] = (f"toUInt8(greatest({grade('nh3n_mg_l', list(NH3N))}, "
                                  f"{grade('codmn_mg_l', list(CODMN))}, {grade('do_mg_l', list(DO), '>=')}, "
                                  f"{grade('tp_mg_l', '{tplimits:Array(Array(Float64))}[s]')}))")
    elif station_type == "air":  # PM2.5 with a daily factor and two traffic peaks; AQI from it (HJ 633—2026, 24h column)
        p.update(bp=[float(c) for c, _ in PM25_2026], iaqi=[float(i) for _, i in PM25_2026])
        day = u(7, "intDiv(ts_s, 86400)")
        values.update(
            pm25=(f"round(if({alarming}, {{alarm:Array(Float64)}}[s] * (1 + 0.03 * {noise(1)}), 28 * (0.6 + {day}) * "
                  f"(1 + 0.3 * cos(2 * pi() * ({hour} - 8) / 12)) * (1 + 0.1 * {noise(1)})), 1)"),
            pm10="round(pm25 * 1.5, 1)", o3=f"round(60 * (1.2 + sin(2 * pi() * ({hour} - 9) / 24)) + 5 * {noise(2)}, 1)",
            no2=f"round(32 * (1 + 0.2 * {noise(3)}), 1)", so2=f"round(8 * (1 + 0.2 * {noise(4)}), 1)",
            co=f"round(0.7 * (1 + 0.1 * {noise(5)}), 1)")
        segment = "least(greatest(arrayFirstIndex(c -> c > assumeNotNull(pm25), {bp:Array(Float64)}) - 1, 1), 7)"
        bp, iaqi = "{bp:Array(Float64)}", "{iaqi:Array(Float64)}"
        derived.update(
            aqi=(f"toUInt16(ceil({iaqi}[{segment}] + ({iaqi}[{segment} + 1] - {iaqi}[{segment}]) "
                 f"/ ({bp}[{segment} + 1] - {bp}[{segment}]) * (assumeNotNull(pm25) - {bp}[{segment}])))"),
            aqi_level="toUInt8(multiIf(aqi <= 50, 1, aqi <= 100, 2, aqi <= 150, 3, aqi <= 200, 4, aqi <= 300, 5, 6))",
            primary_pollutants="if(aqi > 50, ['pm25'], [])", aqi_edition="'HJ 633—2026'", particulates_from_hourly="1")
    elif station_type == "noise":
        p.update(day_db=[s.attrs["day_limit_db"] for s in stations], night_db=[s.attrs["night_limit_db"] for s in stations])
        values["noise_db"] = (f"round(if({hour} BETWEEN 6 AND 22, {{day_db:Array(Float64)}}[s], "
                              f"{{night_db:Array(Float64)}}[s]) - 4 + 1.5 * {noise(1)}, 1)")
    metrics = WATER_METRICS if family == "water" else ECOLOGY_METRICS
    computed = ",\n           ".join(f"CAST({values.get(m, 'NULL')} AS Nullable(Float64)) AS {m}" for m in metrics)
    own = ", ".join((f"toUInt32(round({SPAN / per_station}))" if family == "water" else "'1h'", *metrics, *derived))
    sql = f"""
INSERT INTO {family}_readings (event_id, station_id, station_type, ts, {"interval_s" if family == "water" else "averaging"},
    {", ".join((*metrics, *derived))}, district_code, lon, lat, map_lon, map_lat, extra, topic, partition, offset, ingested_at)
SELECT concat({{ids:Array(String)}}[s], '.', toString(ts_s)), {{ids:Array(String)}}[s], {{type:String}},
       toDateTime(ts_s, 'UTC'), {own},
       {{codes:Array(String)}}[s], {{lon:Array(Float64)}}[s], {{lat:Array(Float64)}}[s],
       {{map_lon:Array(Float64)}}[s], {{map_lat:Array(Float64)}}[s], '', 'city.{family}', toUInt16(s % 3), number,
       toDateTime(ts_s + 1, 'UTC')
FROM (
    SELECT number, 1 + number % {{n:UInt32}} AS s, intDiv(number, {{n:UInt32}}) AS i,
           intDiv(i * {{span:UInt32}}, {{per:UInt64}}) AS age, {{now:UInt32}} - age AS ts_s,
           {computed},
           {", ".join(f"{expr} AS {name}" for name, expr in derived.items())}
    FROM numbers_mt({{rows:UInt64}})
)"""
    return used(sql, p)


def fill(wh, orders: int, readings: int, now: int, *, rollups: bool) -> None:
    districts = DistrictIndex.for_city("440100")
    registry = load_stations()
    ecology_rows = readings // 10
    plan = {"hotline_events": [hotline_fill(orders, now, districts)],
            "emergency_events": [incidents_fill(now, districts)]}
    for family, rows in (("water", readings - ecology_rows), ("ecology", ecology_rows)):
        types = dict.fromkeys(s.type for s in registry if s.family == family)
        weights = {t: len(registry.of_type(t)) / INTERVAL_S[t] for t in types}
        plan[f"{family}_readings"] = [readings_fill(t, registry.of_type(t), n, now) for t, n in split(rows, weights).items()]
    if not rollups:  # no rule reads them; keeping them up costs ingest (bench/ingest.py), not the alert cycle
        for source in ("water_readings", "ecology_readings"):
            for grain in ("minute", "hour"):
                wh.execute(f"DROP VIEW {source}_{grain}_mv")
        print("   rollup views of the readings dropped for the fill (--rollups keeps them)")
    wh.execute("SET optimize_on_insert = 0")  # nothing to collapse: the generated events are distinct
    started = time.perf_counter()
    for table, statements in plan.items():
        t = time.perf_counter()
        for sql, params in statements:
            wh.execute(sql, params)
        print(f"   {table:<17} {count(wh, table):>12,} rows in {time.perf_counter() - t:6.1f} s")
    wh.execute("SET optimize_on_insert = 1")
    print(f"   fill: {time.perf_counter() - started:.1f} s")


def count(wh, table: str) -> int:
    return int(queries.run(wh, (f"SELECT count() AS n FROM {table}", {}))["n"][0])


def parts(wh) -> str:
    df = queries.run(wh, ("SELECT table, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts "
                          "WHERE database = currentDatabase() AND active AND rows > 0 GROUP BY table "
                          "ORDER BY bytes DESC", {}))
    return ", ".join(f"{r.table} {r.parts} ({r.bytes / 2**20:,.0f} MiB)" for r in df.itertuples())


def percentile(seconds: list[float], q: float) -> float:
    s = sorted(seconds)
    return s[min(len(s) - 1, math.ceil(q * len(s)) - 1)]


def filled_city(directory: str, database: str, orders: int, readings: int, now: int, *, rollups: bool = False):
    """A migrated chDB warehouse in ``directory`` filled as above and merged (``OPTIMIZE … FINAL``), so that no
    background merge runs during the timings."""
    wh = connect(f"chdb://{directory}/wh?database={database}")
    migrate(wh)
    print(f"filling: {orders:,} work-order events, {readings:,} sensor readings over {SPAN // DAY} days")
    fill(wh, orders, readings, now, rollups=rollups)
    n = queries.run(wh, ("SELECT uniqExact(order_id) AS n FROM hotline_events", {}))["n"][0]
    print(f"   {n:,} orders ({n / (SPAN / DAY):,.0f} a day)")
    t = time.perf_counter()
    for table in ("hotline_events", "emergency_events", "water_readings", "ecology_readings"):
        wh.execute(f"OPTIMIZE TABLE {table} FINAL")
    print(f"   merged (OPTIMIZE … FINAL) in {time.perf_counter() - t:.1f} s; active parts: {parts(wh)}")
    return wh
