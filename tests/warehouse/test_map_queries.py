"""The map's queries (warehouse/map_queries.py): the pure builders as a table, then exact results on both backends
from contract events stored through the ingest decoder (GCJ-02 in, WGS-84 and map coordinates stored)."""
import datetime as dt
import math
import time
from collections import defaultdict
from functools import lru_cache

import h3
import h3.api.basic_int as h3i
import pandas as pd
import pytest

from config.settings import load
from config.stations import load_stations
from domain.aqi import hourly_aqi
from domain.contract import ECOLOGY_METRICS, WATER_METRICS
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers.districts import metric_values
from warehouse import map_queries as mq
from warehouse.migrations import H3_RESOLUTION
from warehouse.queries import run
from warehouse.sql import PLACEHOLDER, check_params

HOUR = 3600
DAY = 86400
CITY = (112.9, 22.5, 114.1, 24.0)  # west, south, east, north: all of Guangzhou
FINE = 0.0002  # degrees: every crafted order in a cell of its own
# GCJ-02 points (the map's CRS) inside the districts named
TIANHE = (113.3245, 23.1375)
TIANHE_NEAR = (113.3255, 23.1385)  # ~150 m from TIANHE
YUEXIU = (113.2644, 23.1291)
HAIZHU = (113.3172, 23.0836)
BAIYUN = (113.30, 23.20)
LIWAN = (113.2442, 23.1259)

CLUSTER_COLUMNS = ["gx", "gy", "n", "lon", "lat", "top", "red", "orange", "yellow", "blue", "done", "id", "ts",
                   "category", "subcategory", "status"]


@lru_cache(maxsize=1)
def decoder():
    return make_decoder(load(environ={}))


def store(warehouse, events: list[dict]) -> None:
    assert store_events(warehouse, decoder(), events) == len(events)


def ms(seconds: float) -> int:
    """Epoch milliseconds, a form of ``ts`` the contract accepts."""
    return int(seconds * 1000)


def epoch(value) -> int:
    """Epoch seconds of a warehouse DateTime (tz-aware from chDB, possibly naive UTC from the server)."""
    stamp = pd.Timestamp(value)
    return int((stamp if stamp.tzinfo else stamp.tz_localize("UTC")).timestamp())


def order_event(event_id: str, order_id: str, at: float, status: str, place=TIANHE, **fields) -> dict:
    event = {"event_id": event_id, "schema": "hotline.v1", "ts": ms(at), "order_id": order_id, "status": status,
             "category": "城市管理", "subcategory": "占道经营", **fields}
    if place is not None:
        event["location"] = {"lon": place[0], "lat": place[1], "crs": "GCJ02"}
    return event


def incident_event(event_id: str, incident_id: str, at: float, status: str, kind: str, place, level=None,
                   **fields) -> dict:
    event = {"event_id": event_id, "schema": "emergency.v1", "ts": ms(at), "incident_id": incident_id,
             "type": kind, "status": status, "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"},
             **fields}
    if level is not None:
        event["level"] = level
    return event


def city_orders(now: int) -> list[dict]:
    """Six work orders, one per severity case:
    WO-OVERDUE  dispatched, deadline an hour ago, still open              → 4
    WO-URGENT   urgent, dispatched, deadline tomorrow                     → 3
    WO-OPEN     received only                                             → 1
    WO-DONE     completed after its deadline (done beats overdue)         → 0
    WO-VISITED  completed, then visited                                   → 0
    WO-NEAR     received, ~150 m from WO-OVERDUE                          → 1"""
    return [
        order_event("WO-OVERDUE.1", "WO-OVERDUE", now - 5 * HOUR, "received", TIANHE, content="路边摊占道"),
        order_event("WO-OVERDUE.2", "WO-OVERDUE", now - 4 * HOUR, "dispatched", TIANHE, department="天河区城管局",
                    deadline=ms(now - HOUR)),
        order_event("WO-URGENT.1", "WO-URGENT", now - 3 * HOUR, "received", YUEXIU, urgency="urgent",
                    category="水电气", subcategory="停水"),
        order_event("WO-URGENT.2", "WO-URGENT", now - 2 * HOUR, "dispatched", YUEXIU, urgency="urgent",
                    category="水电气", subcategory="停水", department="市水务局", deadline=ms(now + 20 * HOUR)),
        order_event("WO-OPEN.1", "WO-OPEN", now - 2 * HOUR, "received", HAIZHU, category="交通出行", subcategory=""),
        order_event("WO-DONE.1", "WO-DONE", now - 6 * HOUR, "received", BAIYUN),
        order_event("WO-DONE.2", "WO-DONE", now - 5 * HOUR, "dispatched", BAIYUN, deadline=ms(now - 3 * HOUR)),
        order_event("WO-DONE.3", "WO-DONE", now - 2 * HOUR, "completed", BAIYUN),
        order_event("WO-VISITED.1", "WO-VISITED", now - 7 * HOUR, "received", LIWAN),
        order_event("WO-VISITED.2", "WO-VISITED", now - 6 * HOUR, "completed", LIWAN),
        order_event("WO-VISITED.3", "WO-VISITED", now - HOUR, "visited", LIWAN, satisfaction="satisfied"),
        order_event("WO-NEAR.1", "WO-NEAR", now - HOUR, "received", TIANHE_NEAR),
    ]


