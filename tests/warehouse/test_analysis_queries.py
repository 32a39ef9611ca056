"""The analyst screens' queries (warehouse/analysis_queries.py): the pure builders as a table, then exact answers on
both backends from crafted contract events stored through the ingest decoder — period boundaries, the status as at
each period's end, filter combinations, the previous period, H3 cells, and redelivered events counted once."""
import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import h3
import pandas as pd
import pytest

from config.settings import load
from ingest.consume import make_decoder
from ingest.direct import store_events
from tests.helpers import Clock
from warehouse import analysis_queries as aq
from warehouse.map_queries import h3_parent_masks
from warehouse.queries import run
from warehouse.sql import PLACEHOLDER, check_params

HOUR, DAY = 3600, 86400
TIANHE = (113.3245, 23.1375)  # GCJ-02 points inside the districts named (as tests/warehouse/test_map_queries.py)
TIANHE_FAR = (113.3700, 23.1550)  # ~5 km east, still 天河
YUEXIU = (113.2644, 23.1291)
HAIZHU = (113.3172, 23.0836)
OPEN = ("received", "dispatched", "accepted", "processing", "reopened")
# The period's end: a fixed whole hour, not a local midnight (the queries must not rely on one); "now" is a day on.
PERIOD_END = int(dt.datetime(2026, 12, 5, 13, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())


@lru_cache(maxsize=1)
def decoder():
    return make_decoder(load(environ={}), clock=Clock(PERIOD_END + DAY))


def store(warehouse, events: list[dict]) -> None:
    assert store_events(warehouse, decoder(), events) == len(events)


def order(order_id: str, steps: list[tuple[int, str]], place=TIANHE, category="城市管理", **fields) -> list[dict]:
    """One work order's events: (epoch s, status) per step; the receipt carries the citizen's words."""
    events = []
    for i, (at, status) in enumerate(steps, 1):
        event = {"event_id": f"{order_id}.{i}", "schema": "hotline.v1", "ts": at * 1000, "order_id": order_id,
                 "status": status, "category": category, "subcategory": "占道经营", **fields}
        if status == "received":
            event["content"] = f"{order_id} 的诉求"
        if place is not None:
            event["location"] = {"lon": place[0], "lat": place[1], "crs": "GCJ02"}
        events.append(event)
    return events


def incident(incident_id: str, steps: list[tuple[int, str, str | None]], kind="fire", place=TIANHE) -> list[dict]:
    """One incident's events: (epoch s, status, grade or None) per step."""
    events = []
    for i, (at, status, grade) in enumerate(steps, 1):
        event = {"event_id": f"{incident_id}.{i}", "schema": "emergency.v1", "ts": at * 1000,
                 "incident_id": incident_id, "type": kind, "status": status, "description": f"{incident_id} 现场",
                 "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"}}
        if grade:
            event["level"] = grade
        events.append(event)
    return events


@pytest.fixture(scope="module")
def clock() -> tuple[int, int, int]:
    """(since, start, end): the period [start, end) is two whole days ending a day before the decoder's now, the
    previous one the two days before it (every event lies in the past, as ingest requires)."""
    return PERIOD_END - 4 * DAY, PERIOD_END - 2 * DAY, PERIOD_END


def city_orders(since: int, start: int, end: int) -> list[dict]:
    """Work orders around the period's boundaries (district, category, state as at the end of its period):
    A  天河 城市管理, completed in the period                                        → done
    B  天河 水电气, urgent, dispatched; completed only after the end              → dispatched (open)
    C  越秀 城市管理, completed and visited on the period's second day           → visited (done)
    D  海珠 交通出行, received exactly at the start (belongs to the period)      → received
    E  received exactly at the end                                              → not counted
    R  天河 城市管理, completed then reopened                                    → reopened (open)
    N  no location: no district, no cell                                        → received
    F  天河 城市管理, received a second before the start (previous period);
       dispatched and completed after it                                        → previous, received as at the start
    G  越秀 城市管理, received exactly at the previous period's start, completed → previous, done
    H  received a second before the previous period, dispatched inside it       → not counted"""
    return [
        *order("A", [(start + HOUR, "received"), (start + 2 * HOUR, "dispatched"), (start + 5 * HOUR, "completed")]),
        *order("B", [(start + 3 * HOUR, "received"), (start + 4 * HOUR, "dispatched"), (end + HOUR, "completed")],
               category="水电气", urgency="urgent"),
        *order("C", [(start + 30 * HOUR, "received"), (start + 31 * HOUR, "completed"), (start + 32 * HOUR, "visited")],
               place=YUEXIU),
        *order("D", [(start, "received")], place=HAIZHU, category="交通出行"),
        *order("E", [(end, "received")]),
        *order("R", [(start + 6 * HOUR, "received"), (start + 10 * HOUR, "completed"), (start + 20 * HOUR, "reopened")],
               place=TIANHE_FAR),
        *order("N", [(start + 7 * HOUR, "received")], place=None),
        *order("F", [(start - 1, "received"), (start + HOUR, "dispatched"), (start + 2 * HOUR, "completed")]),
        *order("G", [(since, "received"), (since + DAY, "completed")], place=YUEXIU),
        *order("H", [(since - 1, "received"), (since + HOUR, "dispatched")]),
    ]


