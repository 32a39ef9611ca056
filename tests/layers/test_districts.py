"""District choropleth helpers: class breaks, legend, hideout, labels, anchors and bounds of the shipped city;
metric values from hand-built query results, metric scales, and the population file."""
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box, shape

from config.files import ConfigError
from domain.districts import city_boundaries
from layers.districts import (
    COLORS,
    METRICS,
    NO_DATA,
    Metric,
    anchors,
    bounds,
    class_breaks,
    hideout,
    labels,
    legend_items,
    load_population,
    metric_scale,
    metric_values,
    tips,
)

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


def test_hideout_carries_values_breaks_colours_selection_and_tooltips():
    assert hideout({"440106": 12}, [0, 2, 4, 6, 8, 10], selected="440106", tips={"440106": "在办工单：12 件"}) == {
        "values": {"440106": 12}, "breaks": [0, 2, 4, 6, 8, 10], "colors": list(COLORS), "none": NO_DATA,
        "selected": "440106", "tips": {"440106": "在办工单：12 件"}}
    assert hideout({}, class_breaks(0))["selected"] is None and hideout({}, [0])["tips"] == {}


def test_tips_pair_the_metric_title_with_each_label():
    doc = labels({"440106": (113.36, 23.12, "天河区"), "440104": (113.27, 23.13, "越秀区")}, {"440106": 5}, "起",
                 default=None)
    assert tips("在办突发事件", doc) == {"440106": "在办突发事件：5 起", "440104": "在办突发事件：—"}


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


# --- metric values -----------------------------------------------------------------------------------------------

STATES = ["district_code", "orders", "open_orders", "overdue_open", "due", "due_on_time", "rated", "satisfied"]
INCIDENTS = ["district_code", "open_incidents", "major"]
ECOLOGY = ["station_id", "station_type", "district_code", "aqi"]


def states(*rows) -> pd.DataFrame:
    """Shaped like warehouse.queries.order_states."""
    return pd.DataFrame(list(rows), columns=STATES)


def incidents(*rows) -> pd.DataFrame:
    """Shaped like warehouse.map_queries.open_incidents."""
    return pd.DataFrame(list(rows), columns=INCIDENTS)


def ecology(*rows) -> pd.DataFrame:
    """The columns of warehouse.map_queries.ecology_latest that the AQI metric reads."""
    return pd.DataFrame(list(rows), columns=ECOLOGY)


STATE_ROWS = states(("440104", 100, 40, 3, 60, 54, 20, 17), ("440106", 200, 90, 0, 40, 30, 30, 28),
                    ("440105", 10, 0, 0, 5, 5, 0, 0))
POPULATION = {"440104": 1_000_000, "440106": 2_241_826}


def values_of(metric: str, *, st=STATE_ROWS, inc=incidents(), eco=ecology(), population=None) -> dict:
    return metric_values(metric, st, inc, eco, population)


def test_open_orders_per_district_include_districts_with_none_open():
    assert values_of("open_orders") == {"440104": 40.0, "440106": 90.0, "440105": 0.0}
    assert values_of("open_orders", st=states()) == {}


def test_open_orders_per_10k_residents_only_where_population_is_known():
    assert values_of("orders_per_10k", population=POPULATION) == {
        "440104": 0.4, "440106": pytest.approx(90 / 2_241_826 * 10_000)}
    assert values_of("orders_per_10k", population={"440104": 1_000_000, "440106": 0}) == {"440104": 0.4}


def test_open_orders_per_10k_without_population_are_empty():
    assert values_of("orders_per_10k") == {}
    assert values_of("orders_per_10k", population={}) == {}


def test_overdue_rate_is_a_percentage_of_open_orders_and_skips_districts_without_open_orders():
    assert values_of("overdue_rate") == {"440104": 7.5, "440106": 0.0}


def test_open_incidents_per_district():
    assert values_of("open_incidents", inc=incidents(("440104", 2, 1), ("440106", 5, 0))) == {
        "440104": 2.0, "440106": 5.0}
    assert values_of("open_incidents") == {}


