"""The station registry: the shipped Guangzhou stations, lookups, and the one-line error of every bad row."""
from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from config.files import ConfigError
from config.stations import DEFAULT_PATH, load_stations
from domain.districts import DistrictIndex
from domain.stations import Registry, Station

GUANGZHOU = "440100"
DISTRICTS = {"440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
             "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
             "440118": "增城区"}
TYPES = {"river_gauge": "water", "rain_gauge": "water", "pipe_pressure": "water", "water_quality": "water",
         "waterlogging": "water", "air": "ecology", "noise": "ecology"}
TIYU_ZHONGXIN = {"lon": 113.325, "lat": 23.138}  # 天河体育中心, inside 天河区 (GCJ-02)


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load_stations(DEFAULT_PATH, city=GUANGZHOU)


# --- the shipped file -----------------------------------------------------------------------------------------------

def test_shipped_file_has_at_least_60_stations_of_every_type(shipped):
    assert len(shipped) >= 60
    assert set(Counter(s.type for s in shipped)) == set(TYPES)
    assert all(s.family == TYPES[s.type] for s in shipped)


def test_every_district_has_at_least_three_stations(shipped):
    per_district = Counter(s.district_code for s in shipped)
    assert set(per_district) == set(DISTRICTS)
    assert min(per_district.values()) >= 3, per_district


def test_every_location_lies_inside_its_district(shipped):
    index = DistrictIndex.for_city(GUANGZHOU)
    outside = [(s.id, s.district_code, index.locate(s.lon, s.lat)) for s in shipped
               if index.locate(s.lon, s.lat) != s.district_code]
    assert outside == []


def test_shipped_ids_and_names_are_unique_and_ids_follow_the_pattern(shipped):
    assert all(re.fullmatch(r"GZ-[A-Z]{2}-\d{3}", s.id) for s in shipped)
    assert len({s.name for s in shipped}) == len(shipped)


def test_shipped_thresholds_are_consistent(shipped):
    for s in shipped.of_type("river_gauge"):
        assert 0 < s.attrs["warning_level_m"] < s.attrs["guarantee_level_m"], s.id
    for s in shipped.of_type("water_quality"):
        assert s.attrs["waterbody"] in ("river", "lake", "reservoir") and 1 <= s.attrs["target_class"] <= 5
    assert {s.attrs["waterbody"] for s in shipped.of_type("water_quality")} == {"river", "lake", "reservoir"}


def test_registry_lookups(shipped):
    gauge = shipped["GZ-RV-001"]
    assert (gauge.name, gauge.type, gauge.family) == ("珠江广州大桥水位站", "river_gauge", "water")
    assert "GZ-RV-001" in shipped and shipped.get("GZ-XX-999") is None
    with pytest.raises(KeyError, match="unknown station 'GZ-XX-999'"):
        shipped["GZ-XX-999"]
    water, ecology = shipped.of_family("water"), shipped.of_family("ecology")
    assert len(water) + len(ecology) == len(shipped)
    assert {s.type for s in ecology} == {"air", "noise"}
    assert all(s.type == "air" for s in shipped.of_type("air"))
    assert all(s.district_code == "440106" for s in shipped.in_district("440106"))
    with pytest.raises(ValueError, match="unknown family 'air'; families are water, ecology"):
        shipped.of_family("air")
    with pytest.raises(ValueError, match="unknown station type 'gauge'"):
        shipped.of_type("gauge")


# --- a file of our own -----------------------------------------------------------------------------------------------

RIVER = {"id": "GZ-RV-901", "name": "猎德水位站", "type": "river_gauge", "family": "water", "district_code": "440106",
         "location": TIYU_ZHONGXIN, "river": "珠江前航道", "warning_level_m": 1.9, "guarantee_level_m": 2.6}
QUALITY = {"id": "GZ-WQ-901", "name": "沙河涌水质站", "type": "water_quality", "family": "water",
           "district_code": "440106", "location": TIYU_ZHONGXIN, "waterbody": "river", "target_class": "IV"}
NOISE = {"id": "GZ-NS-901", "name": "体育西路噪声监测点", "type": "noise", "family": "ecology",
         "district_code": "440106", "location": TIYU_ZHONGXIN, "day_limit_db": 70, "night_limit_db": 55}
AIR = {"id": "GZ-AQ-901", "name": "天河职幼空气监测站", "type": "air", "family": "ecology", "district_code": "440106",
       "location": TIYU_ZHONGXIN}


