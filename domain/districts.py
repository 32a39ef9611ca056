"""District of a point by point-in-polygon over the city's shipped boundaries (GCJ-02), with an STRtree."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import shape

from domain.paths import GEO_DIR

POLYGONAL = ("Polygon", "MultiPolygon")
ADCODE = re.compile(r"\d{6}")


def boundaries_path(adcode: str) -> Path:
    return GEO_DIR / f"{adcode}.geojson"


@lru_cache(maxsize=8)
def city_boundaries(adcode: str) -> dict:
    """The shipped boundaries of a city (its districts) or a province (its cities), read and checked once."""
    return load_boundaries(boundaries_path(adcode))


def load_boundaries(path: Path) -> dict:
    """Read a shipped boundaries file; ``ValueError`` naming the file and the problem if it is malformed."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing; run 'python run_cockpit.py geo import {path.stem}'") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON ({e})") from None
    problem = _collection_problem(doc)
    if problem:
        raise ValueError(f"{path}: {problem}")
    return doc


def _collection_problem(doc: object) -> str:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return "not a GeoJSON FeatureCollection"
    if not isinstance(doc.get("features"), list) or not doc["features"]:
        return "has no features"
    for i, feature in enumerate(doc["features"]):
        problem = _feature_problem(feature)
        if problem:
            return f"feature {i} {problem}"
    return ""


def _feature_problem(feature: object) -> str:
    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict):
        return "has no properties"
    adcode = props.get("adcode")
    if not isinstance(adcode, str) or not ADCODE.fullmatch(adcode):
        return f"has adcode {adcode!r}, not a 6-digit string"
    if not isinstance(props.get("name"), str) or not props["name"]:
        return f"({adcode}) has no name"
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in POLYGONAL or not geometry.get("coordinates"):
        return f"({adcode}) has geometry {kind!r}, not a Polygon or MultiPolygon with coordinates"
    return ""


class DistrictIndex:
    """``index.locate(lon, lat)`` → adcode of the district containing the GCJ-02 point, or ``""``."""

    def __init__(self, features: list[dict]):
        self.codes = [f["properties"]["adcode"] for f in features]
        self.names = {f["properties"]["adcode"]: f["properties"]["name"] for f in features}
        self.geometries = [shape(f["geometry"]) for f in features]
        self._tree = STRtree(self.geometries)

    @classmethod
    def for_city(cls, adcode: str) -> "DistrictIndex":
        try:
            return cls(city_boundaries(adcode)["features"])
        except FileNotFoundError as e:
            raise FileNotFoundError(f"no boundaries for city {adcode}: {e}") from None

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
