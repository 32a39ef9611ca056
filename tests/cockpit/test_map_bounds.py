"""Work on /map bounded whatever the browser sends: the viewport clamped to the city's region, the zoom checked
and clamped, event points coarsened to at most MAX_POINTS per kind (every event still counted, and the map says
so), the grid's resolution bounded by the box. Pure functions first, then the real callbacks over HTTP on both
warehouse backends."""
import math

import pandas as pd
import pytest

from cockpit import map_view as mv
from cockpit.app import create_app
from layers import grid
from layers.points import cell_size
from tests.cockpit.calls import post
from tests.helpers import signed_in_client, simulated_events, store_directly
from warehouse import map_queries as mq

CITY = "440100"
WORLD = [[-90, -180], [90, 180]]
CITY_VIEW = [[22.5, 112.9], [23.95, 114.1]]  # Guangzhou at zoom 9.75


# --- pure ----------------------------------------------------------------------------------------------------------

def test_the_region_is_the_citys_box_with_a_margin():
    west, south, east, north = mv.region_box(CITY)
    assert (112.9, 22.5, 114.1, 23.95) == pytest.approx((west, south, east, north), abs=0.11)
    assert mv.REGION_MARGIN == 0.1


def test_a_box_is_cut_to_the_region_and_one_outside_it_is_none():
    region = (113.0, 22.0, 114.0, 24.0)
    assert mv.clamp_box((-180.0, -90.0, 180.0, 90.0), region) == region
    assert mv.clamp_box((113.5, 23.0, 120.0, 23.5), region) == (113.5, 23.0, 114.0, 23.5)
    assert mv.clamp_box((113.2, 23.0, 113.3, 23.1), region) == (113.2, 23.0, 113.3, 23.1)
    assert mv.clamp_box((0.0, 50.0, 1.0, 51.0), region) is None
    assert mv.clamp_box((114.0, 23.0, 115.0, 23.5), region) is None  # touching is not overlapping


@pytest.mark.parametrize("sent, zoom", [
    (12, 12.0), (12.5, 12.5), (30, 18.0), (-4, 3.0), ("18", 9.0), ([18], 9.0), ({"z": 1}, 9.0), (None, 9.0),
    (True, 9.0), (float("nan"), 9.0), (float("inf"), 9.0),
])
def test_the_zoom_is_a_number_clamped_to_3_18_or_the_citys(sent, zoom):
    assert mv.zoom_of(sent) == zoom


def test_the_cell_follows_the_zoom_but_never_splits_a_box_into_more_than_the_limit_across():
    box = (113.2, 23.0, 113.3, 23.1)  # about a zoom-12 view
    assert mv.event_cell(box, 12) == cell_size(12)
    region = mv.region_box(CITY)
    cell = mv.event_cell(region, 18)
    assert cell > cell_size(18)
    assert max(region[2] - region[0], region[3] - region[1]) / cell == pytest.approx(mv.MAX_CELLS_ACROSS)
    assert (mv.MAX_CELLS_ACROSS + 1) ** 2 <= mq.MAX_CELLS  # so the warehouse's LIMIT never drops a cell


def cells(rows) -> pd.DataFrame:
    """Cells as order_clusters returns them: gx, gy, n, lon, lat, top, the severity counts and one's details."""
    frame = pd.DataFrame(rows, columns=["gx", "gy", "n", "lon", "lat", "top", "red", "orange", "yellow", "blue"])
    return frame.assign(done=0, id=[f"WO{i}" for i in range(len(frame))], ts=pd.Timestamp("2026-11-23", tz="UTC"),
                        category="城市管理", subcategory="", status="received")


def test_coarsening_merges_neighbour_cells_until_under_the_cap_and_keeps_every_event():
    frame = cells([(0, 0, 1, 113.0, 23.0, 1, 0, 0, 0, 1), (1, 0, 3, 113.02, 23.0, 4, 3, 0, 0, 0),
                   (0, 1, 1, 113.0, 23.02, 3, 0, 1, 0, 0), (5, 5, 1, 113.1, 23.1, 1, 0, 0, 0, 1)])
    same, factor = mv.coarsen(frame, 4)
    assert factor == 1 and same is frame
    merged, factor = mv.coarsen(frame, 2)
    assert factor == 2
    assert merged[["gx", "gy", "n", "top", "red", "orange", "blue"]].values.tolist() == [
        [0, 0, 5, 4, 3, 1, 1], [2, 2, 1, 1, 0, 0, 1]]
    assert merged["lon"].iloc[0] == pytest.approx((113.0 + 3 * 113.02 + 113.0) / 5)  # weighted by count
    assert merged["id"].iloc[1] == "WO3"  # a cell still holding one event keeps its details
    one, factor = mv.coarsen(frame, 1)
    assert len(one) == 1 and one["n"].iloc[0] == 6 and factor == 8


def test_the_note_says_when_points_were_merged_and_when_the_view_is_outside_the_city():
    assert mv.events_note(mv.Events(pd.DataFrame(), pd.DataFrame())) == ""
    assert mv.events_note(mv.Events(pd.DataFrame(), pd.DataFrame(), merged=4)) == \
        f"点位较多（每类最多显示 {mv.MAX_POINTS:,} 个），已合并为较大的聚合点，数量完整；放大地图查看明细"
    assert mv.events_note(mv.Events(pd.DataFrame(), pd.DataFrame(), outside=True)) == "当前视野不在本市范围内，移回本市查看"