# id → (place, severity, status, received, category, subcategory)
ORDERS = {
    "WO-OVERDUE": (TIANHE, 4, "dispatched", 5 * HOUR, "城市管理", "占道经营"),
    "WO-URGENT": (YUEXIU, 3, "dispatched", 3 * HOUR, "水电气", "停水"),
    "WO-OPEN": (HAIZHU, 1, "received", 2 * HOUR, "交通出行", ""),
    "WO-DONE": (BAIYUN, 0, "completed", 6 * HOUR, "城市管理", "占道经营"),
    "WO-VISITED": (LIWAN, 0, "visited", 7 * HOUR, "城市管理", "占道经营"),
    "WO-NEAR": (TIANHE_NEAR, 1, "received", HOUR, "城市管理", "占道经营"),
}
RANK_COLUMNS = {4: "red", 3: "orange", 2: "yellow", 1: "blue", 0: "done"}


def city_incidents(now: int) -> list[dict]:
    """Seven incidents: graded I–IV, never graded, closed, and graded after the report (the grade kept by a later
    event that carries none)."""
    return [
        incident_event("EM-I.1", "EM-I", now - 2 * HOUR, "reported", "fire", (113.3612, 23.1247), "I"),
        incident_event("EM-II.1", "EM-II", now - 2 * HOUR, "dispatched", "traffic", (113.3500, 23.1500), "II"),
        incident_event("EM-III.1", "EM-III", now - 3 * HOUR, "on_scene", "flood", (113.2700, 23.1300), "III"),
        incident_event("EM-IV.1", "EM-IV", now - 3 * HOUR, "reported", "waterlogging", (113.3000, 23.0900), "IV"),
        incident_event("EM-NEW.1", "EM-NEW", now - HOUR, "reported", "crowd", (113.3300, 23.0950)),
        incident_event("EM-CLOSED.1", "EM-CLOSED", now - 5 * HOUR, "reported", "hazmat", (113.2800, 23.1350), "I"),
        incident_event("EM-CLOSED.2", "EM-CLOSED", now - HOUR, "closed", "hazmat", (113.2800, 23.1350), "I"),
        incident_event("EM-LATER.1", "EM-LATER", now - 4 * HOUR, "reported", "landslide", (113.2600, 23.1200)),
        incident_event("EM-LATER.2", "EM-LATER", now - 3 * HOUR, "dispatched", "landslide", (113.2600, 23.1200),
                       "II", units=["U1", "U2"], casualties=1, description="山体滑坡，1人受伤"),
        incident_event("EM-LATER.3", "EM-LATER", now - 2 * HOUR, "on_scene", "landslide", (113.2600, 23.1200),
                       units=["U1", "U2", "U3"]),
    ]


# id → (severity, status, reported, type, grade)
INCIDENTS = {
    "EM-I": (4, "reported", 2 * HOUR, "fire", "I"),
    "EM-II": (3, "dispatched", 2 * HOUR, "traffic", "II"),
    "EM-III": (2, "on_scene", 3 * HOUR, "flood", "III"),
    "EM-IV": (1, "reported", 3 * HOUR, "waterlogging", "IV"),
    "EM-NEW": (1, "reported", HOUR, "crowd", ""),
    "EM-CLOSED": (0, "closed", 5 * HOUR, "hazmat", "I"),
    "EM-LATER": (3, "on_scene", 4 * HOUR, "landslide", "II"),
}


@pytest.fixture
def now() -> int:
    return int(time.time())


def by_id(frame: pd.DataFrame) -> dict[str, dict]:
    assert frame["id"].is_unique
    return {row["id"]: row for row in frame.to_dict("records")}


def counts(row: dict) -> dict[str, int]:
    return {name: int(row[name]) for name in ("n", "top", "red", "orange", "yellow", "blue", "done")}