def city_incidents(since: int, start: int, end: int) -> list[dict]:
    """I1 graded II, closed in the period (done, major); I2 graded IV, raised to I only after the end (not major
    as at the end); I3 reported before the start, closed after it (previous, open as at the start); I4 graded I in
    the previous period (previous, major)."""
    return [
        *incident("I1", [(start + HOUR, "reported", "II"), (start + 5 * HOUR, "closed", None)]),
        *incident("I2", [(start + 2 * HOUR, "reported", "IV"), (start + 3 * HOUR, "dispatched", None),
                         (end + HOUR, "on_scene", "I")], kind="flood", place=YUEXIU),
        *incident("I3", [(start - HOUR, "reported", "III"), (start + HOUR, "closed", None)], kind="traffic"),
        *incident("I4", [(since + HOUR, "reported", "I")], kind="fire"),
    ]


@pytest.fixture
def city(warehouse, clock):
    """The crafted city, stored twice over in part: a consumer restart redelivers events."""
    events = city_orders(*clock) + city_incidents(*clock)
    store(warehouse, events)
    store(warehouse, events[::2])
    return warehouse


def counts(frame: pd.DataFrame, previous: int = 0) -> dict:
    """key → (n, open, done, major) of one period's rows."""
    rows = frame[frame["previous"] == previous]
    return {r.key: (r.n, r.open, r.done, r.major) for r in rows.itertuples()}


def totals(o: aq.Overview) -> dict:
    return {int(r.previous): (r.n, r.open, r.done, r.major) for r in o.totals.itertuples()}


def slots(o: aq.Overview, previous: int = 0) -> dict:
    rows = o.slots[o.slots["previous"] == previous]
    return {int(r.slot): int(r.n) for r in rows.itertuples()}


def overview(wh, clock, compare=True, by="district", grain="day", resolution=8, **filters) -> aq.Overview:
    _, start, end = clock
    return aq.load_overview(wh, aq.Filters(**filters), aq.Period(start, end, compare), by, grain, resolution)


# --- the pure builders -------------------------------------------------------------------------------------------

START, END = 1_790_000_000, 1_790_172_800
HOSTILE = "城市管理' OR 1=1 --"
TYPES = {"opening": "String", "since": "UInt32", "start": "UInt32", "end": "UInt32", "step": "UInt32",
         "done": "Array(String)", "district": "String", "category": "String", "statuses": "Array(String)",
         "keep": "UInt64", "add": "UInt64", "cell": "UInt64", "cell_keep": "UInt64", "cell_add": "UInt64",
         "limit": "UInt32"}
CELL = h3.str_to_int(h3.latlng_to_cell(23.1401, 113.3191, 9))
WINDOW = {"opening": "received", "start": START, "end": END}