def test_the_grid_resolution_is_coarsened_until_the_box_holds_at_most_max_hexes():
    region = mv.region_box(CITY)
    res = mv.grid_resolution(region, 10)
    assert grid.MIN_RES <= res < 10
    assert mv.hexes_in(region, res) <= mv.MAX_HEXES < mv.hexes_in(region, res + 1)
    small = (113.30, 23.10, 113.32, 23.12)
    assert mv.grid_resolution(small, 10) == 10  # a street-sized view keeps the finest
    assert mv.MAX_HEXES < mq.MAX_CELLS


# --- the callbacks over HTTP ----------------------------------------------------------------------------------------

EVENTS = "..map-events.data...map-events-note.children.."


@pytest.fixture(scope="module")
def events():
    return simulated_events(6, orders_per_day=24000, seed=11)


@pytest.fixture
def app(warehouse, settings_for, events):
    store_directly(warehouse, events)
    return create_app(settings_for(), warehouse)


def map_events(client, app, bounds, zoom):
    reply = post(client, app, EVENTS, 1, bounds, zoom)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    out = reply.get_json()["response"]
    return out["map-events"]["data"]["features"], out["map-events-note"]["children"], len(reply.data)


def counted(features) -> dict[str, int]:
    totals = {"order": 0, "incident": 0}
    for f in features:
        totals[f["properties"]["kind"]] += f["properties"]["n"]
    return totals


def test_world_bounds_at_zoom_18_get_capped_points_with_every_event_counted(app, warehouse):
    client = signed_in_client(app.server, warehouse, "wall")
    client.get("/map")
    city, city_note, city_size = map_events(client, app, CITY_VIEW, 9.75)
    world, _, size = map_events(client, app, WORLD, 18)
    print(f"\nFIGURES map-events: city view {city_size / 1024:.1f} KiB, {len(city)} points; "
          f"world at zoom 18 {size / 1024:.1f} KiB, {len(world)} points")
    assert city_note == ""
    assert sum(f["properties"]["kind"] == "order" for f in world) <= mv.MAX_POINTS
    assert sum(f["properties"]["kind"] == "incident" for f in world) <= mv.MAX_POINTS
    assert counted(world) == counted(city) and counted(city)["order"] > mv.MAX_POINTS  # nothing silently dropped
    assert size < 400 * 1024


def test_points_over_the_cap_are_merged_and_the_map_says_so(app, warehouse, monkeypatch):
    client = signed_in_client(app.server, warehouse, "wall")
    client.get("/map")
    city = map_events(client, app, CITY_VIEW, 9.75)[0]
    monkeypatch.setattr(mv, "MAX_POINTS", 50)  # far fewer than this data's cells at zoom 18
    world, note, _ = map_events(client, app, WORLD, 18)
    assert sum(f["properties"]["kind"] == "order" for f in world) <= 50
    assert counted(world) == counted(city)
    assert note == "点位较多（每类最多显示 50 个），已合并为较大的聚合点，数量完整；放大地图查看明细"


def test_a_view_outside_the_city_runs_no_query_and_says_so(app, warehouse):
    client = signed_in_client(app.server, warehouse, "wall")
    client.get("/map")
    queries = []
    run = warehouse.query_df
    warehouse.query_df = lambda sql, params=None: queries.append(sql) or run(sql, params)
    try:
        features, note, _ = map_events(client, app, [[50, 0], [51, 1]], 12)
    finally:
        warehouse.query_df = run
    assert features == [] and note == "当前视野不在本市范围内，移回本市查看"
    assert not [sql for sql in queries if "hotline_events" in sql or "emergency_events" in sql]


@pytest.mark.parametrize("bounds, zoom", [
    ([["23", "113"], ["24", "114"]], 12), ("world", 12), ({"south": -90}, 12), ([[math.nan, 0], [1, 1]], 12),
])
def test_bounds_of_the_wrong_shape_fall_back_to_the_city(app, warehouse, bounds, zoom):
    client = signed_in_client(app.server, warehouse, "wall")
    client.get("/map")
    reply = post(client, app, EVENTS, 1, bounds, zoom)
    if reply.status_code == 400:  # the guard refused the type: nothing ran
        return
    out = reply.get_json()["response"]
    assert counted(out["map-events"]["data"]["features"]) == counted(map_events(client, app, CITY_VIEW, 9.75)[0])


def test_the_grid_of_world_bounds_at_zoom_18_is_bounded(app, warehouse):
    client = signed_in_client(app.server, warehouse, "wall")
    client.get("/map")
    output = "..map-grid.data...map-grid.hideout...map-heat-grid.data...map-heat-grid.hideout...map-grid-legend.data.."
    reply = post(client, app, output, 1, WORLD, 18, ["网格 (H3)", "热力"], "n")
    assert reply.status_code == 200
    out = reply.get_json()["response"]
    print(f"\nFIGURES map-grid: world at zoom 18 {len(reply.data) / 1024:.1f} KiB, "
          f"{len(out['map-grid']['data']['features'])} + {len(out['map-heat-grid']['data']['features'])} hexes")
    assert len(out["map-grid"]["data"]["features"]) <= mv.MAX_HEXES
    assert len(out["map-heat-grid"]["data"]["features"]) <= mv.MAX_HEXES
    assert len(reply.data) < 1024 * 1024
