"""The station registry (站点): what water.v1 and ecology.v1 messages name by ``station_id`` — each station's name,
district, location and the thresholds of its type. ``config.stations`` reads it from ``config/stations.yaml``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

FAMILIES = ("water", "ecology")
STATION_TYPES = {"river_gauge": "water", "rain_gauge": "water", "pipe_pressure": "water", "water_quality": "water",
                 "waterlogging": "water", "air": "ecology", "noise": "ecology"}  # type → family


@dataclass(frozen=True)
class Station:
    """One station; ``attrs`` holds the fields of its type (``attrs["warning_level_m"]``), checked and typed."""

    id: str
    name: str
    type: str
    family: str
    district_code: str
    lon: float  # GCJ-02
    lat: float
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False)


class Registry:
    """The stations by id, in file order; ``registry["GZ-RV-001"]``, ``of_family("water")``, ``of_type("air")``."""

    def __init__(self, stations: Iterable[Station]):
        self._by_id = {s.id: s for s in stations}

    def __getitem__(self, station_id: str) -> Station:
        try:
            return self._by_id[station_id]
        except KeyError:
            raise KeyError(f"unknown station {station_id!r}") from None

    def get(self, station_id: str) -> Station | None:
        return self._by_id.get(station_id)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._by_id

    def __iter__(self) -> Iterator[Station]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def of_family(self, family: str) -> list[Station]:
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; families are {', '.join(FAMILIES)}")
        return [s for s in self if s.family == family]

    def of_type(self, station_type: str) -> list[Station]:
        if station_type not in STATION_TYPES:
            raise ValueError(f"unknown station type {station_type!r}; types are {', '.join(STATION_TYPES)}")
        return [s for s in self if s.type == station_type]

    def in_district(self, district_code: str) -> list[Station]:
        return [s for s in self if s.district_code == district_code]
