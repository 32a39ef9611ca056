"""Station registry (站点): what water.v1 and ecology.v1 messages name by ``station_id``, from ``config/stations.yaml``.

A message carries only readings; the station's name, district, location and thresholds (警戒水位, 保证水位,
low pressure, ponding depth, target water class …) live here. The file is a mapping::

    city: "440100"          # the city whose districts the stations are in
    crs: GCJ02              # the CRS of the locations: that of the district polygons
    stations:
      - {id: GZ-RV-001, name: 珠江广州大桥水位站, type: river_gauge, family: water, district_code: "440105",
         location: {lon: 113.317086, lat: 23.105567}, river: 珠江前航道, warning_level_m: 1.9, guarantee_level_m: 2.6}

``TYPES`` declares, per station type (its family: ``domain.stations``), its own fields with their checks. Loading checks every
row — unique id, known type and family, no missing or unknown field, positive thresholds, warning below
guarantee, the location inside its stated district (point-in-polygon on ``assets/geo/<city>.geojson``) — and
turns the first problem into a :class:`~config.settings.ConfigError` whose message is one line naming the
station (or the row, when it has no usable id) and the problem.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from config.settings import ConfigError, read_yaml_file
from domain.districts import DistrictIndex
from domain.paths import CONFIG_DIR
from domain.stations import STATION_TYPES, Registry, Station
from domain.water_quality import WATERBODIES

DEFAULT_PATH = CONFIG_DIR / "stations.yaml"
CRS = "GCJ02"
GRADES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}  # GB 3838 target class as written in the file


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {value!r}")
    return value.strip()


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a number, got {value!r}")
    return float(value)


def _positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError(f"must be positive, got {value!r}")
    return number


def _waterbody(value: Any) -> str:
    if not isinstance(value, str) or value not in WATERBODIES:
        raise ValueError(f"must be one of {', '.join(WATERBODIES)}, got {value!r}")
    return value


def _grade(value: Any) -> int:
    if not isinstance(value, str) or value not in GRADES:
        raise ValueError(f"must be one of {', '.join(GRADES)} (GB 3838 class Ⅰ–Ⅴ), got {value!r}")
    return GRADES[value]


def _levels(attrs: Mapping[str, Any]) -> None:
    if attrs["warning_level_m"] >= attrs["guarantee_level_m"]:
        raise ValueError(f"warning_level_m ({attrs['warning_level_m']:g}) must be below "
                         f"guarantee_level_m ({attrs['guarantee_level_m']:g})")


def _noise_limits(attrs: Mapping[str, Any]) -> None:
    if attrs["night_limit_db"] > attrs["day_limit_db"]:
        raise ValueError(f"night_limit_db ({attrs['night_limit_db']:g}) must not exceed "
                         f"day_limit_db ({attrs['day_limit_db']:g})")


@dataclass(frozen=True)
class StationType:
    fields: Mapping[str, Callable[[Any], Any]]  # field → check returning the value (raises ValueError)
    rule: Callable[[Mapping[str, Any]], None] | None = None  # across the fields, after each passed its check


TYPES: dict[str, StationType] = {
    "river_gauge": StationType({"river": _text, "warning_level_m": _positive,
                                         "guarantee_level_m": _positive}, _levels),
    "rain_gauge": StationType({"alarm_rain_1h_mm": _positive}),
    "pipe_pressure": StationType({"low_pressure_mpa": _positive}),
    "water_quality": StationType({"waterbody": _waterbody, "target_class": _grade}),
    "waterlogging": StationType({"ponding_alarm_cm": _positive}),
    "air": StationType({}),
    "noise": StationType({"day_limit_db": _positive, "night_limit_db": _positive}, _noise_limits),
}
COMMON = ("id", "name", "type", "family", "district_code", "location")
assert TYPES.keys() == STATION_TYPES.keys()


def load_stations(path: Path | str = DEFAULT_PATH, *, city: str | None = None) -> Registry:
    """The checked registry of ``path``. With ``city`` (the configured adcode) the file must be for that city."""
    path = Path(path)
    doc = _read(path)
    file_city = doc["city"]
    if city is not None and file_city != city:
        raise ConfigError(f"config error: {path}: the stations are for city {file_city} but the city is {city}")
    try:
        districts = DistrictIndex.for_city(file_city)
    except FileNotFoundError as e:
        raise ConfigError(f"config error: {path}: {e}") from None
    stations: list[Station] = []
    rows_by_id: dict[str, int] = {}
    for number, row in enumerate(doc["stations"], start=1):
        station = _station(row, number, districts, file_city, rows_by_id, path)
        rows_by_id[station.id] = number
        stations.append(station)
    return Registry(stations)


def _read(path: Path) -> dict[str, Any]:
    """The top level of the file, checked: ``city``, ``crs`` and the list of ``stations``."""
    doc = read_yaml_file(path)
    if not isinstance(doc, dict):
        raise ConfigError(f"config error: {path}: the top level must be a mapping with city, crs and stations")
    unknown = [key for key in doc if key not in ("city", "crs", "stations")]
    if unknown:
        raise ConfigError(f"config error: {path}: unknown key {unknown[0]!r}; the keys are city, crs, stations")
    city = doc.get("city")
    if not (isinstance(city, str) and len(city) == 6 and city.isdigit()):
        raise ConfigError(f"config error: {path}: city must be a quoted 6-digit adcode such as \"440100\", "
                          f"got {city!r}")
    if doc.get("crs") != CRS:
        raise ConfigError(f"config error: {path}: crs must be {CRS} (the CRS of the district polygons), "
                          f"got {doc.get('crs')!r}")
    if not isinstance(doc.get("stations"), list):
        raise ConfigError(f"config error: {path}: stations must be a list of stations")
    return doc


def _station(row: Any, number: int, districts: DistrictIndex, city: str, rows_by_id: Mapping[str, int],
             path: Path) -> Station:
    """One row checked into a Station; the first problem is a ConfigError naming the station or the row."""
    where = f"config error: {path}: row {number}"
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: expected a mapping of fields, got {row!r}")
    station_id = row.get("id")
    if not (isinstance(station_id, str) and 0 < len(station_id) <= 64
            and not any(c.isspace() for c in station_id)):
        raise ConfigError(f"{where}: id must be 1–64 characters without spaces, got {station_id!r}")
    where = f"config error: {path}: station {station_id}"
    if station_id in rows_by_id:
        raise ConfigError(f"{where}: duplicate id (row {number} repeats row {rows_by_id[station_id]})")

    kind = TYPES.get(row["type"]) if isinstance(row.get("type"), str) else None
    if kind is None:
        raise ConfigError(f"{where}: unknown type {row.get('type')!r}; types are {', '.join(TYPES)}")
    expected = (*COMMON, *kind.fields)
    unknown = [name for name in row if name not in expected]
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; {row['type']} stations have "
                          f"{', '.join(expected)}")
    missing = [name for name in expected if name not in row]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    if row["family"] != STATION_TYPES[row["type"]]:
        raise ConfigError(f"{where}: family {row['family']!r} does not match type {row['type']} "
                          f"(family {STATION_TYPES[row['type']]})")

    values: dict[str, Any] = {}
    for name, check in {"name": _text, **kind.fields}.items():
        try:
            values[name] = check(row[name])
        except ValueError as e:
            raise ConfigError(f"{where}: {name} {e}") from None
    if kind.rule:
        try:
            kind.rule(values)
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None

    district = row["district_code"]
    if not isinstance(district, str):
        raise ConfigError(f"{where}: district_code must be a quoted adcode such as \"440106\", got {district!r}")
    if district not in districts.names:
        raise ConfigError(f"{where}: district_code {district!r} is not a district of {city}; "
                          f"the districts are {', '.join(districts.names)}")
    lon, lat = _location(row["location"], where)
    found = districts.locate(lon, lat)
    if found != district:
        inside = f"in {found} {districts.names[found]}" if found else f"outside every district of {city}"
        raise ConfigError(f"{where}: location ({lon}, {lat}) lies {inside}, not in district_code "
                          f"{district} {districts.names[district]}")
    name = values.pop("name")
    return Station(station_id, name, row["type"], STATION_TYPES[row["type"]], district, lon, lat, values)


def _location(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, dict) or set(value) != {"lon", "lat"}:
        raise ConfigError(f"{where}: location must be {{lon: …, lat: …}} in {CRS}, got {value!r}")
    try:
        lon, lat = _number(value["lon"]), _number(value["lat"])
    except ValueError as e:
        raise ConfigError(f"{where}: location {e}") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ConfigError(f"{where}: location ({lon}, {lat}) is not a longitude and latitude")
    return lon, lat