def test_aqi_is_the_mean_of_a_districts_air_stations_ignoring_noise_stations_and_missing_values():
    eco = ecology(("A1", "air", "440103", 80), ("A2", "air", "440103", 95), ("A3", "air", "440103", 100),
                  ("N1", "noise", "440103", 300),  # a noise station never counts, whatever it carries
                  ("A4", "air", "440104", float("nan")),  # no pollutant measured: no AQI
                  ("N2", "noise", "440104", float("nan")),
                  ("A5", "air", "440106", 45))
    assert values_of("aqi", eco=eco) == {"440103": 92, "440106": 45}  # (80 + 95 + 100) / 3 = 91.67


def test_aqi_reads_nulls_as_the_server_returns_them():
    # clickhouse-driver gives a Nullable column with NULLs as an object column of None
    eco = ecology(("A1", "air", "440103", 80), ("A2", "air", "440103", None), ("A5", "air", "440106", None))
    assert values_of("aqi", eco=eco.astype({"aqi": object})) == {"440103": 80}


def test_aqi_without_readings_is_empty():
    assert values_of("aqi") == {}
    assert values_of("aqi", eco=pd.DataFrame()) == {}
    assert values_of("aqi", eco=ecology(("N1", "noise", "440104", float("nan")))) == {}


def test_every_offered_metric_has_values_and_an_unknown_one_is_refused():
    for metric in METRICS:
        assert isinstance(values_of(metric, population=POPULATION), dict), metric
    with pytest.raises(ValueError, match=r"^unknown district metric 'pm25'; one of open_orders, orders_per_10k, "
                                         r"open_incidents, aqi, overdue_rate$"):
        values_of("pm25")


def test_metrics_are_described_for_the_legend_and_labels():
    assert METRICS["open_orders"] == Metric("在办工单", "件")
    assert METRICS["orders_per_10k"] == Metric("每万人在办工单", "件/万人", 1)
    assert METRICS["overdue_rate"] == Metric("在办工单超期率", "%", 1)
    assert (METRICS["aqi"].unit, METRICS["aqi"].decimals) == ("", 0)


# --- metric scales -----------------------------------------------------------------------------------------------

# DOMAIN.md (HJ 633): 0–50 优 #00E400, 51–100 良 #FFFF00, 101–150 轻度污染 #FF7E00, 151–200 中度污染 #FF0000,
# 201–300 重度污染 #99004C, > 300 严重污染 #7E0023
HJ_633_LEVELS = [(0, 50, "#00E400"), (51, 100, "#FFFF00"), (101, 150, "#FF7E00"), (151, 200, "#FF0000"),
                 (201, 300, "#99004C"), (301, None, "#7E0023")]


def test_aqi_scale_uses_the_hj_633_levels_and_colours():
    breaks, colors = metric_scale("aqi", {"440103": 92})
    assert breaks == [low for low, _, _ in HJ_633_LEVELS]
    assert [c.upper() for c in colors] == [colour for _, _, colour in HJ_633_LEVELS]
    assert metric_scale("aqi", {"440103": 420}) == (breaks, colors)  # fixed: never stretched to the data


def test_aqi_legend_labels_are_the_hj_633_ranges():
    breaks, colors = metric_scale("aqi", {"440103": 92})
    assert [label for _, label in legend_items(breaks, "", colors)] == [
        "0–50", "51–100", "101–150", "151–200", "201–300", "≥ 301"]


def test_aqi_scale_without_values_shows_no_data():
    breaks, colors = metric_scale("aqi", {})
    assert breaks == [0] * 6
    assert legend_items(breaks, "", colors) == [(NO_DATA, "暂无数据")]


@pytest.mark.parametrize("metric", ["open_orders", "orders_per_10k", "open_incidents", "overdue_rate"])
def test_count_scales_use_rounded_steps_to_the_largest_value(metric):
    assert metric_scale(metric, {"a": 95.0, "b": 3.0}) == ([0, 20, 40, 60, 80, 100], COLORS)
    assert metric_scale(metric, {"a": 2683.0}) == ([0, 500, 1000, 1500, 2000, 2500], COLORS)
    assert metric_scale(metric, {}) == ([0] * 6, COLORS)


