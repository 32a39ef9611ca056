"""The brief's queries (warehouse/brief_queries.py): the pure builders and period arithmetic, then exact results
on both backends from a crafted day of work orders and incidents with known answers, redeliveries and events
on the period's boundaries."""
import datetime as dt
from zoneinfo import ZoneInfo

import h3
import pandas as pd
import pytest

from tests.helpers import Clock, store_directly
from warehouse import brief_queries as bq
from warehouse.map_queries import h3_parent_masks
from warehouse.queries import run
from warehouse.sql import PLACEHOLDER, check_params

HOUR = 3600
DAY = 86400
TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
# GCJ-02 points inside the districts named
TIANHE = (113.3245, 23.1375)
TIANHE_NEAR = (113.3246, 23.1376)  # ~15 m away: the same hotspot cell
YUEXIU = (113.2644, 23.1291)
HAIZHU = (113.3172, 23.0836)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def order(event_id: str, order_id: str, at: int, status: str, place=TIANHE, **fields) -> dict:
    return {"event_id": event_id, "schema": "hotline.v1", "ts": ms(at), "order_id": order_id, "status": status,
            "category": "城市管理", "subcategory": "占道经营", **fields,
            "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"}}


def incident(event_id: str, incident_id: str, at: int, status: str, level=None, place=TIANHE, **fields) -> dict:
    event = {"event_id": event_id, "schema": "emergency.v1", "ts": ms(at), "incident_id": incident_id,
             "type": "fire", "status": status, "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"},
             **fields}
    return {**event, "level": level} if level else event


# The period's day, a local midnight, and the decoder's clock three days later: the period, its previous day and
# last week's day are all past.
DAY_START = int(dt.datetime(2026, 12, 4, tzinfo=SHANGHAI).timestamp())
NOW = Clock(DAY_START + 3 * DAY)


@pytest.fixture
def day() -> int:
    return DAY_START


def city_day(d: int) -> list[dict]:
    """The day [d, d + 1 day) and its neighbours:
    WO-A  天河 received at the period's first second, dispatched (deadline +10 h), completed +5 h, visited satisfied
    WO-B  天河 received, deadline +8 h, completed +9 h (late), visited basically satisfied
    WO-C  天河 received, deadline +12 h, never completed: overdue at the end
    WO-D  越秀 水电气, deadline at the period's last second, completed +20 h (on time), visited dissatisfied
    WO-E  海珠 交通出行, received only, no deadline
    WO-F  天河 received at the previous day's last second       WO-G  天河 received at the previous day's start
    WO-N  天河 received at the next day's first second (outside)  WO-L  天河 received on last week's day
    WO-X  天河 received today, due tomorrow (not due in the period)"""
    end = d + DAY
    return [
        order("A1", "WO-A", d, "received"),
        order("A2", "WO-A", d + HOUR, "dispatched", deadline=ms(d + 10 * HOUR)),
        order("A3", "WO-A", d + 5 * HOUR, "completed"),
        order("A4", "WO-A", d + 6 * HOUR, "visited", satisfaction="satisfied"),
        order("B1", "WO-B", d + HOUR, "received", place=TIANHE_NEAR),
        order("B2", "WO-B", d + 2 * HOUR, "dispatched", place=TIANHE_NEAR, deadline=ms(d + 8 * HOUR)),
        order("B3", "WO-B", d + 9 * HOUR, "completed", place=TIANHE_NEAR),
        order("B4", "WO-B", d + 10 * HOUR, "visited", place=TIANHE_NEAR, satisfaction="basically_satisfied"),
        order("C1", "WO-C", d + 2 * HOUR, "received"),
        order("C2", "WO-C", d + 3 * HOUR, "dispatched", deadline=ms(d + 12 * HOUR)),
        order("D1", "WO-D", d + 3 * HOUR, "received", YUEXIU, category="水电气", subcategory="停水"),
        order("D2", "WO-D", d + 4 * HOUR, "dispatched", YUEXIU, category="水电气", deadline=ms(end - 1)),
        order("D3", "WO-D", d + 20 * HOUR, "completed", YUEXIU, category="水电气"),
        order("D4", "WO-D", d + 21 * HOUR, "visited", YUEXIU, category="水电气", satisfaction="dissatisfied"),
        order("E1", "WO-E", d + 4 * HOUR, "received", HAIZHU, category="交通出行"),
        order("F1", "WO-F", d - 1, "received"),
        order("G1", "WO-G", d - DAY, "received"),
        order("N1", "WO-N", end, "received"),
        order("L1", "WO-L", d - 7 * DAY + HOUR, "received"),
        order("X1", "WO-X", d + 5 * HOUR, "received", HAIZHU, category="交通出行"),
        order("X2", "WO-X", d + 6 * HOUR, "dispatched", HAIZHU, category="交通出行", deadline=ms(end + HOUR)),
    ]


