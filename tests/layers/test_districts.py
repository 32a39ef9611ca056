"""District choropleth helpers: class breaks, legend, hideout, labels, anchors and bounds of the shipped city."""
import shapely
from shapely.geometry import Point, box, shape

from layers.districts import (COLORS, NO_DATA, anchors, bounds, city_boundaries, class_breaks, hideout, labels,
                              legend_items)

GUANGZHOU = {"440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
             "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
             "440118": "增城区"}


# --- class breaks ------------------------------------------------------------------------------------------------

def test_class_breaks_of_nothing_are_all_zero():
    assert class_breaks(0) == [0, 0, 0, 0, 0, 0]
    assert class_breaks(-5) == [0, 0, 0, 0, 0, 0]


def test_class_breaks_use_rounded_steps():
    assert class_breaks(95) == [0, 20, 40, 60, 80, 100]
    assert class_breaks(2683) == [0, 500, 1000, 1500, 2000, 2500]
    assert class_breaks(12000) == [0, 2000, 4000, 6000, 8000, 10000]


def test_class_breaks_follow_the_number_of_classes():
    assert class_breaks(2683, classes=3) == [0, 1000, 2000]


def test_class_breaks_increase_from_zero_and_put_the_maximum_in_one_of_the_top_two_classes():
    for max_value in [*range(len(COLORS), 20001), 49_999, 123_456, 999_999, 1_000_000, 7_654_321, 4.5, 95.5, 2683.2]:
        breaks = class_breaks(max_value)
        assert len(breaks) == len(COLORS), max_value
        assert breaks[0] == 0, max_value
        assert all(a < b for a, b in zip(breaks, breaks[1:])), (max_value, breaks)
        assert max_value >= breaks[-2], (max_value, breaks)


def test_class_breaks_put_a_small_maximum_in_one_of_the_top_two_classes():
    # Just after midnight the busiest district may have 1–3 orders; it must not be drawn in a low class.
    for max_value in range(1, len(COLORS)):
        breaks = class_breaks(max_value)
        assert breaks[0] == 0 and all(a < b for a, b in zip(breaks, breaks[1:])), (max_value, breaks)
        assert max_value >= breaks[-2], (max_value, breaks)


# --- legend and hideout ------------------------------------------------------------------------------------------

def test_legend_labels_each_class_and_leaves_the_last_open():
    assert legend_items([0, 500, 1000, 1500, 2000, 2500], "件") == [
        ("#0e2a47", "0–499 件"), ("#12467a", "500–999 件"), ("#1763a8", "1000–1499 件"),
        ("#2a86cf", "1500–1999 件"), ("#4fb0ee", "2000–2499 件"), ("#9bdcff", "≥ 2500 件")]


def test_legend_without_data_has_one_no_data_row():
    assert legend_items(class_breaks(0), "件") == [(NO_DATA, "暂无数据")]


def test_hideout_carries_values_breaks_colours_and_selection():
    assert hideout({"440106": 12}, [0, 2, 4, 6, 8, 10], selected="440106") == {
        "values": {"440106": 12}, "breaks": [0, 2, 4, 6, 8, 10], "colors": list(COLORS), "none": NO_DATA,
        "selected": "440106"}
    assert hideout({}, class_breaks(0))["selected"] is None


# --- labels ------------------------------------------------------------------------------------------------------

def test_labels_give_one_point_per_district_with_name_and_formatted_value():
    points = {"440106": (113.36, 23.12, "天河区"), "440104": (113.27, 23.13, "越秀区")}
    doc = labels(points, {"440106": 1234.6, "999999": 5}, "件")
    assert doc == {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.36, 23.12]},
         "properties": {"adcode": "440106", "name": "天河区", "value": "1,235 件"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.27, 23.13]},
         "properties": {"adcode": "440104", "name": "越秀区", "value": "0 件"}},
    ]}


def test_labels_keep_markup_as_plain_strings():
    doc = labels({"1": (113.0, 23.0, "<img src=x onerror=alert(1)>")}, {"1": 7}, "<b>件</b>")
    props = doc["features"][0]["properties"]
    assert props["name"] == "<img src=x onerror=alert(1)>"
    assert props["value"] == "7 <b>件</b>"
    assert all(type(v) is str for v in props.values())


# --- the shipped city --------------------------------------------------------------------------------------------

def test_guangzhou_has_eleven_district_features():
    doc = city_boundaries("440100")
    assert len(doc["features"]) == 11
    assert {f["properties"]["adcode"]: f["properties"]["name"] for f in doc["features"]} == GUANGZHOU


def test_anchors_lie_inside_their_district_polygons():
    doc = city_boundaries("440100")
    points = anchors(doc)
    assert {code: name for code, (_, _, name) in points.items()} == GUANGZHOU
    for feature in doc["features"]:
        lon, lat, _ = points[feature["properties"]["adcode"]]
        assert shape(feature["geometry"]).contains(Point(lon, lat)), feature["properties"]["name"]


def test_labels_of_the_city_sit_at_the_anchors():
    doc = city_boundaries("440100")
    points = anchors(doc)
    for feature in labels(points, {}, "件")["features"]:
        lon, lat, name = points[feature["properties"]["adcode"]]
        assert feature["geometry"]["coordinates"] == [lon, lat]
        assert feature["properties"]["name"] == name


def test_bounds_enclose_every_district_of_guangzhou():
    doc = city_boundaries("440100")
    (south, west), (north, east) = bounds(doc)
    assert 22.5 <= south < north <= 23.95
    assert 112.9 <= west < east <= 114.1
    union = shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    assert (west, south, east, north) == union.bounds
    assert box(west, south, east, north).covers(union)