def test_count_scale_of_a_fractional_maximum_puts_it_in_a_top_class():
    breaks, _ = metric_scale("overdue_rate", {"440104": 7.5, "440106": 0.0})
    assert breaks[0] == 0 and all(a < b for a, b in zip(breaks, breaks[1:])) and 7.5 >= breaks[-2]


# --- labels without data -----------------------------------------------------------------------------------------

def test_labels_show_a_dash_where_a_district_has_no_value_and_default_is_none():
    points = {"440106": (113.36, 23.12, "天河区"), "440104": (113.27, 23.13, "越秀区"), "440105": (113.3, 23.09, "海珠区")}
    doc = labels(points, {"440106": 12.345, "440105": 0.0}, "%", 1, default=None)
    assert [f["properties"]["value"] for f in doc["features"]] == ["12.3 %", "—", "0.0 %"]
    aqi = labels(points, {"440106": 92}, "", 0, default=None)
    assert [f["properties"]["value"] for f in aqi["features"]] == ["92", "—", "—"]


# --- population file ---------------------------------------------------------------------------------------------

CODES = list(GUANGZHOU)


def population_file(tmp_path, text: str):
    path = tmp_path / "population.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_population_file_maps_districts_to_residents(tmp_path):
    path = population_file(tmp_path, '# 第七次全国人口普查\n"440106": 2241826\n440104: 1038863\n')
    assert load_population(path, CODES) == {"440106": 2241826, "440104": 1038863}


@pytest.mark.parametrize("text, problem", [
    ("", "expected a mapping of district adcodes to residents"),
    ("- 440106\n- 2241826\n", "expected a mapping of district adcodes to residents"),
    ("2241826\n", "expected a mapping of district adcodes to residents"),
    ("{}\n", "expected a mapping of district adcodes to residents"),
    ("440106: 2241826\n440100: 18827000\n", "440100 is not a district of the city"),
    ("110105: 3452460\n", "110105 is not a district of the city"),
    ("440106: 0\n", "440106: residents must be a whole number above 0, got 0"),
    ("440106: -5\n", "440106: residents must be a whole number above 0, got -5"),
    ("440106: 2241826.5\n", "440106: residents must be a whole number above 0, got 2241826.5"),
    ("440106: 2241826.0\n", "440106: residents must be a whole number above 0, got 2241826.0"),
    ("440106: true\n", "440106: residents must be a whole number above 0, got True"),
    ("440106: many\n", "440106: residents must be a whole number above 0, got 'many'"),
    ('440106: "2241826"\n', "440106: residents must be a whole number above 0, got '2241826'"),
    ("440106:\n", "440106: residents must be a whole number above 0, got None"),
    ("440106: [1, 2]\n", "440106: residents must be a whole number above 0, got [1, 2]"),
    ("440104: 1038863\n440106: .nan\n", "440106: residents must be a whole number above 0, got nan"),
], ids=["empty", "list", "scalar", "empty-mapping", "the-city", "another-city", "zero", "negative", "float",
        "whole-float", "bool", "word", "quoted", "null", "list-value", "nan"])
def test_a_bad_population_entry_is_a_config_error_naming_file_and_entry(tmp_path, text, problem):
    path = population_file(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_population(path, CODES)
    assert str(error.value) == f"config error: {path}: {problem}"


def test_invalid_population_yaml_is_a_config_error_naming_file_and_line(tmp_path):
    path = population_file(tmp_path, "440104: 1038863\n440106: [2241826\n")
    with pytest.raises(ConfigError, match=r"^config error: .*population\.yaml line \d+: invalid YAML: ") as error:
        load_population(path, CODES)
    assert str(path) in str(error.value)


def test_missing_population_file_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError) as error:
        load_population(path, CODES)
    assert str(error.value) == f"config error: cannot read {path}: No such file or directory"


def test_population_accepts_yaml_digit_separators_as_plain_ints(tmp_path):
    population = load_population(population_file(tmp_path, "440106: 2_241_826\n"), CODES)
    assert population == {"440106": 2241826} and all(type(v) is int for v in population.values())