@pytest.mark.parametrize("query, params", [
    (aq.overview(aq.Filters(), aq.Period(START, END)),
     {**WINDOW, "since": START, "step": DAY, "done": ["completed", "visited"]}),
    (aq.overview(aq.Filters(), aq.Period(START, END, compare=True), grain="hour"),
     {**WINDOW, "since": START - (END - START), "step": HOUR, "done": ["completed", "visited"]}),
    (aq.overview(aq.Filters(source="emergency", category=HOSTILE, statuses=("closed",)), aq.Period(START, END)),
     {**WINDOW, "opening": "reported", "since": START, "step": DAY, "done": ["closed"], "category": HOSTILE,
      "statuses": ["closed"]}),
    (aq.overview(aq.Filters(district="440106", cell=CELL), aq.Period(START, END), by="cell", resolution=7),
     {**WINDOW, "since": START, "step": DAY, "done": ["completed", "visited"], "district": "440106",
      "keep": h3_parent_masks(7)[0], "add": h3_parent_masks(7)[1], "cell": CELL,
      "cell_keep": h3_parent_masks(9)[0], "cell_add": h3_parent_masks(9)[1]}),
    (aq.entity_list(aq.Filters(district=HOSTILE, statuses=("received", "reopened")), aq.Period(START, END), 50),
     {"opening": "received", "since": START, "end": END, "district": HOSTILE, "statuses": ["received", "reopened"],
      "limit": 50}),
], ids=["city", "compare-hourly", "emergency-filtered", "district-cells", "entity-list"])
def test_builders_bind_every_value_as_a_typed_parameter(query, params):
    sql, bound = query
    assert bound == params
    assert check_params(sql, bound) == params  # every placeholder has a value and every value a placeholder
    declared = {(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(sql)}
    assert declared == {(name, TYPES[name]) for name in params}
    for value in params.values():
        if isinstance(value, (int, str)) and len(str(value)) > 2:  # never spliced into the text
            assert str(value) not in sql


def test_only_whitelisted_tables_and_columns_reach_the_text():
    hotline, _ = aq.overview(aq.Filters(category="x"), aq.Period(START, END))
    emergency, _ = aq.overview(aq.Filters(source="emergency", category="x"), aq.Period(START, END))
    assert "FROM hotline_events" in hotline and "emergency_events" not in hotline
    assert "FROM emergency_events" in emergency and "type = {category:String}" in emergency


@pytest.mark.parametrize("call, message", [
    (lambda: aq.overview(aq.Filters(source="water_readings"), aq.Period(START, END)),
     "unknown source 'water_readings'"),
    (lambda: aq.overview(aq.Filters(), aq.Period(START, END), by="street"), "unknown place grouping 'street'"),
    (lambda: aq.overview(aq.Filters(), aq.Period(START, END), grain="minute"), "unknown grain 'minute'"),
    (lambda: aq.overview(aq.Filters(statuses=("closed",)), aq.Period(START, END)), "unknown statuses ['closed']"),
    (lambda: aq.entity_list(aq.Filters(source="emergency", statuses=("visited",)), aq.Period(START, END)),
     "unknown statuses ['visited']"),
    (lambda: aq.overview(aq.Filters(), aq.Period(START, END), by="cell", resolution=12), "outside 0–11"),
])
def test_builders_refuse_values_outside_their_whitelists(call, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_the_previous_period_has_the_same_length_and_ends_at_the_start():
    assert aq.Period(START, END, compare=True).since == START - (END - START)
    assert aq.Period(START, END).since == START


def test_a_cell_filter_uses_the_masks_of_the_cells_own_resolution():
    for resolution in (7, 8, 9, 11):
        cell = h3.str_to_int(h3.latlng_to_cell(23.13, 113.32, resolution))
        assert aq.cell_masks(cell) == h3_parent_masks(resolution)


# --- the city: totals, districts, categories, time slots ----------------------------------------------------------

def test_each_order_counts_once_with_its_status_as_at_the_end_of_its_period(city, clock):
    o = overview(city, clock)
    # A, B, C, D, R, N: done A and C; B completed only after the end; R reopened; urgent B
    assert totals(o) == {0: (6, 4, 2, 1), 1: (2, 1, 1, 0)}  # previous: F (received as at the start), G done


def test_city_by_district_and_the_previous_period(city, clock):
    o = overview(city, clock)
    assert counts(o.places) == {"": (1, 1, 0, 0), "440104": (1, 0, 1, 0), "440105": (1, 1, 0, 0),
                                "440106": (3, 2, 1, 1)}
    assert counts(o.places, previous=1) == {"440104": (1, 0, 1, 0), "440106": (1, 1, 0, 0)}
    assert o.places["dx"].isna().all()  # offsets are for cells only


def test_categories_and_day_slots_from_each_periods_start(city, clock):
    o = overview(city, clock)
    assert counts(o.kinds) == {"城市管理": (4, 2, 2, 0), "水电气": (1, 1, 0, 1), "交通出行": (1, 1, 0, 0)}
    assert counts(o.kinds, previous=1) == {"城市管理": (2, 1, 1, 0)}
    assert slots(o) == {0: 5, 1: 1}  # C was received on the second day
    assert slots(o, previous=1) == {0: 1, 1: 1}  # G at the previous start, F a second before the start


def test_hour_slots(city, clock):
    assert slots(overview(city, clock, grain="hour")) == {0: 1, 1: 1, 3: 1, 6: 1, 7: 1, 30: 1}


def test_without_comparison_there_are_no_previous_rows(city, clock):
    o = overview(city, clock, compare=False)
    assert totals(o) == {0: (6, 4, 2, 1)}
    assert set(o.places["previous"]) == set(o.kinds["previous"]) == set(o.slots["previous"]) == {0}


def test_a_period_boundary_belongs_to_the_period_that_starts_there(city, clock):
    since, start, end = clock
    day_one = aq.load_overview(city, aq.Filters(), aq.Period(start, start + DAY, compare=True))
    # the first day: D at the start, A, B, R, N; the day before it: F only (G and H are older)
    assert totals(day_one) == {0: (5, 4, 1, 1), 1: (1, 1, 0, 0)}
    after = aq.load_overview(city, aq.Filters(), aq.Period(end, end + HOUR))
    assert totals(after) == {0: (1, 1, 0, 0)}  # E, received exactly at the end


def test_redelivered_events_count_once(city, clock):
    before = overview(city, clock)
    store(city, city_orders(*clock))  # every order event once more
    after = overview(city, clock)
    assert totals(after) == totals(before) == {0: (6, 4, 2, 1), 1: (2, 1, 1, 0)}
    pd.testing.assert_frame_equal(after.places, before.places)


# --- filters ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("filters, current, previous", [
    ({"category": "城市管理"}, (4, 2, 2, 0), (2, 1, 1, 0)),
    ({"category": "水电气"}, (1, 1, 0, 1), None),
    ({"category": "不存在的类别"}, None, None),
    ({"statuses": ("completed", "visited")}, (2, 0, 2, 0), (1, 0, 1, 0)),
    ({"statuses": ("received",)}, (2, 2, 0, 0), (1, 1, 0, 0)),  # D, N; F was only received at the start
    ({"statuses": ("dispatched",)}, (1, 1, 0, 1), None),  # B: its completion came after the end
    ({"statuses": ("reopened",)}, (1, 1, 0, 0), None),
    ({"statuses": OPEN}, (4, 4, 0, 1), (1, 1, 0, 0)),
    ({"district": "440106"}, (3, 2, 1, 1), (1, 1, 0, 0)),
    ({"district": "440106", "category": "城市管理"}, (2, 1, 1, 0), (1, 1, 0, 0)),
    ({"district": "440106", "category": "城市管理", "statuses": ("reopened",)}, (1, 1, 0, 0), None),
    ({"category": "城市管理", "statuses": OPEN}, (2, 2, 0, 0), (1, 1, 0, 0)),
    ({"district": "440115"}, None, None),
])
def test_filter_combinations(city, clock, filters, current, previous):
    expected = {period: value for period, value in ((0, current), (1, previous)) if value}
    assert totals(overview(city, clock, **filters)) == expected