def city_incidents(d: int) -> list[dict]:
    """EM-1 reported in the period, grade I, open      EM-2 grade II, closed in the period
    EM-3 reported ungraded, graded III later (a later event carries no grade)    EM-4 grade IV
    EM-OLD grade II reported two days before, still open (major, not new)
    EM-SHUT grade I reported two days before, closed the day before (neither)
    EM-NEXT grade I at the next day's first second (outside)   EM-PREV grade III the previous day"""
    return [
        incident("I1.1", "EM-1", d + 2 * HOUR, "reported", "I", description="天河路商铺火灾"),
        incident("I1.2", "EM-1", d + 3 * HOUR, "on_scene", casualties=2),
        incident("I2.1", "EM-2", d + 3 * HOUR, "reported", "II", YUEXIU),
        incident("I2.2", "EM-2", d + 6 * HOUR, "closed", "II", YUEXIU),
        incident("I3.1", "EM-3", d + HOUR, "reported"),
        incident("I3.2", "EM-3", d + 2 * HOUR, "dispatched", "III"),
        incident("I3.3", "EM-3", d + 3 * HOUR, "on_scene"),
        incident("I4.1", "EM-4", d + 4 * HOUR, "reported", "IV", HAIZHU),
        incident("IO.1", "EM-OLD", d - 2 * DAY, "reported", "II", HAIZHU),
        incident("IS.1", "EM-SHUT", d - 2 * DAY, "reported", "I"),
        incident("IS.2", "EM-SHUT", d - DAY + HOUR, "closed", "I"),
        incident("IN.1", "EM-NEXT", d + DAY, "reported", "I"),
        incident("IP.1", "EM-PREV", d - 3 * HOUR, "reported", "III"),
    ]


def stored(warehouse, d: int, redeliver: bool = True) -> None:
    orders, incidents = city_day(d), city_incidents(d)
    store_directly(warehouse, orders + incidents, NOW)
    if redeliver:  # a consumer restart redelivers part of the stream
        store_directly(warehouse, orders[:4] + orders[10:14] + incidents[:3], NOW)


# --- the pure builders -------------------------------------------------------------------------------------------

START, END = 1_790_000_011, 1_790_086_411
TYPES = {"history": "UInt32", "start": "UInt32", "end": "UInt32", "keep": "UInt64", "add": "UInt64"}