def write(tmp_path, stations, **top):
    doc = {"city": GUANGZHOU, "crs": "GCJ02", **top, "stations": stations}
    path = tmp_path / "stations.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def changed(row, **changes):
    """``row`` with fields replaced; a value of None removes the field."""
    out = {**row, **changes}
    return {k: v for k, v in out.items() if v is not None}


def error(path, city=None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stations(path, city=city)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(path), "PATH")


def test_a_valid_file_loads_with_typed_fields(tmp_path):
    registry = load_stations(write(tmp_path, [RIVER, QUALITY, NOISE, AIR]), city=GUANGZHOU)
    assert [s.id for s in registry] == ["GZ-RV-901", "GZ-WQ-901", "GZ-NS-901", "GZ-AQ-901"]
    assert registry["GZ-RV-901"] == Station("GZ-RV-901", "猎德水位站", "river_gauge", "water", "440106", 113.325,
                                            23.138, {"river": "珠江前航道", "warning_level_m": 1.9,
                                                     "guarantee_level_m": 2.6})
    assert registry["GZ-WQ-901"].attrs == {"waterbody": "river", "target_class": 4}
    assert registry["GZ-NS-901"].attrs == {"day_limit_db": 70.0, "night_limit_db": 55.0}
    assert registry["GZ-AQ-901"].attrs == {}


def test_without_city_the_files_own_city_is_used(tmp_path):
    assert len(load_stations(write(tmp_path, [AIR]))) == 1


S = "config error: PATH: station "
BAD_ROWS = [
    ("duplicate id", [RIVER, AIR, changed(NOISE, id="GZ-RV-901")],
     S + "GZ-RV-901: duplicate id (row 3 repeats row 1)"),
    ("unknown type", [changed(RIVER, type="river")],
     S + "GZ-RV-901: unknown type 'river'; types are river_gauge, rain_gauge, pipe_pressure, water_quality, "
         "waterlogging, air, noise"),
    ("no type", [changed(AIR, type=None)],
     S + "GZ-AQ-901: unknown type None; types are river_gauge, rain_gauge, pipe_pressure, water_quality, "
         "waterlogging, air, noise"),
    ("missing threshold", [changed(RIVER, guarantee_level_m=None)], S + "GZ-RV-901: missing guarantee_level_m"),
    ("missing common fields", [changed(AIR, name=None, location=None)], S + "GZ-AQ-901: missing name, location"),
    ("misspelt field", [changed(RIVER, warning_level=1.9)],
     S + "GZ-RV-901: unknown field 'warning_level'; river_gauge stations have id, name, type, family, "
         "district_code, location, river, warning_level_m, guarantee_level_m"),
    ("field of another type", [changed(AIR, ponding_alarm_cm=15)],
     S + "GZ-AQ-901: unknown field 'ponding_alarm_cm'; air stations have id, name, type, family, district_code, "
         "location"),
    ("family does not match", [changed(NOISE, family="water")],
     S + "GZ-NS-901: family 'water' does not match type noise (family ecology)"),
    ("empty name", [changed(RIVER, name=" ")], S + "GZ-RV-901: name must be a non-empty string, got ' '"),
    ("negative threshold", [changed(RIVER, warning_level_m=-1)],
     S + "GZ-RV-901: warning_level_m must be positive, got -1"),
    ("zero threshold", [changed(NOISE, night_limit_db=0)], S + "GZ-NS-901: night_limit_db must be positive, got 0"),
    ("text threshold", [changed(RIVER, guarantee_level_m="2.6m")],
     S + "GZ-RV-901: guarantee_level_m must be a number, got '2.6m'"),
    ("boolean threshold", [changed(RIVER, guarantee_level_m=True)],
     S + "GZ-RV-901: guarantee_level_m must be a number, got True"),
    ("warning above guarantee", [changed(RIVER, warning_level_m=3.0)],
     S + "GZ-RV-901: warning_level_m (3) must be below guarantee_level_m (2.6)"),
    ("warning equal to guarantee", [changed(RIVER, warning_level_m=2.6)],
     S + "GZ-RV-901: warning_level_m (2.6) must be below guarantee_level_m (2.6)"),
    ("night above day", [changed(NOISE, night_limit_db=75)],
     S + "GZ-NS-901: night_limit_db (75) must not exceed day_limit_db (70)"),
    ("unknown waterbody", [changed(QUALITY, waterbody="sea")],
     S + "GZ-WQ-901: waterbody must be one of river, lake, reservoir, got 'sea'"),
    ("unknown class", [changed(QUALITY, target_class="VI")],
     S + "GZ-WQ-901: target_class must be one of I, II, III, IV, V (GB 3838 class Ⅰ–Ⅴ), got 'VI'"),
    ("class as a number", [changed(QUALITY, target_class=3)],
     S + "GZ-WQ-901: target_class must be one of I, II, III, IV, V (GB 3838 class Ⅰ–Ⅴ), got 3"),
    ("class as a list", [changed(QUALITY, target_class=["III"])],
     S + "GZ-WQ-901: target_class must be one of I, II, III, IV, V (GB 3838 class Ⅰ–Ⅴ), got ['III']"),
    ("location in another district", [changed(AIR, district_code="440104")],
     S + "GZ-AQ-901: location (113.325, 23.138) lies in 440106 天河区, not in district_code 440104 越秀区"),
    ("location outside the city", [changed(AIR, location={"lon": 114.06, "lat": 22.54})],
     S + "GZ-AQ-901: location (114.06, 22.54) lies outside every district of 440100, not in district_code "
         "440106 天河区"),
    ("impossible latitude", [changed(AIR, location={"lon": 113.3, "lat": 200})],
     S + "GZ-AQ-901: location (113.3, 200.0) is not a longitude and latitude"),
    ("location not lon/lat", [changed(AIR, location={"x": 113.3, "y": 23.1})],
     S + "GZ-AQ-901: location must be {lon: …, lat: …} in GCJ02, got {'x': 113.3, 'y': 23.1}"),
    ("location text", [changed(AIR, location={"lon": "113.3", "lat": 23.1})],
     S + "GZ-AQ-901: location must be a number, got '113.3'"),
    ("district of another city", [changed(AIR, district_code="440305")],
     S + "GZ-AQ-901: district_code '440305' is not a district of 440100; the districts are 440103, 440104, "
         "440105, 440106, 440111, 440112, 440113, 440114, 440115, 440117, 440118"),
    ("district not quoted", [changed(AIR, district_code=440106)],
     S + "GZ-AQ-901: district_code must be a quoted adcode such as \"440106\", got 440106"),
    ("no id", [AIR, changed(RIVER, id=None)],
     "config error: PATH: row 2: id must be 1–64 characters without spaces, got None"),
    ("id with a space", [changed(RIVER, id="GZ RV 1")],
     "config error: PATH: row 1: id must be 1–64 characters without spaces, got 'GZ RV 1'"),
    ("row not a mapping", [AIR, "GZ-RV-902"],
     "config error: PATH: row 2: expected a mapping of fields, got 'GZ-RV-902'"),
]


