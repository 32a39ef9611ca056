"""What the duty screen shows next to an alert: the recent events of its subject. Pure builders, each
returning ``(sql, params)`` with columns ``ts, what, status, text``; one row per event (``LIMIT 1 BY``: a
redelivered event shows once)."""
from __future__ import annotations

from domain.contract import ECOLOGY_METRICS, EMERGENCY_TYPE_ZH, LEVEL_ZH, WATER_METRICS
from warehouse.queries import Query

READINGS = {"water": ("water_readings", WATER_METRICS), "ecology": ("ecology_readings", (*ECOLOGY_METRICS, "aqi"))}


def district_orders(district_code: str, since: int, limit: int = 12) -> Query:
    """The newest work-order events in a district."""
    return _hotline("district_code = {key:String}", district_code, since, limit)


def department_orders(department: str, since: int, limit: int = 12) -> Query:
    """The newest work-order events of a department."""
    return _hotline("department = {key:String}", department, since, limit)


def _hotline(where: str, key: str, since: int, limit: int) -> Query:
    sql = f"""
SELECT ts, order_id AS what, status, concat(category, ' · ', content) AS text
FROM hotline_events
WHERE {where} AND ts >= toDateTime({{since:UInt32}}, 'UTC')
ORDER BY ts DESC, event_id
LIMIT 1 BY event_id
LIMIT {int(limit)}"""
    return sql, {"key": key, "since": since}


def incident_events(incident_id: str, limit: int = 12) -> Query:
    """An incident's events, newest first; ``what`` is its type and grade in words (洪涝 Ⅱ级)."""
    sql = f"""
SELECT ts,
       concat(transform(type, {{types:Array(String)}}, {{type_names:Array(String)}}, type),
              if(level = '', '', concat(' ', transform(level, {{levels:Array(String)}}, {{level_names:Array(String)}},
                                                       level)))) AS what,
       status, description AS text
FROM emergency_events
WHERE incident_id = {{key:String}}
ORDER BY ts DESC, event_id
LIMIT 1 BY event_id
LIMIT {int(limit)}"""
    return sql, {"key": incident_id, "types": list(EMERGENCY_TYPE_ZH), "type_names": list(EMERGENCY_TYPE_ZH.values()),
                 "levels": list(LEVEL_ZH), "level_names": [name.split()[0] for name in LEVEL_ZH.values()]}


def station_readings(source: str, metric: str, station_id: str, since: int, limit: int = 12) -> Query:
    """A station's newest readings of ``metric`` (``source`` water or ecology; both whitelisted)."""
    if source not in READINGS or metric not in READINGS[source][1]:
        raise ValueError(f"no {source!r} metric {metric!r}")
    table = READINGS[source][0]
    sql = f"""
SELECT ts, station_id AS what, '' AS status, toString(round({metric}, 2)) AS text
FROM {table}
WHERE station_id = {{key:String}} AND ts >= toDateTime({{since:UInt32}}, 'UTC') AND {metric} IS NOT NULL
ORDER BY ts DESC, event_id
LIMIT 1 BY event_id
LIMIT {int(limit)}"""
    return sql, {"key": station_id, "since": since}
