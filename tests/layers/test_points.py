"""Event points layer: cell sizes, features of single events and of clusters from hand-built frames shaped like
warehouse/map_queries.order_clusters and incident_clusters, the legend, and the viewport box from client input."""
import math

import pandas as pd
import pytest

from layers.palette import SEVERITY
from layers.points import (
    CELL_PX,
    cell_size,
    event_features,
    legend_items,
    points_layer,
    viewport_box,
)

TZ = "Asia/Shanghai"
COLUMNS = ["gx", "gy", "n", "lon", "lat", "top", "red", "orange", "yellow", "blue", "done", "id", "ts", "category",
           "subcategory", "status"]
RED, ORANGE, YELLOW, BLUE, DONE = (SEVERITY[rank][0] for rank in (4, 3, 2, 1, 0))
AWARE = pd.Timestamp("2026-11-23 06:05:00", tz="UTC")  # 14:05 in Guangzhou, as chDB returns it
NAIVE = pd.Timestamp("2026-11-23 06:05:00")  # the same moment as naive UTC


def cell(n: int = 1, top: int = 1, *, red=0, orange=0, yellow=0, blue=0, done=0, id="", ts=AWARE, category="",
         subcategory="", status="", lon=113.3245, lat=23.1375) -> dict:
    if n == 1 and not any((red, orange, yellow, blue, done)):
        red, orange, yellow, blue, done = (int(top == rank) for rank in (4, 3, 2, 1, 0))
    return {"gx": 0.0, "gy": 0.0, "n": n, "lon": lon, "lat": lat, "top": top, "red": red, "orange": orange,
            "yellow": yellow, "blue": blue, "done": done, "id": id, "ts": ts, "category": category,
            "subcategory": subcategory, "status": status}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


NONE = frame()


def features(orders=NONE, incidents=NONE) -> list[dict]:
    doc = event_features(orders, incidents, TZ)
    assert doc["type"] == "FeatureCollection"
    return doc["features"]


def only(orders=NONE, incidents=NONE) -> dict:
    (feature,) = features(orders, incidents)
    return feature["properties"]


# --- cell size ---------------------------------------------------------------------------------------------------

def test_cell_size_is_the_degrees_under_the_cell_pixels_at_zoom_zero():
    assert cell_size(0) == CELL_PX * 360 / 256


@pytest.mark.parametrize("zoom", [3, 8, 11.5, 17])
def test_cell_size_halves_per_zoom_level(zoom):
    assert cell_size(zoom + 1) == pytest.approx(cell_size(zoom) / 2, rel=1e-12)
    assert cell_size(zoom + 3) == pytest.approx(cell_size(zoom) / 8, rel=1e-12)


def test_cell_size_is_kilometres_at_city_zoom_and_about_a_hundred_metres_at_street_zoom():
    assert cell_size(12) == pytest.approx(48 * 360 / 256 / 4096)  # ≈ 0.0165°, ~1.7 km
    assert 0.0005 < cell_size(16) < 0.002


# --- single events -----------------------------------------------------------------------------------------------

def test_a_single_order_shows_id_local_time_category_status_and_meaning():
    feature, = features(frame(cell(top=4, id="WO20261123A1", category="城市管理", subcategory="占道经营",
                                   status="dispatched", lon=113.32451234, lat=23.13754321)))
    assert feature == {"type": "Feature",
                       "geometry": {"type": "Point", "coordinates": [113.324512, 23.137543]},
                       "properties": {"kind": "order", "n": 1, "top": 4, "color": RED, "radius": 6.5,
                                      "id": "WO20261123A1",
                                      "lines": ["工单 WO20261123A1", "11-23 14:05 · 城市管理 · 占道经营",
                                                "状态：派单 · 超期在办"]}}


@pytest.mark.parametrize("ts", [AWARE, NAIVE, NAIVE.to_pydatetime(), AWARE.to_pydatetime()],
                         ids=["aware", "naive", "naive-datetime", "aware-datetime"])
def test_times_are_local_whether_the_backend_returns_aware_or_naive_utc(ts):
    props = only(frame(cell(top=1, id="WO1", ts=ts, category="其他", status="received")))
    assert props["lines"][1] == "11-23 14:05 · 其他"