def single(severity: int) -> dict[str, int]:
    expected = {"n": 1, "top": severity, "red": 0, "orange": 0, "yellow": 0, "blue": 0, "done": 0}
    expected[RANK_COLUMNS[severity]] = 1
    return expected


# --- the pure builders -------------------------------------------------------------------------------------------

BOX = (113.123457, 22.987654, 113.765432, 23.456789)
SINCE, NOW = 1_790_000_011, 1_790_086_411
WINDOW = {"since": SINCE, "now": NOW}
IN_BOX = {**WINDOW, "west": BOX[0], "south": BOX[1], "east": BOX[2], "north": BOX[3]}
HOSTILE_ID = "WO1' OR 1=1 --"
TYPES = {"since": "UInt32", "now": "UInt32", "west": "Float64", "south": "Float64", "east": "Float64",
         "north": "Float64", "cell": "Float64", "keep": "UInt64", "add": "UInt64", "id": "String",
         "history": "UInt32"}


@pytest.mark.parametrize("query, params", [
    (mq.order_clusters(SINCE, NOW, BOX, 0.00345678), {**IN_BOX, "cell": 0.00345678, "history": NOW - mq.HISTORY}),
    (mq.incident_clusters(SINCE, NOW, BOX, 0.00345678), {**IN_BOX, "cell": 0.00345678}),
    (mq.order_grid(SINCE, NOW, BOX, 7), {**IN_BOX, "keep": mq.h3_parent_masks(7)[0],
                                          "add": mq.h3_parent_masks(7)[1], "history": NOW - mq.HISTORY}),
    (mq.open_incidents(SINCE, NOW), WINDOW),
    (mq.water_latest(SINCE, NOW), WINDOW),
    (mq.ecology_latest(SINCE, NOW), WINDOW),
    (mq.order_history(HOSTILE_ID), {"id": HOSTILE_ID}),
    (mq.incident_history(HOSTILE_ID), {"id": HOSTILE_ID}),
], ids=["order_clusters", "incident_clusters", "order_grid", "open_incidents", "water_latest", "ecology_latest",
        "order_history", "incident_history"])
