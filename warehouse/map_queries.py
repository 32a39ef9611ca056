"""Queries behind the map layers (``layers/``): pure builders returning ``(sql, params)``.

Places are the map's display CRS (``map_lon``/``map_lat``: GCJ-02, that of the shipped boundaries). Points are
aggregated in the warehouse, never shipped one by one: each cluster query groups one row per order or incident
into square cells of ``cell`` degrees inside a box, so a map of 100,000 events costs a few hundred rows.
A cell of one event carries that event's details. Severity ranks: 4 red, 3 orange, 2 yellow, 1 blue, 0 done.
"""
from __future__ import annotations

from domain.contract import ECOLOGY_METRICS, WATER_METRICS
from warehouse.migrations import H3_RESOLUTION
from warehouse.queries import OPEN_INCIDENTS, Query

Box = tuple[float, float, float, float]  # west, south, east, north
MAX_CELLS = 5000
HISTORY = 30 * 86400  # an order's state is read from its events of the last 30 days, as the wall does


def _cells(inner: str, since: int, now: int, box: Box, cell: float, details: str) -> Query:
    """Group the per-event rows of ``inner`` (columns x, y, severity and the ``details``) into cells."""
    west, south, east, north = box
    sql = f"""
SELECT floor(x / {{cell:Float64}}) AS gx, floor(y / {{cell:Float64}}) AS gy,
       count() AS n, avg(x) AS lon, avg(y) AS lat, max(severity) AS top,
       countIf(severity = 4) AS red, countIf(severity = 3) AS orange, countIf(severity = 2) AS yellow,
       countIf(severity = 1) AS blue, countIf(severity = 0) AS done,
       {details}
FROM ({inner}
)
GROUP BY gx, gy
ORDER BY n DESC, gx, gy
LIMIT {MAX_CELLS}"""
    return sql, {"since": since, "now": now, "west": west, "south": south, "east": east, "north": north,
                 "cell": cell}


_IN_BOX = """ts >= toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
      AND map_lon >= {west:Float64} AND map_lon <= {east:Float64}
      AND map_lat >= {south:Float64} AND map_lat <= {north:Float64}"""


def _orders(extra: str = "") -> str:
    """One row per work order with an event in the window and box: x, y (map CRS), severity (4 open past its
    deadline, 3 open and urgent, 1 open, 0 completed) and its details. The state is read from the order's events
    since ``history`` (its deadline comes with its dispatch, which may be older than the window)."""
    return f"""
    SELECT order_id,
           argMax(map_lon, ts) AS x, argMax(map_lat, ts) AS y, min(ts) AS first_ts,
           any(category) AS order_category, any(subcategory) AS order_subcategory,
           argMax(status, ts) AS last_status,
           maxIf(toUInt32(assumeNotNull(deadline)), isNotNull(deadline)) AS deadline_s,
           max(urgency = 'urgent') AS is_urgent,
           multiIf(last_status IN ('completed', 'visited'), 0,
                   deadline_s > 0 AND deadline_s < {{now:UInt32}}, 4, is_urgent, 3, 1) AS severity{extra}
    FROM hotline_events
    WHERE ts >= toDateTime({{history:UInt32}}, 'UTC') AND ts <= toDateTime({{now:UInt32}}, 'UTC')
      AND isNotNull(map_lon)
      AND order_id IN (SELECT order_id FROM hotline_events WHERE {_IN_BOX})
    GROUP BY order_id"""


def order_clusters(since: int, now: int, box: Box, cell: float) -> Query:
    """Work orders with events in [since, now] inside ``box``, by cell (severity as :func:`_orders`).
    Columns: gx, gy, n, lon, lat, top (the highest severity), red, orange, yellow, blue, done, and of a cell's
    (first) order: id, ts (its first event in 30 days: its receipt), category, subcategory, status."""
    details = ("any(order_id) AS id, any(first_ts) AS ts, any(order_category) AS category, "
               "any(order_subcategory) AS subcategory, any(last_status) AS status")
    sql, params = _cells(_orders(), since, now, box, cell, details)
    return sql, {**params, "history": now - HISTORY}


def h3_parent_masks(resolution: int) -> tuple[int, int]:
    """(and-mask, or-mask) turning an H3 index of a finer resolution into its parent at ``resolution``: the
    resolution field (bits 52–55) set to it and every finer digit (3 bits each) set to 7, as H3 defines."""
    if not 0 <= resolution <= H3_RESOLUTION:
        raise ValueError(f"H3 resolution {resolution} is outside 0–{H3_RESOLUTION} (the stored resolution)")
    return (~(0xF << 52)) & 0xFFFFFFFFFFFFFFFF, (resolution << 52) | ((1 << (3 * (15 - resolution))) - 1)


