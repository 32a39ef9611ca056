"""Station registry (站点): what water.v1 and ecology.v1 messages name by ``station_id``, from ``config/stations.yaml``.

A message carries only readings; the station's name, district, location and thresholds (警戒水位, 保证水位,
low pressure, ponding depth, target water class …) live here. The file is a mapping::

    city: "440100"          # the city whose districts the stations are in
    crs: GCJ02              # the CRS of the locations: that of the district polygons
    stations:
      - {id: GZ-RV-001, name: 珠江广州大桥水位站, type: river_gauge, family: water, district_code: "440105",
         location: {lon: 113.317086, lat: 23.105567}, river: 珠江前航道, warning_level_m: 1.9, guarantee_level_m: 2.6}

Each station type is a Struct of the tagged union ``Row`` (tag ``type``; its family: ``domain.stations``)
declaring its own fields; :func:`config.files.decode` checks every row against it — known type and family, no
missing or unknown field, positive thresholds, warning below guarantee. Loading then checks what needs the
whole file and the map — unique ids, the location inside its stated district (point-in-polygon on
``assets/geo/<city>.geojson``). The first problem is a :class:`~config.files.ConfigError` whose message is one
line naming the station (or the row, when it has no usable id) and the problem.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Union, get_args

import msgspec
from msgspec import Meta

from config.files import LARGEST, ConfigError, Problem, decode, read_yaml_file
from domain.districts import DistrictIndex
from domain.paths import CONFIG_DIR
from domain.stations import STATION_TYPES, Registry, Station

DEFAULT_PATH = CONFIG_DIR / "stations.yaml"
CRS = "GCJ02"
GRADES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}  # GB 3838 target class as written in the file
ID = r"^\S{1,64}\Z"

Text = Annotated[str, Meta(pattern=r"\S")]  # stripped when the Station is made
Positive = Annotated[float, Meta(gt=0, le=LARGEST)]


class Location(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lon: Annotated[float, Meta(ge=-180, le=180)]
    lat: Annotated[float, Meta(ge=-90, le=90)]


class Row(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type"):
    """The fields every station has; ``type`` is the tag of the subclasses."""

    id: Annotated[str, Meta(pattern=ID)]
    name: Text
    family: str
    district_code: str
    location: Location


class Water(Row, frozen=True):
    family: Literal["water"]


class Ecology(Row, frozen=True):
    family: Literal["ecology"]


class RiverGauge(Water, frozen=True, tag="river_gauge"):
    river: Text
    warning_level_m: Positive
    guarantee_level_m: Positive

    def __post_init__(self) -> None:
        if self.warning_level_m >= self.guarantee_level_m:
            raise ValueError(f"warning_level_m ({self.warning_level_m:g}) must be below "
                             f"guarantee_level_m ({self.guarantee_level_m:g})")


class RainGauge(Water, frozen=True, tag="rain_gauge"):
    alarm_rain_1h_mm: Positive


class PipePressure(Water, frozen=True, tag="pipe_pressure"):
    low_pressure_mpa: Positive


class WaterQuality(Water, frozen=True, tag="water_quality"):
    waterbody: Literal["river", "lake", "reservoir"]  # domain.water_quality.WATERBODIES
    target_class: Annotated[Literal["I", "II", "III", "IV", "V"], Meta(description="GB 3838 class Ⅰ–Ⅴ")]


class Waterlogging(Water, frozen=True, tag="waterlogging"):
    ponding_alarm_cm: Positive


class Air(Ecology, frozen=True, tag="air"):
    pass


class Noise(Ecology, frozen=True, tag="noise"):
    day_limit_db: Positive
    night_limit_db: Positive

    def __post_init__(self) -> None:
        if self.night_limit_db > self.day_limit_db:
            raise ValueError(f"night_limit_db ({self.night_limit_db:g}) must not exceed "
                             f"day_limit_db ({self.day_limit_db:g})")


AnyRow = Union[RiverGauge, RainGauge, PipePressure, WaterQuality, Waterlogging, Air, Noise]
COMMON = ("id", "name", "type", "family", "district_code", "location")


class StationsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    city: Annotated[str, Meta(pattern=r"^\d{6}\Z")]
    crs: Literal["GCJ02"]
    stations: list[AnyRow]


def _tag(row: type) -> str:
    return row.__struct_config__.tag  # type: ignore[attr-defined]


def _family(row: type) -> str:
    return next(get_args(f.type)[0] for f in msgspec.structs.fields(row) if f.name == "family")


assert {_tag(t): _family(t) for t in get_args(AnyRow)} == STATION_TYPES


def load_stations(path: Path | str = DEFAULT_PATH, *, city: str | None = None) -> Registry:
    """The checked registry of ``path``. With ``city`` (the configured adcode) the file must be for that city."""
    path = Path(path)
    doc = read_yaml_file(path)
    file = decode(doc, StationsFile, lambda problem: _explain(problem, path, doc))
    if city is not None and file.city != city:
        raise ConfigError(f"config error: {path}: the stations are for city {file.city} but the city is {city}")
    try:
        districts = DistrictIndex.for_city(file.city)
    except FileNotFoundError as e:
        raise ConfigError(f"config error: {path}: {e}") from None
    stations: list[Station] = []
    rows_by_id: dict[str, int] = {}
    for number, row in enumerate(file.stations, start=1):
        where = f"config error: {path}: station {row.id}"
        if row.id in rows_by_id:
            raise ConfigError(f"{where}: duplicate id (row {number} repeats row {rows_by_id[row.id]})")
        rows_by_id[row.id] = number
        if row.district_code not in districts.names:
            raise ConfigError(f"{where}: district_code {row.district_code!r} is not a district of {file.city}; "
                              f"the districts are {', '.join(districts.names)}")
        lon, lat = row.location.lon, row.location.lat
        found = districts.locate(lon, lat)
        if found != row.district_code:
            inside = f"in {found} {districts.names[found]}" if found else f"outside every district of {file.city}"
            raise ConfigError(f"{where}: location ({lon}, {lat}) lies {inside}, not in district_code "
                              f"{row.district_code} {districts.names[row.district_code]}")
        stations.append(_station(row))
    return Registry(stations)


def _station(row: Row) -> Station:
    attrs = {name: getattr(row, name) for name in row.__struct_fields__ if name not in COMMON}
    attrs = {name: value.strip() if isinstance(value, str) else value for name, value in attrs.items()}
    if "target_class" in attrs:
        attrs["target_class"] = GRADES[attrs["target_class"]]
    return Station(row.id, row.name.strip(), _tag(type(row)), row.family, row.district_code, row.location.lon,
                   row.location.lat, attrs)


def _explain(p: Problem, path: Path, doc: object) -> str:
    """A problem in the words of the stations file: the top level, or a row by its station id (or number)."""
    top = {"city": f"city must be a quoted 6-digit adcode such as \"440100\", got {p.value!r}",
           "crs": f"crs must be {CRS} (the CRS of the district polygons), got {p.value!r}",
           "stations": "stations must be a list of stations"}
    if not p.path:
        if p.kind == "type":
            return f"{path}: the top level must be a mapping with city, crs and stations"
        if p.kind == "unknown":
            return f"{path}: unknown key {p.names[0]!r}; the keys are city, crs, stations"
        return f"{path}: {top[p.names[0]]}"  # missing
    if len(p.path) == 1:
        return f"{path}: {top[str(p.path[0])]}"
    number, field = int(p.path[1]) + 1, (p.path[2:] or ("",))[0]
    raw = doc["stations"][number - 1] if isinstance(doc, dict) else None  # type: ignore[index]
    station_id = raw.get("id") if isinstance(raw, dict) else None
    usable = isinstance(station_id, str) and re.search(ID, station_id)
    where = f"{path}: station {station_id}" if usable else f"{path}: row {number}"
    return f"{where}: {_row_problem(p, field, raw)}"


def _row_problem(p: Problem, field: str | int, raw: object) -> str:
    tag = _tag(p.struct) if p.struct and issubclass(p.struct, Row) else ""
    if field == "id" or (p.kind == "missing" and "id" in p.names):
        return f"id must be 1–64 characters without spaces, got {p.value if field == 'id' else None!r}"
    if not field:
        if p.kind == "type":
            return f"expected a mapping of fields, got {p.value!r}"
        if p.kind == "unknown":
            fields = (*COMMON, *(f for f in p.fields if f not in COMMON))
            return f"unknown field {p.names[0]!r}; {tag} stations have {', '.join(fields)}"
        if p.kind == "missing":
            return f"missing {', '.join(p.names)}"
        return p.text  # a rule across fields
    if field == "type":
        return f"unknown type {p.value!r}; types are {', '.join(p.choices)}"
    if field == "family":
        return f"family {p.value!r} does not match type {tag} (family {STATION_TYPES[tag]})"
    if field == "district_code":
        return f"district_code must be a quoted adcode such as \"440106\", got {p.value!r}"
    if field == "location":
        if len(p.path) == 3:
            return f"location must be {{lon: …, lat: …}} in {CRS}, got {p.value!r}"
        if p.kind == "bound":
            location = raw["location"]  # type: ignore[index]
            lon, lat = (float(location[k]) if isinstance(location.get(k), (int, float)) else location.get(k)
                        for k in ("lon", "lat"))
            return f"location ({lon}, {lat}) is not a longitude and latitude"
        return f"location must be a number, got {p.value!r}"
    if p.kind == "choice":
        hint = f" ({p.meta['description']})" if "description" in p.meta else ""
        return f"{field} must be one of {', '.join(p.choices)}{hint}, got {p.value!r}"
    if p.meta.get("pattern"):
        return f"{field} must be a non-empty string, got {p.value!r}"
    if p.kind == "bound":
        return f"{field} must be positive, got {p.value!r}"
    return f"{field} must be a number, got {p.value!r}"