def test_a_category_filter_leaves_only_that_category(city, clock):
    o = overview(city, clock, category="城市管理", statuses=OPEN)
    assert set(o.kinds["key"]) == {"城市管理"}
    assert counts(o.places) == {"": (1, 1, 0, 0), "440106": (1, 1, 0, 0)}


# --- a district by H3 cell, and one cell ----------------------------------------------------------------------------

def stored_cells(wh, resolution: int) -> dict[str, int]:
    """order_id → the H3 cell at ``resolution`` of its receipt, from the WGS-84 point ingest stored."""
    frame = run(wh, ("SELECT order_id, any(lon) AS x, any(lat) AS y FROM hotline_events "
                     "WHERE status = 'received' AND isNotNull(lon) GROUP BY order_id", {}))
    return {r.order_id: h3.str_to_int(h3.latlng_to_cell(r.y, r.x, resolution)) for r in frame.itertuples()}


@pytest.mark.parametrize("resolution", [7, 9])
def test_district_by_cell(city, clock, resolution):
    cells = stored_cells(city, resolution)
    o = overview(city, clock, by="cell", resolution=resolution, district="440106")
    expected = {}
    for order_id, done, major in (("A", 1, 0), ("B", 0, 1), ("R", 0, 0)):
        n0, open0, done0, major0 = expected.get(str(cells[order_id]), (0, 0, 0, 0))
        expected[str(cells[order_id])] = (n0 + 1, open0 + 1 - done, done0 + done, major0 + major)
    assert counts(o.places) == expected
    assert counts(o.places, previous=1) == {str(cells["F"]): (1, 1, 0, 0)}
    assert o.places["dx"].notna().all() and (o.places["dx"].abs() > 1e-3).all()  # GCJ-02 minus WGS-84
    assert totals(o) == {0: (3, 2, 1, 1), 1: (1, 1, 0, 0)}