def order_grid(since: int, now: int, box: Box, resolution: int) -> Query:
    """Work orders with events in [since, now] inside ``box`` per H3 cell at ``resolution`` (from the cell
    stored with each event), with the cell's mean offset between map and WGS-84 coordinates to draw it in
    the map's CRS. Columns: cell, n, rate (share past their deadline and still open), dx, dy."""
    keep, add = h3_parent_masks(resolution)
    inner = _orders(""",
           any(h3) AS h3_cell, avg(map_lon - lon) AS ox, avg(map_lat - lat) AS oy""")
    sql = f"""
SELECT bitOr(bitAnd(h3_cell, {{keep:UInt64}}), {{add:UInt64}}) AS cell, count() AS n,
       countIf(severity = 4) / count() AS rate, avg(ox) AS dx, avg(oy) AS dy
FROM ({inner}
)
WHERE h3_cell != 0
GROUP BY cell
ORDER BY n DESC
LIMIT {MAX_CELLS}"""
    west, south, east, north = box
    return sql, {"since": since, "now": now, "west": west, "south": south, "east": east, "north": north,
                 "keep": keep, "add": add, "history": now - HISTORY}


def incident_clusters(since: int, now: int, box: Box, cell: float) -> Query:
    """Incidents with events in [since, now] inside ``box``, by cell. Severity by grade: I 4, II 3, III 2,
    IV or not yet graded 1, closed 0. Columns as :func:`order_clusters`, with the incident's type as category
    and its grade as subcategory."""
    inner = f"""
    SELECT incident_id,
           argMax(map_lon, ts) AS x, argMax(map_lat, ts) AS y, min(ts) AS first_ts,
           any(type) AS incident_type, argMaxIf(level, ts, level != '') AS grade,
           argMax(status, ts) AS last_status,
           multiIf(last_status = 'closed', 0, grade = 'I', 4, grade = 'II', 3, grade = 'III', 2, 1) AS severity
    FROM emergency_events
    WHERE {_IN_BOX} AND isNotNull(map_lon)
    GROUP BY incident_id"""
    details = ("any(incident_id) AS id, any(first_ts) AS ts, any(incident_type) AS category, "
               "any(grade) AS subcategory, any(last_status) AS status")
    return _cells(inner, since, now, box, cell, details)


def open_incidents(since: int, now: int) -> Query:
    """Per district, incidents with events in [since, now] that are not closed. Columns: district_code,
    open_incidents, major (grade I or II)."""
    sql = f"""
SELECT district AS district_code, count() AS open_incidents, countIf(grade IN ('I', 'II')) AS major
FROM ({OPEN_INCIDENTS})
GROUP BY district
ORDER BY district"""
    return sql, {"since": since, "now": now}


def _latest(table: str, columns: tuple[str, ...], since: int, now: int) -> Query:
    """Each station's newest reading in the window, whole (a metric missing from it stays missing)."""
    sql = f"""
SELECT station_id, station_type, ts AS reading_ts, {", ".join(columns)}, map_lon AS lon, map_lat AS lat
FROM {table}
WHERE ts >= toDateTime({{since:UInt32}}, 'UTC') AND ts <= toDateTime({{now:UInt32}}, 'UTC')
ORDER BY station_id, ts DESC, event_id
LIMIT 1 BY station_id"""
    return sql, {"since": since, "now": now}


def water_latest(since: int, now: int) -> Query:
    """Each water station's newest reading in [since, now]. Columns: station_id, station_type, reading_ts
    (DateTime UTC), district_code, interval_s, the water metrics, water_class (0 none, 6 劣Ⅴ), state, lon, lat."""
    return _latest("water_readings", ("district_code", "interval_s", *WATER_METRICS, "water_class", "state"),
                   since, now)


def ecology_latest(since: int, now: int) -> Query:
    """Each ecology station's newest reading in [since, now]. Columns: station_id, station_type, reading_ts,
    district_code, the ecology metrics, aqi, aqi_level (1–6, 0 none), primary_pollutants, aqi_edition, lon, lat."""
    return _latest("ecology_readings", ("district_code", *ECOLOGY_METRICS, "aqi", "aqi_level", "primary_pollutants",
                                        "aqi_edition"), since, now)


def order_history(order_id: str) -> Query:
    """Every state transition of one work order, oldest first (one row per event). Columns: ts, status,
    category, subcategory, urgency, district_code, department, deadline, content, satisfaction."""
    sql = """
SELECT ts, status, category, subcategory, urgency, district_code, department, deadline, content, satisfaction
FROM hotline_events
WHERE order_id = {id:String}
ORDER BY ts, event_id
LIMIT 1 BY event_id"""
    return sql, {"id": order_id}


def incident_history(incident_id: str) -> Query:
    """Every report and status change of one incident, oldest first. Columns: ts, status, type, level,
    district_code, casualties, units, description."""
    sql = """
SELECT ts, status, type, level, district_code, casualties, units, description
FROM emergency_events
WHERE incident_id = {id:String}
ORDER BY ts, event_id
LIMIT 1 BY event_id"""
    return sql, {"id": incident_id}