def test_builders_bind_every_value_as_a_typed_parameter(query, params):
    sql, bound = query
    assert bound == params
    assert check_params(sql, bound) == params  # every placeholder has a value and every value a placeholder
    declared = {(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(sql)}
    assert declared == {(name, TYPES[name]) for name in params}  # one type per name, the right one
    for value in params.values():  # box, cell, masks, window and ids are bound, never spliced into the text
        assert str(value) not in sql and repr(value) not in sql


def test_grid_masks_differ_by_resolution_and_are_bound():
    (_, coarse), (_, fine) = mq.order_grid(SINCE, NOW, BOX, 5), mq.order_grid(SINCE, NOW, BOX, 9)
    assert (coarse["keep"], coarse["add"]) == mq.h3_parent_masks(5)
    assert (fine["keep"], fine["add"]) == mq.h3_parent_masks(9)
    assert coarse["add"] != fine["add"]


def test_cluster_queries_are_capped():
    for sql, _ in (mq.order_clusters(SINCE, NOW, BOX, 0.01), mq.incident_clusters(SINCE, NOW, BOX, 0.01),
                   mq.order_grid(SINCE, NOW, BOX, 8)):
        assert sql.rstrip().endswith(f"LIMIT {mq.MAX_CELLS}")


# --- H3 parent masks ---------------------------------------------------------------------------------------------

CELLS = [h3i.latlng_to_cell(lat, lon, H3_RESOLUTION) for lat, lon in
         ((23.1401, 113.3191), (23.1318, 113.2591), (22.7600, 113.6100), (23.8100, 113.9300), (0.0, 0.0),
          (-33.86, 151.21), (64.15, -21.94))]


@pytest.mark.parametrize("resolution", range(H3_RESOLUTION + 1))
def test_parent_masks_give_the_h3_parent_at_every_stored_resolution(resolution):
    keep, add = mq.h3_parent_masks(resolution)
    for cell in CELLS:
        parent = (cell & keep) | add
        assert parent == h3i.cell_to_parent(cell, resolution), (hex(cell), resolution)
        assert h3i.is_valid_cell(parent) and h3i.get_resolution(parent) == resolution


def test_parent_mask_of_the_stored_resolution_keeps_the_cell():
    keep, add = mq.h3_parent_masks(H3_RESOLUTION)
    assert all((cell & keep) | add == cell for cell in CELLS)


def test_parent_masks_fit_in_uint64():
    for resolution in range(H3_RESOLUTION + 1):
        assert all(0 <= mask < 2 ** 64 for mask in mq.h3_parent_masks(resolution))


@pytest.mark.parametrize("resolution", [-1, 12, 15, 16])
def test_parent_masks_reject_resolutions_outside_the_stored_one(resolution):
    with pytest.raises(ValueError, match=rf"^H3 resolution {resolution} is outside 0–11 \(the stored resolution\)$"):
        mq.h3_parent_masks(resolution)
    with pytest.raises(ValueError, match="outside 0–11"):
        mq.order_grid(SINCE, NOW, BOX, resolution)


# --- work orders by cell -----------------------------------------------------------------------------------------

def test_each_order_is_one_cell_with_its_severity_and_details(warehouse, now):
    store(warehouse, city_orders(now))
    cells = run(warehouse, mq.order_clusters(now - DAY, now, CITY, FINE))
    assert list(cells.columns) == CLUSTER_COLUMNS
    rows = by_id(cells)
    assert set(rows) == set(ORDERS)
    for order_id, (place, severity, status, age, category, subcategory) in ORDERS.items():
        row = rows[order_id]
        assert counts(row) == single(severity), order_id
        assert (row["status"], row["category"], row["subcategory"]) == (status, category, subcategory), order_id
        assert epoch(row["ts"]) == now - age, order_id  # when it was received
        assert (row["lon"], row["lat"]) == pytest.approx(place, abs=1e-9), order_id  # map CRS, as sent
        assert (row["gx"], row["gy"]) == (math.floor(place[0] / FINE), math.floor(place[1] / FINE)), order_id


def test_a_large_cell_merges_every_order_and_counts_each_severity_once(warehouse, now):
    store(warehouse, city_orders(now))
    cells = run(warehouse, mq.order_clusters(now - DAY, now, CITY, 1.0))
    assert len(cells) == 1
    row = cells.iloc[0].to_dict()
    assert counts(row) == {"n": 6, "top": 4, "red": 1, "orange": 1, "yellow": 0, "blue": 2, "done": 2}
    assert (row["gx"], row["gy"]) == (113, 23)
    xs, ys = zip(*(place for place, *_ in ORDERS.values()))
    assert (row["lon"], row["lat"]) == pytest.approx((sum(xs) / 6, sum(ys) / 6), abs=1e-9)


def test_a_cell_merges_near_orders_and_a_smaller_one_separates_them(warehouse, now):
    store(warehouse, city_orders(now))
    around = (113.32, 23.13, 113.33, 23.14)  # TIANHE and TIANHE_NEAR only
    merged = run(warehouse, mq.order_clusters(now - DAY, now, around, 0.01))
    assert len(merged) == 1
    assert counts(merged.iloc[0].to_dict()) == {"n": 2, "top": 4, "red": 1, "orange": 0, "yellow": 0, "blue": 1,
                                                "done": 0}
    separate = run(warehouse, mq.order_clusters(now - DAY, now, around, FINE))
    assert sorted(separate["id"]) == ["WO-NEAR", "WO-OVERDUE"]
    assert separate["n"].tolist() == [1, 1]


def test_the_box_leaves_out_orders_outside_it(warehouse, now):
    store(warehouse, city_orders(now))
    west_of_tianhe = (113.20, 23.10, 113.28, 23.15)  # YUEXIU and LIWAN
    cells = run(warehouse, mq.order_clusters(now - DAY, now, west_of_tianhe, FINE))
    assert sorted(cells["id"]) == ["WO-URGENT", "WO-VISITED"]
    edges = (YUEXIU[0], YUEXIU[1], YUEXIU[0], YUEXIU[1])  # a box of one point: its edges belong to it
    assert run(warehouse, mq.order_clusters(now - DAY, now, edges, FINE))["id"].tolist() == ["WO-URGENT"]
    sea = (114.5, 21.0, 115.0, 21.5)
    empty = run(warehouse, mq.order_clusters(now - DAY, now, sea, FINE))
    assert empty.empty and list(empty.columns) == CLUSTER_COLUMNS


def test_orders_without_events_in_the_window_or_a_location_are_not_drawn(warehouse, now):
    store(warehouse, [*city_orders(now),
                      order_event("WO-OLD.1", "WO-OLD", now - 3 * DAY, "received", TIANHE),
                      order_event("WO-NOWHERE.1", "WO-NOWHERE", now - HOUR, "received", None)])
    cells = run(warehouse, mq.order_clusters(now - DAY, now, CITY, FINE))
    assert set(cells["id"]) == set(ORDERS)
    recent = run(warehouse, mq.order_clusters(now - int(1.5 * HOUR), now, CITY, FINE))
    assert sorted(recent["id"]) == ["WO-NEAR", "WO-VISITED"]  # only these had an event in the last 1.5 h
    assert by_id(recent)["WO-VISITED"]["status"] == "visited"


def test_redelivered_events_count_once(warehouse, now):
    events = city_orders(now)
    store(warehouse, events)
    before = run(warehouse, mq.order_clusters(now - DAY, now, CITY, 1.0))
    store(warehouse, events[:4] + events[-3:])  # a consumer restart redelivers part of the stream
    after = run(warehouse, mq.order_clusters(now - DAY, now, CITY, 1.0))
    assert counts(after.iloc[0].to_dict()) == counts(before.iloc[0].to_dict())
    assert int(after["n"].iloc[0]) == 6
    assert set(run(warehouse, mq.order_clusters(now - DAY, now, CITY, FINE))["id"]) == set(ORDERS)


def test_an_order_open_past_its_deadline_is_overdue_even_if_dispatched_before_the_window(warehouse, now):
    # BUG (warehouse/map_queries.py, _orders): severity and the grid's rate read the deadline only from the
    # events inside [since, now]. The contract puts `deadline` on the `dispatched` event alone, so an order
    # dispatched before the window (the map shows 24 h by default) and still worked on inside it loses its
    # deadline and is drawn as merely open (blue), not overdue (red). The wall (order_states, 30 days) counts it
    # as overdue, so the two screens disagree.
    store(warehouse, [order_event("WO-LATE.1", "WO-LATE", now - 40 * HOUR, "received", TIANHE),
                      order_event("WO-LATE.2", "WO-LATE", now - 39 * HOUR, "dispatched", TIANHE,
                                  deadline=ms(now - 15 * HOUR)),
                      order_event("WO-LATE.3", "WO-LATE", now - 2 * HOUR, "processing", TIANHE)])
    row = run(warehouse, mq.order_clusters(now - DAY, now, CITY, FINE)).iloc[0].to_dict()
    assert (row["id"], row["status"]) == ("WO-LATE", "processing")
    assert counts(row) == single(4)
    grid = run(warehouse, mq.order_grid(now - DAY, now, CITY, 9))
    assert grid["rate"].tolist() == [1.0]


# --- incidents by cell and per district --------------------------------------------------------------------------

def test_each_incident_is_one_cell_with_its_grade_as_severity(warehouse, now):
    store(warehouse, city_incidents(now))
    cells = run(warehouse, mq.incident_clusters(now - DAY, now, CITY, FINE))
    assert list(cells.columns) == CLUSTER_COLUMNS
    rows = by_id(cells)
    assert set(rows) == set(INCIDENTS)
    for incident_id, (severity, status, age, kind, grade) in INCIDENTS.items():
        row = rows[incident_id]
        assert counts(row) == single(severity), incident_id
        assert (row["status"], row["category"], row["subcategory"]) == (status, kind, grade), incident_id
        assert epoch(row["ts"]) == now - age, incident_id


def test_a_large_cell_merges_incidents_by_grade(warehouse, now):
    store(warehouse, city_incidents(now))
    store(warehouse, city_incidents(now)[-4:])  # redelivered
    cells = run(warehouse, mq.incident_clusters(now - DAY, now, CITY, 1.0))
    assert len(cells) == 1
    assert counts(cells.iloc[0].to_dict()) == {"n": 7, "top": 4, "red": 1, "orange": 2, "yellow": 1, "blue": 2,
                                               "done": 1}


def test_the_box_and_window_filter_incidents(warehouse, now):
    store(warehouse, city_incidents(now))
    east = (113.34, 23.10, 113.40, 23.20)
    assert sorted(run(warehouse, mq.incident_clusters(now - DAY, now, east, FINE))["id"]) == ["EM-I", "EM-II"]
    last_90_min = run(warehouse, mq.incident_clusters(now - int(1.5 * HOUR), now, CITY, FINE))
    assert sorted(last_90_min["id"]) == ["EM-CLOSED", "EM-NEW"]


def test_open_incidents_per_district_count_major_ones_and_leave_out_closed(warehouse, now):
    events = city_incidents(now)
    store(warehouse, events)
    store(warehouse, events[:3])  # redelivered
    frame = run(warehouse, mq.open_incidents(now - DAY, now))
    assert list(frame.columns) == ["district_code", "open_incidents", "major"]
    # 天河: I and II; 越秀: III and the one graded II later (the closed I is left out); 海珠: IV and not yet graded
    assert [(r.district_code, int(r.open_incidents), int(r.major)) for r in frame.itertuples()] == [
        ("440104", 2, 1), ("440105", 2, 0), ("440106", 2, 2)]


def test_open_incidents_of_an_empty_window_are_empty(warehouse, now):
    store(warehouse, city_incidents(now))
    frame = run(warehouse, mq.open_incidents(now - 10 * DAY, now - 9 * DAY))
    assert frame.empty and list(frame.columns) == ["district_code", "open_incidents", "major"]


# --- the H3 grid -------------------------------------------------------------------------------------------------

def stored_points(warehouse) -> dict[str, tuple[float, float, float, float]]:
    """order_id → (WGS-84 lon, lat, map lon, lat) as ingest stored them."""
    frame = run(warehouse, ("SELECT order_id, any(lon) AS lon, any(lat) AS lat, any(map_lon) AS map_lon, "
                            "any(map_lat) AS map_lat FROM hotline_events GROUP BY order_id", {}))
    return {r.order_id: (r.lon, r.lat, r.map_lon, r.map_lat) for r in frame.itertuples()}


@pytest.mark.parametrize("resolution", [5, 7, 9, 11])
def test_grid_cells_are_the_h3_parents_of_each_orders_wgs84_point(warehouse, now, resolution):
    store(warehouse, city_orders(now))
    store(warehouse, city_orders(now)[:3])  # redelivered
    points = stored_points(warehouse)
    assert set(points) == set(ORDERS)
    expected = defaultdict(list)
    for order_id, (lon, lat, map_lon, map_lat) in points.items():
        assert (map_lon, map_lat) == pytest.approx(ORDERS[order_id][0], abs=1e-9)  # GCJ-02 kept as sent
        assert abs(map_lon - lon) > 1e-3  # and converted to WGS-84, a few hundred metres away
        cell = h3.str_to_int(h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 11), resolution))
        expected[cell].append((ORDERS[order_id][1] == 4, map_lon - lon, map_lat - lat))
    grid = run(warehouse, mq.order_grid(now - DAY, now, CITY, resolution))
    assert list(grid.columns) == ["cell", "n", "rate", "dx", "dy"]
    got = {int(r.cell): r for r in grid.itertuples()}
    assert set(got) == set(expected)
    for cell, orders in expected.items():
        row = got[cell]
        assert int(row.n) == len(orders)
        assert row.rate == pytest.approx(sum(o[0] for o in orders) / len(orders))
        assert row.dx == pytest.approx(sum(o[1] for o in orders) / len(orders), abs=1e-9)
        assert row.dy == pytest.approx(sum(o[2] for o in orders) / len(orders), abs=1e-9)
    assert grid["n"].tolist() == sorted(grid["n"].tolist(), reverse=True)