@pytest.mark.parametrize("query, params", [
    (bq.reported_incidents_by_grade(START, END), {"history": START - bq.HISTORY, "start": START, "end": END}),
    (bq.major_incidents(START, END), {"history": START - bq.HISTORY, "start": START, "end": END}),
    (bq.hotspot_cells(START, END, 8), {"start": START, "end": END, "keep": h3_parent_masks(8)[0],
                                       "add": h3_parent_masks(8)[1]}),
], ids=["reported_incidents_by_grade", "major_incidents", "hotspot_cells"])
def test_builders_bind_every_value_as_a_typed_parameter(query, params):
    sql, bound = query
    assert bound == params
    assert check_params(sql, bound) == params
    declared = {(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(sql)}
    assert declared == {(name, TYPES[name]) for name in params}
    for value in params.values():
        assert str(value) not in sql


def test_lists_are_capped_by_an_integer_limit():
    assert bq.major_incidents(START, END, limit=7)[0].rstrip().endswith("LIMIT 7")
    assert bq.hotspot_cells(START, END, limit="3")[0].rstrip().endswith("LIMIT 3")
    with pytest.raises(ValueError):
        bq.hotspot_cells(START, END, limit="3; DROP TABLE hotline_events")


def local(*args) -> int:
    return int(dt.datetime(*args, tzinfo=SHANGHAI).timestamp())


def test_a_past_day_is_compared_with_the_day_before_and_the_same_weekday_last_week():
    start, end = local(2026, 3, 10), local(2026, 3, 11)
    current, previous, last_week = bq.windows(start, end, TZ, now=local(2026, 3, 12, 9))
    assert current == bq.Window(start, end)
    assert previous == bq.Window(local(2026, 3, 9), local(2026, 3, 10))
    assert last_week == bq.Window(local(2026, 3, 3), local(2026, 3, 4))


def test_a_running_day_is_compared_over_the_same_hours():
    start, end = local(2026, 3, 10), local(2026, 3, 11)
    current, previous, last_week = bq.windows(start, end, TZ, now=local(2026, 3, 10, 14, 30))
    assert current == bq.Window(start, local(2026, 3, 10, 14, 30))
    assert previous == bq.Window(local(2026, 3, 9), local(2026, 3, 9, 14, 30))
    assert last_week == bq.Window(local(2026, 3, 3), local(2026, 3, 3, 14, 30))


def test_a_week_is_compared_with_the_week_before_only():
    start, end = local(2026, 3, 9), local(2026, 3, 16)
    current, previous, last_week = bq.windows(start, end, TZ, now=local(2026, 4, 1))
    assert (current, previous, last_week) == (bq.Window(start, end), bq.Window(local(2026, 3, 2), start), None)


def test_shifting_by_days_keeps_the_local_wall_clock_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")  # clocks went forward on 2026-03-29
    after = int(dt.datetime(2026, 3, 30, tzinfo=berlin).timestamp())
    assert bq.shift_days(after, -1, "Europe/Berlin") == int(dt.datetime(2026, 3, 29, tzinfo=berlin).timestamp())
    assert after - bq.shift_days(after, -1, "Europe/Berlin") == 23 * HOUR
    assert bq.local_days(bq.shift_days(after, -1, "Europe/Berlin"), after, "Europe/Berlin") == 1


def test_numbers_of_an_empty_period_have_no_rates():
    empty = bq.numbers(bq.Window(START, END), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    assert (empty.received, empty.due, empty.incidents_total, empty.major) == (0, 0, 0, 0)
    assert empty.on_time_rate is None and empty.satisfaction_rate is None


# --- exact results on both backends -------------------------------------------------------------------------------

def test_the_days_kpis_follow_the_domain_definitions(warehouse, day):
    stored(warehouse, day)
    data = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    now = data.current
    assert now.window == bq.Window(day, day + DAY)
    # A (at the first second), B, C, D, E, X; not F (the day before's last second) nor N (the next day's first)
    assert (now.received, now.completed) == (6, 3)
    # due in the day: A, B, C and D (deadline at the last second); on time: A and D; X is due tomorrow
    assert (now.due, now.due_on_time, now.on_time_rate) == (4, 2, 0.5)
    assert (now.rated, now.satisfied) == (3, 2)
    assert now.satisfaction_rate == pytest.approx(2 / 3)
    assert now.overdue_open == 1  # C (X is due tomorrow)


def test_the_previous_day_and_last_weeks_day_are_counted_apart(warehouse, day):
    stored(warehouse, day)
    data = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    assert data.previous.window == bq.Window(day - DAY, day)
    assert data.previous.received == 2  # F and G
    assert data.previous.incidents == {"III": 1}  # EM-PREV
    assert data.last_week.window == bq.Window(day - 7 * DAY, day - 6 * DAY)
    assert (data.last_week.received, data.last_week.incidents_total) == (1, 0)  # L


def test_redelivered_events_count_once(warehouse, day):
    stored(warehouse, day, redeliver=False)
    once = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    store_directly(warehouse, city_day(day) + city_incidents(day), NOW)  # everything again
    twice = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    assert twice.current == once.current and twice.previous == once.previous
    assert twice.categories.equals(once.categories)
    assert twice.major.equals(once.major)
    assert twice.cells.equals(once.cells)


def test_incidents_by_grade_count_new_ones_with_their_grade_at_the_end(warehouse, day):
    stored(warehouse, day)
    data = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    # EM-3 was graded III after its report; EM-OLD and EM-SHUT are older, EM-NEXT is the next day's
    assert data.current.incidents == {"I": 1, "II": 1, "III": 1, "IV": 1}
    assert (data.current.incidents_total, data.current.major) == (4, 2)
    levels = run(warehouse, bq.reported_incidents_by_grade(day, day + DAY))
    assert list(levels.columns) == ["grade", "incidents"]


def test_major_incidents_are_grade_i_and_ii_open_at_some_time_in_the_period(warehouse, day):
    stored(warehouse, day)
    major = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW()).major
    assert list(major.columns) == ["incident_id", "reported_s", "closed_s", "grade", "status", "district_code",
                                   "type", "casualties", "description"]
    rows = [(r.incident_id, int(r.reported_s), int(r.closed_s), r.grade, r.status, r.district_code)
            for r in major.itertuples()]
    assert rows == [
        ("EM-1", day + 2 * HOUR, 0, "I", "on_scene", "440106"),
        ("EM-2", day + 3 * HOUR, day + 6 * HOUR, "II", "closed", "440104"),
        ("EM-OLD", day - 2 * DAY, 0, "II", "reported", "440105"),
    ]
    first = major.iloc[0]
    assert (int(first["casualties"]), first["description"]) == (2, "天河路商铺火灾")


def test_categories_and_districts_of_the_period(warehouse, day):
    stored(warehouse, day)
    data = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW())
    assert list(zip(data.categories["category"], data.categories["received"].astype(int))) == [
        ("城市管理", 3), ("交通出行", 2), ("水电气", 1)]
    received = dict(zip(data.activity["district_code"], data.activity["received"].astype(int)))
    assert received == {"440104": 1, "440105": 2, "440106": 3}
    states = {r.district_code: (int(r.due), int(r.due_on_time), int(r.rated), int(r.satisfied))
              for r in data.states.itertuples()}
    assert states["440106"] == (3, 1, 2, 2) and states["440104"] == (1, 1, 1, 0)
    assert states["440105"][:2] == (0, 0)