@pytest.mark.parametrize("rows, message", [pytest.param(r, m, id=name) for name, r, m in BAD_ROWS])
def test_a_bad_row_is_one_line_naming_the_station_and_the_problem(tmp_path, rows, message):
    assert error(write(tmp_path, rows), city=GUANGZHOU) == message


@pytest.mark.parametrize("text, message", [
    ('city: "440100"\ncrs: WGS84\nstations: []\n',
     "config error: PATH: crs must be GCJ02 (the CRS of the district polygons), got 'WGS84'"),
    ("city: 440100\ncrs: GCJ02\nstations: []\n",
     'config error: PATH: city must be a quoted 6-digit adcode such as "440100", got 440100'),
    ('city: "440100"\ncrs: GCJ02\nstation: []\n',
     "config error: PATH: unknown key 'station'; the keys are city, crs, stations"),
    ('city: "440100"\ncrs: GCJ02\nstations:\n',
     "config error: PATH: stations must be a list of stations"),
    ("- GZ-RV-001\n", "config error: PATH: the top level must be a mapping with city, crs and stations"),
    ('city: "440100"\ncrs: GCJ02\nstations:\n  - {id: GZ-RV-001, name: 珠江中大水位站\n  - {id: GZ-RV-002}\n',
     "config error: PATH line 4: invalid YAML: expected ',' or '}', but got '{'"),  # the unclosed row's line
    ('city: "990100"\ncrs: GCJ02\nstations: []\n',
     "config error: PATH: no boundaries for city 990100: "),
])
def test_a_bad_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "stations.yaml"
    path.write_text(text, encoding="utf-8")
    assert error(path).startswith(message)


def test_the_file_must_be_for_the_configured_city(tmp_path):
    assert error(write(tmp_path, [AIR]), city="440300") == \
        "config error: PATH: the stations are for city 440100 but the city is 440300"


def test_a_missing_file_is_one_line(tmp_path):
    assert error(tmp_path / "none.yaml") == "config error: cannot read PATH: No such file or directory"