def test_grid_merges_near_orders_into_one_cell_with_the_overdue_share(warehouse, now):
    store(warehouse, city_orders(now))
    around = (113.32, 23.13, 113.33, 23.14)  # WO-OVERDUE (overdue) and WO-NEAR (open)
    coarse = run(warehouse, mq.order_grid(now - DAY, now, around, 5))
    assert coarse["n"].tolist() == [2] and coarse["rate"].tolist() == [0.5]
    fine = run(warehouse, mq.order_grid(now - DAY, now, around, 11))
    assert sorted(fine["n"].tolist()) == [1, 1] and sorted(fine["rate"].tolist()) == [0.0, 1.0]


def test_grid_leaves_out_orders_without_a_location(warehouse, now):
    store(warehouse, [order_event("WO-NOWHERE.1", "WO-NOWHERE", now - HOUR, "received", None)])
    assert run(warehouse, ("SELECT h3 FROM hotline_events", {}))["h3"].tolist() == [0]
    assert run(warehouse, mq.order_grid(now - DAY, now, CITY, 8)).empty


# --- stations: the newest reading ----------------------------------------------------------------------------------

def sensor_event(station_id: str, at: float, readings: dict, event_id: str | None = None) -> dict:
    station = load_stations()[station_id]
    event = {"event_id": event_id or f"{station_id}.{int(at)}", "schema": f"{station.family}.v1", "ts": ms(at),
             "station_id": station_id, "station_type": station.type, "readings": readings}
    return {**event, "interval_s": 300} if station.family == "water" else {**event, "averaging": "1h"}


