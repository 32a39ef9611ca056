"""District of a point by point-in-polygon over the city's shipped boundaries (GCJ-02), with an STRtree."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import shape

from domain.paths import GEO_DIR


def boundaries_path(adcode: str) -> Path:
    return GEO_DIR / f"{adcode}.geojson"


class DistrictIndex:
    """``index.locate(lon, lat)`` → adcode of the district containing the GCJ-02 point, or ``""``."""

    def __init__(self, features: list[dict]):
        self.codes = [f["properties"]["adcode"] for f in features]
        self.names = {f["properties"]["adcode"]: f["properties"]["name"] for f in features}
        self.geometries = [shape(f["geometry"]) for f in features]
        self._tree = STRtree(self.geometries)

    @classmethod
    def for_city(cls, adcode: str) -> "DistrictIndex":
        path = boundaries_path(adcode)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no boundaries for city {adcode}: {path} is missing; "
                                    f"run 'python run_cockpit.py geo import {adcode}'") from None
        return cls(doc["features"])

    def locate(self, lon: float, lat: float) -> str:
        return self.locate_many(np.array([lon]), np.array([lat]))[0]

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> list[str]:
        """Adcodes of many GCJ-02 points at once (one vectorised STRtree query); ``""`` where outside."""
        found = np.full(len(lon), len(self.codes))
        points, districts = self._tree.query(shapely.points(lon, lat), predicate="within")
        np.minimum.at(found, points, districts)  # on a shared edge the first district wins, as in the file
        codes = [*self.codes, ""]
        return [codes[i] for i in found]

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [g.bounds for g in self.geometries]
        return min(b[0] for b in xs), min(b[1] for b in xs), max(b[2] for b in xs), max(b[3] for b in xs)