def test_hotspot_cells_are_the_h3_parents_of_the_received_orders(warehouse, day):
    stored(warehouse, day)
    cells = bq.load_brief(warehouse, day, day + DAY, TZ, now=NOW()).cells
    assert list(cells.columns) == ["cell", "received", "district_code", "category"]
    points = run(warehouse, ("SELECT order_id, any(lon) AS lon, any(lat) AS lat FROM hotline_events "
                             "WHERE status = 'received' GROUP BY order_id", {}))
    where = {r.order_id: h3.str_to_int(h3.cell_to_parent(h3.latlng_to_cell(r.lat, r.lon, 11), 8))
             for r in points.itertuples()}
    tianhe = where["WO-A"]
    assert where["WO-B"] == where["WO-C"] == tianhe
    top = cells.iloc[0]
    assert (int(top["cell"]), int(top["received"]), top["district_code"], top["category"]) == (
        tianhe, 3, "440106", "城市管理")
    assert int(cells["received"].sum()) == 6  # every order received in the period, in its cell
    assert cells["received"].tolist() == sorted(cells["received"].tolist(), reverse=True)


def test_a_running_day_stops_at_now(warehouse, day):
    stored(warehouse, day)
    data = bq.load_brief(warehouse, day, day + DAY, TZ, now=day + 2 * HOUR + 1)
    assert data.current.window == bq.Window(day, day + 2 * HOUR + 1)
    assert data.current.received == 3  # A, B and C (C at exactly 2 h)
    assert data.previous.window == bq.Window(day - DAY, day - DAY + 2 * HOUR + 1)
    assert data.previous.received == 1  # G; F came later in that day
    assert data.current.incidents == {"I": 1, "III": 1}  # EM-3 was graded III at 2 h


def test_an_empty_warehouse_gives_zeros_and_empty_lists(warehouse, day):
    data = bq.load_brief(warehouse, day, day + 7 * DAY, TZ, now=day + 8 * DAY)
    assert data.last_week is None
    assert data.current.received == 0 and data.current.on_time_rate is None
    assert data.categories.empty and data.cells.empty and data.major.empty