def values(row: dict, names) -> dict:
    """The named columns of a result row, with NULL (None, NaN or NA, by backend) as None."""
    return {n: None if pd.isna(row[n]) else row[n] for n in names}


def test_water_latest_gives_each_stations_newest_reading(warehouse, now):
    events = [sensor_event("GZ-RV-001", now - 1800, {"water_level_m": 1.5}),
              sensor_event("GZ-RV-001", now - 300, {"water_level_m": 2.31}),
              sensor_event("GZ-RV-001", now - 900, {"water_level_m": 2.9}),  # arrives late, is older
              sensor_event("GZ-RG-001", now - 600, {"rainfall_mm": 2.5}),
              sensor_event("GZ-RV-002", now - 2 * DAY, {"water_level_m": 2.7})]  # outside the window
    store(warehouse, events)
    store(warehouse, events[:2])  # redelivered
    frame = run(warehouse, mq.water_latest(now - DAY, now))
    assert list(frame.columns) == ["station_id", "station_type", "reading_ts", "district_code", "interval_s",
                                   *WATER_METRICS,
                                   "water_class", "state", "lon", "lat"]
    rows = {r["station_id"]: r for r in frame.to_dict("records")}
    assert list(rows) == ["GZ-RG-001", "GZ-RV-001"]
    river, rain = rows["GZ-RV-001"], rows["GZ-RG-001"]
    assert (river["station_type"], epoch(river["reading_ts"]), river["water_level_m"], river["state"]) == (
        "river_gauge", now - 300, 2.31, "over_warning")
    assert (rain["station_type"], epoch(rain["reading_ts"]), rain["rainfall_mm"]) == ("rain_gauge", now - 600, 2.5)
    assert (river["district_code"], rain["district_code"]) == ("440105", "440104")
    assert (int(river["interval_s"]), int(river["water_class"])) == (300, 0)
    registry = load_stations()
    for station_id, row in rows.items():  # the registry's place, in the map's CRS
        assert (row["lon"], row["lat"]) == pytest.approx((registry[station_id].lon, registry[station_id].lat))