def test_local_time_crosses_midnight_into_the_next_day():
    props = only(frame(cell(top=1, id="WO1", ts=pd.Timestamp("2026-11-23 17:30:00"), category="其他",
                            status="received")))
    assert props["lines"][1] == "11-24 01:30 · 其他"


@pytest.mark.parametrize("top, status, line", [
    (4, "processing", "状态：办理中 · 超期在办"),
    (3, "accepted", "状态：签收 · 紧急在办"),
    (1, "received", "状态：受理 · 在办"),
    (1, "reopened", "状态：重办 · 在办"),
    (0, "completed", "状态：办结 · 已办结"),
    (0, "visited", "状态：回访 · 已办结"),
])
def test_a_single_order_says_its_status_and_what_its_colour_means(top, status, line):
    props = only(frame(cell(top=top, id="WO1", category="其他", status=status)))
    assert props["lines"][2] == line
    assert props["color"] == SEVERITY[top][0]


@pytest.mark.parametrize("top, kind, grade, status, lines", [
    (4, "fire", "I", "reported", ["11-23 14:05 · 火灾 · Ⅰ级 特别重大", "状态：接报 · Ⅰ级 特别重大"]),
    (3, "traffic", "II", "dispatched", ["11-23 14:05 · 交通事故 · Ⅱ级 重大", "状态：已调度 · Ⅱ级 重大"]),
    (2, "flood", "III", "on_scene", ["11-23 14:05 · 洪涝 · Ⅲ级 较大", "状态：现场处置 · Ⅲ级 较大"]),
    (1, "waterlogging", "IV", "contained", ["11-23 14:05 · 城市内涝 · Ⅳ级 一般", "状态：已控制 · Ⅳ级 一般 / 待定级"]),
    (1, "crowd", "", "reported", ["11-23 14:05 · 人员聚集", "状态：接报 · Ⅳ级 一般 / 待定级"]),
    (0, "hazmat", "I", "closed", ["11-23 14:05 · 危化品事故 · Ⅰ级 特别重大", "状态：已结案"]),
])
def test_a_single_incident_shows_type_grade_and_status_in_chinese(top, kind, grade, status, lines):
    props = only(incidents=frame(cell(top=top, id="EM1", category=kind, subcategory=grade, status=status)))
    assert props == {"kind": "incident", "n": 1, "top": top, "color": SEVERITY[top][0], "radius": 6.5, "id": "EM1",
                     "lines": ["突发事件 EM1", *lines]}


def test_a_single_order_without_subcategory_shows_its_category_alone():
    props = only(frame(cell(top=1, id="WO1", category="交通出行", subcategory="", status="received")))
    assert props["lines"][1] == "11-23 14:05 · 交通出行"


def test_unknown_codes_are_shown_as_they_came():
    order = only(frame(cell(top=1, id="WO1", category="其他", status="escalated")))
    assert order["lines"][2] == "状态：escalated · 在办"
    incident = only(incidents=frame(cell(top=1, id="EM1", category="meteor", subcategory="V", status="landed")))
    assert incident["lines"][1:] == ["11-23 14:05 · meteor · V", "状态：landed · Ⅳ级 一般 / 待定级"]


def test_markup_in_event_text_is_kept_as_plain_strings():
    hostile = '<img src=x onerror="alert(1)">'
    order = only(frame(cell(top=1, id="<b>WO1</b>", category=hostile, subcategory="<script>x</script>",
                            status="received")))
    assert order["id"] == "<b>WO1</b>"
    assert order["lines"] == ["工单 <b>WO1</b>", f"11-23 14:05 · {hostile} · <script>x</script>", "状态：受理 · 在办"]
    incident = only(incidents=frame(cell(top=1, id="EM1", category=hostile, status="reported")))
    assert incident["lines"][1] == f"11-23 14:05 · {hostile}"
    assert all(type(line) is str for line in order["lines"] + incident["lines"])


# --- clusters ----------------------------------------------------------------------------------------------------

def test_an_order_cluster_shows_its_count_breakdown_and_ring_most_severe_first():
    props = only(frame(cell(n=8, top=4, red=1, orange=2, blue=4, done=1, id="WO1", category="城市管理",
                            status="received")))
    assert props == {"kind": "order", "n": 8, "top": 4, "color": RED, "radius": 11.9,
                     "lines": ["工单 8 件", "超期在办 1 · 紧急在办 2 · 在办 4 · 已办结 1", "点击放大查看"],
                     "shares": [[RED, 12.5], [ORANGE, 25.0], [BLUE, 50.0], [DONE, 12.5]]}
    assert "id" not in props  # a cluster is not one event: clicking it zooms in