def test_orders_without_a_location_fall_in_cell_zero(city, clock):
    o = overview(city, clock, by="cell", resolution=9, statuses=("received",))
    assert counts(o.places)["0"] == (1, 1, 0, 0)  # N


def test_a_cell_filter_counts_the_cell_and_keeps_every_cell_of_the_district_on_the_map(city, clock):
    cells = stored_cells(city, 9)
    assert cells["A"] == cells["B"] != cells["R"]
    o = overview(city, clock, by="cell", resolution=9, district="440106", cell=cells["A"])
    assert totals(o) == {0: (2, 1, 1, 1), 1: (1, 1, 0, 0)}  # A and B; before: F, at the same place
    assert counts(o.kinds) == {"城市管理": (1, 0, 1, 0), "水电气": (1, 1, 0, 1)}
    assert set(o.places[o.places["previous"] == 0]["key"]) == {str(cells["A"]), str(cells["R"])}


def test_a_coarser_cell_filter_takes_every_finer_cell_inside_it(city, clock):
    cells = {k: h3.int_to_str(v) for k, v in stored_cells(city, 9).items()}
    parent = h3.cell_to_parent(cells["A"], 6)
    inside = [o for o in ("A", "B", "R") if h3.cell_to_parent(cells[o], 6) == parent]
    o = overview(city, clock, by="cell", resolution=9, district="440106", cell=h3.str_to_int(parent))
    assert len(inside) >= 2 and totals(o)[0][0] == len(inside)


def test_entity_list_of_a_cell_newest_first(city, clock):
    _, start, end = clock
    cell = stored_cells(city, 9)["A"]
    rows = aq.load_entities(city, aq.Filters(district="440106", cell=cell), aq.Period(start, end))
    assert list(rows.columns) == ["id", "opened_at", "district", "kind", "subkind", "state", "major", "text"]
    assert [(r.id, int(r.opened_at), r.district, r.kind, r.subkind, r.state, int(r.major), r.text)
            for r in rows.itertuples()] == [
        ("B", start + 3 * HOUR, "440106", "水电气", "占道经营", "dispatched", 1, "B 的诉求"),
        ("A", start + HOUR, "440106", "城市管理", "占道经营", "completed", 0, "A 的诉求")]
    limited = aq.load_entities(city, aq.Filters(district="440106", cell=cell), aq.Period(start, end), limit=1)
    assert limited["id"].tolist() == ["B"]


def test_entity_list_filters_by_status_and_never_lists_the_previous_period(city, clock):
    _, start, end = clock
    rows = aq.load_entities(city, aq.Filters(statuses=("received",)), aq.Period(start, end, compare=True))
    assert rows["id"].tolist() == ["N", "D"]
    assert aq.load_entities(city, aq.Filters(category="不存在"), aq.Period(start, end)).empty


# --- incidents ----------------------------------------------------------------------------------------------------

def test_incidents_with_their_grade_and_status_as_at_each_periods_end(city, clock):
    o = overview(city, clock, source="emergency")
    assert totals(o) == {0: (2, 1, 1, 1), 1: (2, 2, 0, 1)}  # I2 raised to I after the end; I3 closed after the start
    assert counts(o.kinds) == {"fire": (1, 0, 1, 1), "flood": (1, 1, 0, 0)}
    assert counts(o.places) == {"440104": (1, 1, 0, 0), "440106": (1, 0, 1, 1)}
    assert totals(overview(city, clock, source="emergency", statuses=("closed",))) == {0: (1, 0, 1, 1)}
    assert totals(overview(city, clock, source="emergency", category="flood")) == {0: (1, 1, 0, 0)}


def test_incident_list_carries_grade_and_description(city, clock):
    _, start, end = clock
    rows = aq.load_entities(city, aq.Filters(source="emergency"), aq.Period(start, end))
    assert [(r.id, r.kind, r.subkind, r.state, int(r.major), r.text) for r in rows.itertuples()] == [
        ("I2", "flood", "IV", "dispatched", 0, "I2 现场"), ("I1", "fire", "II", "closed", 1, "I1 现场")]


def test_an_empty_warehouse_gives_empty_frames_with_their_columns(warehouse, clock):
    o = overview(warehouse, clock, by="cell", district="440106")
    assert o.totals.empty and list(o.totals.columns) == ["previous", *aq.COUNTS]
    assert o.places.empty and list(o.places.columns) == ["previous", "key", *aq.COUNTS, "dx", "dy"]
    assert list(o.slots.columns) == ["previous", "slot", *aq.COUNTS]