def test_ecology_latest_gives_each_stations_newest_reading_with_its_aqi(warehouse, now):
    events = [sensor_event("GZ-AQ-001", now - 3600, {"pm25": 20.0, "pm10": 40.0}),
              sensor_event("GZ-AQ-001", now - 600, {"pm25": 120.0, "pm10": 150.0}),
              sensor_event("GZ-NS-001", now - 600, {"noise_db": 66.5})]
    store(warehouse, events)
    store(warehouse, events[1:])  # redelivered
    frame = run(warehouse, mq.ecology_latest(now - DAY, now))
    assert list(frame.columns) == ["station_id", "station_type", "reading_ts", "district_code", *ECOLOGY_METRICS,
                                   "aqi", "aqi_level", "primary_pollutants", "aqi_edition", "lon", "lat"]
    rows = {r["station_id"]: r for r in frame.to_dict("records")}
    assert list(rows) == ["GZ-AQ-001", "GZ-NS-001"]
    air, noise = rows["GZ-AQ-001"], rows["GZ-NS-001"]
    expected = hourly_aqi({"pm25": 120.0, "pm10": 150.0}, dt.datetime.fromtimestamp(now - 600, dt.timezone.utc))
    assert (epoch(air["reading_ts"]), air["pm25"], air["pm10"]) == (now - 600, 120.0, 150.0)
    assert (int(air["aqi"]), int(air["aqi_level"]), list(air["primary_pollutants"]), air["aqi_edition"]) == (
        expected.aqi, expected.level, list(expected.primary), expected.edition)
    assert (air["district_code"], noise["district_code"]) == ("440103", "440104")
    assert (noise["station_type"], noise["noise_db"], int(noise["aqi_level"])) == ("noise", 66.5, 0)
    assert values(noise, ["aqi", "pm25"]) == {"aqi": None, "pm25": None}


def test_latest_reading_is_not_mixed_with_values_of_older_readings(warehouse, now):
    # BUG (warehouse/map_queries.py, _latest): argMax(column, ts) skips NULLs (ClickHouse's -Null combinator), so
    # a metric the newest reading lacks is filled from an older reading: the row claims the newest time but shows
    # PM2.5 120 from an hour before beside an AQI of 15 computed without it (the station layer then draws both).
    # Fix: take whole rows, e.g. ORDER BY station_id, ts DESC, event_id LIMIT 1 BY station_id, or
    # argMax(tuple(...), ts) so NULLs are not skipped.
    store(warehouse, [sensor_event("GZ-AQ-001", now - 3600, {"pm25": 120.0, "no2": 20.0}),
                      sensor_event("GZ-AQ-001", now - 600, {"no2": 30.0}),
                      sensor_event("GZ-RV-001", now - 1800, {"water_level_m": 2.9}),
                      sensor_event("GZ-RV-001", now - 300, {"water_level_m": None})])
    air = run(warehouse, mq.ecology_latest(now - DAY, now)).to_dict("records")[0]
    assert epoch(air["reading_ts"]) == now - 600
    assert values(air, ["pm25", "no2"]) == {"pm25": None, "no2": 30.0}
    river = run(warehouse, mq.water_latest(now - DAY, now)).to_dict("records")[0]
    assert epoch(river["reading_ts"]) == now - 300
    assert values(river, ["water_level_m"]) == {"water_level_m": None}