def test_an_incident_cluster_names_grades_and_leaves_out_absent_ones():
    props = only(incidents=frame(cell(n=4, top=2, yellow=2, blue=1, done=1)))
    assert props["lines"] == ["突发事件 4 件", "Ⅲ级 较大 2 · Ⅳ级 一般 / 待定级 1 · 已结案 1", "点击放大查看"]
    assert props["shares"] == [[YELLOW, 50.0], [BLUE, 25.0], [DONE, 25.0]]
    assert props["color"] == YELLOW


@pytest.mark.parametrize("counts", [
    dict(red=1, orange=1, blue=1),
    dict(red=1, orange=2, blue=3, done=1),
    dict(red=3, orange=5, yellow=7, blue=11, done=13),
    dict(red=1, done=999),
    dict(blue=12_345),
])
def test_ring_shares_add_up_to_the_whole_most_severe_first(counts):
    n = sum(counts.values())
    rows = frame(cell(n=n, top=max(r for r, c in zip((4, 3, 2, 1, 0), ("red", "orange", "yellow", "blue", "done"))
                                   if counts.get(c)), **counts))
    shares = only(incidents=rows)["shares"]
    colours = [colour for colour, _ in shares]
    order = [RED, ORANGE, YELLOW, BLUE, DONE]
    assert colours == sorted(colours, key=order.index)
    assert colours == [SEVERITY[r][0] for r, c in zip((4, 3, 2, 1, 0), ("red", "orange", "yellow", "blue", "done"))
                       if counts.get(c)]
    assert all(share > 0 for _, share in shares)
    assert sum(share for _, share in shares) == pytest.approx(100, abs=0.005 * len(shares))


def test_cluster_counts_use_thousands_separators():
    props = only(frame(cell(n=12_345, top=3, orange=2_345, blue=10_000)))
    assert props["lines"][:2] == ["工单 12,345 件", "紧急在办 2,345 · 在办 10,000"]


def test_radius_grows_with_the_count_and_is_capped():
    def radius(n):
        return only(frame(cell(n=n, top=1, blue=n)))["radius"]
    assert [radius(n) for n in (2, 10, 100, 1000)] == [10.0, 12.2, 15.4, 18.6]
    sizes = [radius(n) for n in (2, 3, 5, 10, 50, 100, 1_000, 10_000, 100_000, 1_000_000, 10 ** 8)]
    assert sizes == sorted(sizes)
    assert radius(10 ** 6) == radius(10 ** 9) == 26.0
    assert only(frame(cell(top=1, id="WO1", category="其他", status="received")))["radius"] == 6.5 < radius(2)


def test_severe_points_are_drawn_last_and_incidents_over_orders_of_the_same_severity():
    orders = frame(cell(top=4, id="WO-RED", category="其他", status="received"),
                   cell(top=0, id="WO-DONE", category="其他", status="completed"),
                   cell(n=3, top=1, blue=3))
    incidents = frame(cell(top=4, id="EM-I", category="fire", subcategory="I", status="reported"),
                      cell(top=3, id="EM-II", category="fire", subcategory="II", status="reported"),
                      cell(top=0, id="EM-CLOSED", category="fire", status="closed"))
    drawn = [(f["properties"]["kind"], f["properties"]["top"], f["properties"].get("id")) for f in
             features(orders, incidents)]
    assert drawn == [("order", 0, "WO-DONE"), ("incident", 0, "EM-CLOSED"), ("order", 1, None),
                     ("incident", 3, "EM-II"), ("order", 4, "WO-RED"), ("incident", 4, "EM-I")]


def test_no_cells_give_an_empty_collection():
    assert event_features(NONE, NONE, TZ) == {"type": "FeatureCollection", "features": []}
    assert event_features(pd.DataFrame(), pd.DataFrame(), TZ) == {"type": "FeatureCollection", "features": []}


def test_warehouse_integer_types_become_plain_json_numbers():
    rows = frame(cell(n=5, top=3, orange=2, blue=3)).astype({c: "uint64" for c in ("n", "orange", "blue", "red",
                                                                                    "yellow", "done")})
    rows = rows.astype({"top": "uint8"})
    props = only(rows)
    assert type(props["n"]) is int and type(props["top"]) is int and type(props["radius"]) is float
    assert all(type(share) is float for _, share in props["shares"])


