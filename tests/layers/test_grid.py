"""Grid layer helpers: H3 hexagons shifted into the map CRS, labels, class breaks, hideout, legend, resolutions,
and the browser's ``cockpit.cellStyle`` (run in headless Chromium)."""
import json
from pathlib import Path

import h3
import h3.api.basic_int as h3i
import pandas as pd
from shapely.geometry import Point, shape

from layers.districts import NO_DATA
from layers.grid import (
    COLORS,
    HEAT_COLORS,
    HEAT_OPACITY,
    OUTLINE,
    grid_breaks,
    grid_hideout,
    grid_layer,
    hex_features,
    legend_items,
    resolution_for_zoom,
)

TIANHE = h3i.latlng_to_cell(23.1291, 113.3265, 8)  # WGS-84, near 天河体育中心
DX, DY = 0.005371, -0.002693  # GCJ-02 − WGS-84 around there, roughly


def frame(**columns) -> pd.DataFrame:
    base = {"cell": [TIANHE], "n": [1234], "dx": [DX], "dy": [DY]}
    return pd.DataFrame({**base, **columns}).astype({"cell": "uint64"})


# --- hexagons ----------------------------------------------------------------------------------------------------

def test_each_row_becomes_a_closed_hexagon_ring_of_seven_points():
    cells = h3i.grid_disk(TIANHE, 1)
    doc = hex_features(pd.DataFrame({"cell": cells, "n": range(7), "dx": 0.0, "dy": 0.0}))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 7
    for feature in doc["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        (ring,) = feature["geometry"]["coordinates"]
        assert len(ring) == 7 and ring[0] == ring[-1]


def test_boundary_is_shifted_by_the_cells_offset_in_lon_lat_order():
    (ring,) = hex_features(frame())["features"][0]["geometry"]["coordinates"]
    expected = [[round(lng + DX, 6), round(lat + DY, 6)] for lat, lng in h3i.cell_to_boundary(TIANHE)]
    assert ring == expected + expected[:1]


def test_feature_cell_is_the_h3_index_as_fifteen_hex_digits_and_round_trips():
    cells = list(h3i.grid_disk(TIANHE, 2))
    doc = hex_features(pd.DataFrame({"cell": cells, "n": 1, "dx": DX, "dy": DY}).astype({"cell": "uint64"}))
    names = [f["properties"]["cell"] for f in doc["features"]]
    assert all(len(name) == 15 and h3.is_valid_cell(name) for name in names)
    assert [h3.str_to_int(name) for name in names] == cells
    assert h3i.get_resolution(h3.str_to_int(names[0])) == 8


def test_cells_shifted_centre_lies_inside_its_polygon():
    lat, lng = h3i.cell_to_latlng(TIANHE)
    polygon = shape(hex_features(frame())["features"][0]["geometry"])
    assert polygon.is_valid
    assert polygon.contains(Point(lng + DX, lat + DY))
    assert not polygon.contains(Point(lng, lat))  # the unshifted centre is ~600 m away: outside


def test_count_labels_are_chinese_text_with_thousands_separators():
    props = hex_features(frame())["features"][0]["properties"]
    assert props == {"cell": h3.int_to_str(TIANHE), "value": 1234, "label": "1,234 件"}


def test_rate_labels_are_percentages_with_one_decimal():
    props = hex_features(frame(rate=[0.125]), value="rate")["features"][0]["properties"]
    assert (props["value"], props["label"]) == (0.125, "12.5%")


def test_rows_without_the_chosen_value_are_left_out():
    cells = list(h3i.grid_disk(TIANHE, 1))[:2]
    doc = hex_features(pd.DataFrame({"cell": cells, "n": [3, 4], "dx": DX, "dy": DY, "rate": [0.5, None]}),
                       value="rate")
    assert [f["properties"]["label"] for f in doc["features"]] == ["50.0%"]


def test_empty_input_gives_an_empty_collection():
    empty = {"type": "FeatureCollection", "features": []}
    assert hex_features(frame().iloc[:0]) == empty
    assert hex_features(pd.DataFrame()) == empty


def test_features_serialise_as_plain_json():
    doc = hex_features(frame(rate=[0.3]))
    assert json.loads(json.dumps(doc)) == doc


# --- breaks, hideout, legend -------------------------------------------------------------------------------------

def test_count_breaks_are_the_district_class_breaks_of_the_largest_count():
    assert grid_breaks(pd.Series([3, 95, 40])) == [0, 20, 40, 60, 80]
    assert grid_breaks([2683], classes=3) == [0, 1000, 2000]
    assert grid_breaks([]) == grid_breaks(pd.Series([], dtype="int64")) == [0, 0, 0, 0, 0]


def test_rate_breaks_split_zero_to_one_hundred_percent_whatever_the_values():
    assert grid_breaks([0.01, 0.03], rate=True) == [0, 0.2, 0.4, 0.6, 0.8]
    assert grid_breaks([], classes=4, rate=True) == [0, 0.25, 0.5, 0.75]


def test_grid_hideout_has_a_colour_and_opacity_per_class_and_a_thin_outline():
    assert grid_hideout([0, 20, 40, 60, 80]) == {
        "breaks": [0, 20, 40, 60, 80], "colors": list(COLORS), "opacity": [0.75] * 5, "outline": OUTLINE}


def test_heat_hideout_is_a_warm_ramp_without_outline_and_rising_opacity():
    h = grid_hideout([0, 20, 40, 60, 80], heat=True)
    assert (h["colors"], h["outline"]) == (list(HEAT_COLORS), None)
    assert h["opacity"] == list(HEAT_OPACITY) and all(a < b for a, b in zip(h["opacity"], h["opacity"][1:]))


def test_ramps_keep_apart_from_severity_and_district_colours():
    from layers.districts import COLORS as DISTRICT
    from layers.palette import SEVERITY
    taken = {c.lower() for c in DISTRICT} | {c.lower() for c, _ in SEVERITY.values()}
    assert not taken & {c.lower() for c in COLORS + HEAT_COLORS}
    assert len(COLORS) == len(HEAT_COLORS) == len(HEAT_OPACITY) == len(set(COLORS))


def test_count_legend_labels_each_class_and_leaves_the_last_open():
    assert legend_items([0, 20, 40, 60, 80], "件") == [
        ("#3b0f70", "0–19 件"), ("#8c2981", "20–39 件"), ("#de4968", "40–59 件"), ("#fe9f6d", "60–79 件"),
        ("#fcfdbf", "≥ 80 件")]


def test_rate_legend_reads_percent_and_heat_legend_uses_the_heat_colours():
    assert legend_items(grid_breaks([], rate=True), "%", heat=True) == [
        ("#5a1846", "0–20%"), ("#9c2b4b", "20–40%"), ("#d4553f", "40–60%"), ("#f0954a", "60–80%"),
        ("#fbd38a", "≥ 80%")]


def test_legend_without_data_has_one_no_data_row():
    assert legend_items(grid_breaks([]), "件") == [(NO_DATA, "暂无数据")]


def test_grid_layer_starts_empty_with_the_cell_style():
    layer = grid_layer("analysis")
    assert layer.id == "analysis-grid"
    assert layer.data == {"type": "FeatureCollection", "features": []}
    assert layer.style == {"variable": "cockpit.cellStyle"}
    assert layer.hideout == grid_hideout([0])


# --- resolutions -------------------------------------------------------------------------------------------------

def test_resolution_grows_with_zoom_and_is_clamped_to_five_to_ten():
    zooms = [z / 2 for z in range(0, 45)]
    resolutions = [resolution_for_zoom(z) for z in zooms]
    assert all(a <= b for a, b in zip(resolutions, resolutions[1:]))
    assert resolutions[0] == 5 and resolutions[-1] == 10
    assert set(resolutions) == set(range(5, 11))


def test_resolution_for_a_zoom_draws_cells_about_thirty_to_sixty_pixels_across():
    assert [resolution_for_zoom(z) for z in (9, 10, 11, 12, 13, 14, 15, 16)] == [6, 6, 7, 8, 8, 9, 10, 10]


# --- cockpit.cellStyle -------------------------------------------------------------------------------------------

def test_cell_style_colours_by_class_and_outlines_only_the_grid(chromium):
    script = Path(__file__).resolve().parents[2] / "assets" / "grid_map.js"
    cases = [(v, grid_hideout([0, 20, 40, 60, 80], heat=heat)) for v in (0, 19, 20, 85) for heat in (False, True)]
    cases.append((0, grid_hideout([0, 0, 0, 0, 0])))
    page = chromium.new_page()
    page.add_script_tag(content=script.read_text())
    styles = page.evaluate("cases => cases.map(([value, hideout]) =>"
                           " window.cockpit.cellStyle({properties: {value}}, {hideout}))", cases)
    page.close()
    classes = [0, 0, 0, 0, 1, 1, 4, 4, 0]
    for (value, hideout), style, i in zip(cases, styles, classes):
        assert (style["fillColor"], style["fillOpacity"]) == (hideout["colors"][i], hideout["opacity"][i]), value
        assert style["stroke"] == (hideout["outline"] is not None)