def test_ecology_latest_feeds_the_district_aqi_metric(warehouse, now):
    # The AQI metric groups ecology_latest's rows by district_code: without that column the map's AQI choropleth
    # and the district panel (which computes every metric) fail as soon as any reading exists.
    store(warehouse, [sensor_event("GZ-AQ-002", now - 600, {"pm25": 50.0}),  # 海珠
                      sensor_event("GZ-AQ-004", now - 600, {"pm25": 90.0}),  # 海珠
                      sensor_event("GZ-AQ-003", now - 600, {"pm25": 20.0}),  # 天河
                      sensor_event("GZ-NS-003", now - 600, {"noise_db": 70.0})])  # 海珠, noise: no AQI
    ecology = run(warehouse, mq.ecology_latest(now - DAY, now))
    moment = dt.datetime.fromtimestamp(now - 600, dt.timezone.utc)
    aqi = {pm25: hourly_aqi({"pm25": pm25}, moment).aqi for pm25 in (50.0, 90.0, 20.0)}
    assert metric_values("aqi", pd.DataFrame(), pd.DataFrame(), ecology) == {
        "440105": round((aqi[50.0] + aqi[90.0]) / 2), "440106": aqi[20.0]}


# --- one event's history -----------------------------------------------------------------------------------------

def test_order_history_lists_each_event_once_in_time_order(warehouse, now):
    events = city_orders(now)
    store(warehouse, events)
    store(warehouse, [events[1], events[0]])  # redelivered, out of order
    frame = run(warehouse, mq.order_history("WO-OVERDUE"))
    assert list(frame.columns) == ["ts", "status", "category", "subcategory", "urgency", "district_code",
                                   "department", "deadline", "content", "satisfaction"]
    rows = frame.to_dict("records")
    assert [(epoch(r["ts"]), r["status"], r["department"], r["content"]) for r in rows] == [
        (now - 5 * HOUR, "received", "", "路边摊占道"), (now - 4 * HOUR, "dispatched", "天河区城管局", "")]
    assert pd.isna(rows[0]["deadline"]) and epoch(rows[1]["deadline"]) == now - HOUR
    assert {(r["category"], r["subcategory"], r["urgency"], r["district_code"]) for r in rows} == {
        ("城市管理", "占道经营", "normal", "440106")}
    visited = run(warehouse, mq.order_history("WO-VISITED"))
    assert visited["status"].tolist() == ["received", "completed", "visited"]
    assert visited["satisfaction"].tolist() == ["", "", "satisfied"]


def test_incident_history_lists_each_event_once_in_time_order(warehouse, now):
    events = city_incidents(now)
    store(warehouse, events)
    store(warehouse, events[-3:])  # redelivered
    frame = run(warehouse, mq.incident_history("EM-LATER"))
    assert list(frame.columns) == ["ts", "status", "type", "level", "district_code", "casualties", "units",
                                   "description"]
    rows = frame.to_dict("records")
    assert [(epoch(r["ts"]), r["status"], r["level"], list(r["units"])) for r in rows] == [
        (now - 4 * HOUR, "reported", "", []), (now - 3 * HOUR, "dispatched", "II", ["U1", "U2"]),
        (now - 2 * HOUR, "on_scene", "", ["U1", "U2", "U3"])]
    assert [None if pd.isna(r["casualties"]) else int(r["casualties"]) for r in rows] == [None, 1, None]
    assert [r["description"] for r in rows] == ["", "山体滑坡，1人受伤", ""]
    assert {(r["type"], r["district_code"]) for r in rows} == {("landslide", "440104")}


def test_history_of_an_unknown_id_is_empty_and_ids_are_matched_exactly(warehouse, now):
    store(warehouse, city_orders(now) + city_incidents(now))
    assert run(warehouse, mq.order_history("WO-NONE")).empty
    assert run(warehouse, mq.order_history("WO-OVERDUE' OR '1'='1")).empty
    assert run(warehouse, mq.order_history("wo-overdue")).empty
    assert run(warehouse, mq.incident_history("EM-%")).empty