# --- legend and layer --------------------------------------------------------------------------------------------

def test_legend_says_what_each_colour_means_for_orders_and_incidents():
    assert legend_items() == [
        (RED, "工单超期在办；突发事件Ⅰ级 特别重大"),
        (ORANGE, "工单紧急在办；突发事件Ⅱ级 重大"),
        (YELLOW, "突发事件Ⅲ级 较大"),
        (BLUE, "工单在办；突发事件Ⅳ级 一般 / 待定级"),
        (DONE, "工单已办结；突发事件已结案"),
    ]


def test_points_layer_starts_empty_and_draws_with_event_point():
    layer = points_layer("map")
    assert layer.id == "map-events"
    assert layer.data == {"type": "FeatureCollection", "features": []}
    assert layer.pointToLayer == {"variable": "cockpit.eventPoint"}


# --- the viewport box from the browser -----------------------------------------------------------------------------

FALLBACK = (112.95, 22.51, 114.06, 23.93)


def test_viewport_box_turns_leaflet_bounds_into_west_south_east_north_with_a_margin():
    assert viewport_box([[23.0, 113.0], [23.4, 113.6]], FALLBACK) == pytest.approx((112.91, 22.94, 113.69, 23.46))
    assert viewport_box([[23.0, 113.0], [23.4, 113.6]], FALLBACK, margin=0) == (113.0, 23.0, 113.6, 23.4)
    assert viewport_box(((23, 113), (24, 114)), FALLBACK, margin=0.5) == (112.5, 22.5, 114.5, 24.5)


def test_viewport_box_accepts_integers_and_refuses_strings():
    assert viewport_box([[23, 113], [23.5, 113.5]], FALLBACK, margin=0) == (113.0, 23.0, 113.5, 23.5)
    assert viewport_box([["23.0", "113.0"], ["23.5", "113.5"]], FALLBACK, margin=0) == FALLBACK
    assert viewport_box(["12", "34"], FALLBACK) == FALLBACK


def test_viewport_box_of_the_whole_world_is_accepted():
    assert viewport_box([[-90, -180], [90, 180]], FALLBACK, margin=0) == (-180.0, -90.0, 180.0, 90.0)


@pytest.mark.parametrize("bounds", [
    None, "", "abc", "[[23, 113], [23.4, 113.6]]", b"\x17q", 5, 1.5, True, {}, {"_southWest": [23, 113]}, [], [[]],
    [[23.0, 113.0]], [[23.0, 113.0], [23.4, 113.6], [24.0, 114.0]], [[23.0, 113.0, 0], [23.4, 113.6, 0]],
    [[23.0], [23.4]], [[None, None], [None, None]], [["south", "west"], ["north", "east"]],
    [[[23.0], 113.0], [23.4, 113.6]], [[{"lat": 23}, 113.0], [23.4, 113.6]], [[23.0, 113.0], None],
    [[float("nan"), 113.0], [23.4, 113.6]], [[23.0, 113.0], [23.4, float("nan")]],
    [[float("-inf"), 113.0], [23.4, 113.6]], [[23.0, 113.0], [float("inf"), 113.6]], [["1e999", 113], [23.4, 113.6]],
    [[23.4, 113.0], [23.0, 113.6]],  # south above north
    [[23.0, 113.6], [23.4, 113.0]],  # west east of east
    [[23.0, 113.0], [23.0, 113.6]],  # no height
    [[23.0, 113.0], [23.4, 113.0]],  # no width
    [[-91.0, 113.0], [23.4, 113.6]], [[23.0, 113.0], [90.5, 113.6]],
    [[23.0, -180.5], [23.4, 113.6]], [[23.0, 113.0], [23.4, 181.0]],
    [[23.0, 113.0], [23.4, 1e308]],
], ids=repr)
def test_viewport_box_falls_back_on_missing_or_implausible_bounds(bounds):
    assert viewport_box(bounds, FALLBACK) == FALLBACK


def test_viewport_box_results_are_finite_floats():
    box = viewport_box([[23.0, 113.0], [23.4, 113.6]], FALLBACK)
    assert all(type(v) is float and math.isfinite(v) for v in box)
