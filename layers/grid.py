"""Grid (网格) layer: H3 hexagons with a count or a rate per cell, for density and drill-down inside a district.

Cells are computed at ingest from WGS-84 coordinates; the map draws in GCJ-02 (the district polygons' CRS).
The warehouse returns per cell the mean offset between the events' map and WGS-84 coordinates, and each
hexagon's WGS-84 boundary is shifted by it, so hexagons line up with the points and polygons (the GCJ-02
offset varies by only metres across a cell). The browser styles cells with ``cockpit.cellStyle``
(assets/grid_map.js) from the class breaks and colours in ``hideout``; the heat view is the same layer with a
warm ramp, no outlines and opacity rising with the class.
"""
from __future__ import annotations

import math

import dash_leaflet as dl
import h3
import h3.api.basic_int as h3i
import pandas as pd

from layers.districts import NO_DATA, class_breaks

# Sequential dark violet → magenta → orange → pale yellow (matplotlib's magma): apart from the district blues
# and from the red/orange/yellow/blue of alert severity.
COLORS = ("#3b0f70", "#8c2981", "#de4968", "#fe9f6d", "#fcfdbf")
OPACITY = (0.75,) * len(COLORS)
OUTLINE = "#e6e9f2"
# Heat view: warm, no outlines, faint where sparse.
HEAT_COLORS = ("#5a1846", "#9c2b4b", "#d4553f", "#f0954a", "#fbd38a")
HEAT_OPACITY = (0.25, 0.4, 0.55, 0.7, 0.85)
MIN_RES, MAX_RES = 5, 10
TARGET_PX = math.sqrt(30 * 60)  # the middle of 30–60 px, on a log scale


def resolution_for_zoom(zoom: float, *, lat: float = 23.1) -> int:
    """The H3 resolution whose cells (2 × mean edge across) are nearest ~42 px on screen at a Leaflet zoom
    (256-px tiles, at latitude ``lat``; Guangzhou's by default), clamped to 5–10. Resolutions step by √7 in
    size, so a cell spans 26–69 px."""
    metres_per_px = 156_543.03392 * math.cos(math.radians(lat)) / 2 ** zoom
    return min(range(MIN_RES, MAX_RES + 1), key=lambda r: abs(math.log(
        2 * h3.average_hexagon_edge_length(r, unit="m") / metres_per_px / TARGET_PX)))


def _label(value: str, v) -> str:
    return f"{v:.1%}" if value == "rate" else f"{v:,.0f} 件"


def hex_features(cells: pd.DataFrame, *, value: str = "n") -> dict:
    """GeoJSON polygons of the warehouse's cells (columns cell, n, dx, dy, optionally rate), each H3 boundary
    shifted by (dx, dy) into the map CRS. Properties: cell (15-hex-digit H3 index), value (the ``value``
    column), label (e.g. "1,234 件", or "12.5%" for ``rate``). Rows without a value are left out."""
    if cells.empty:
        return {"type": "FeatureCollection", "features": []}
    cells = cells.dropna(subset=[value])
    features = []
    for cell, v, dx, dy in zip(*(cells[c].tolist() for c in ("cell", value, "dx", "dy"))):
        ring = [[round(lng + dx, 6), round(lat + dy, 6)] for lat, lng in h3i.cell_to_boundary(int(cell))]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                         "properties": {"cell": h3.int_to_str(int(cell)), "value": v, "label": _label(value, v)}})
    return {"type": "FeatureCollection", "features": features}


def grid_breaks(values, classes: int = len(COLORS), *, rate: bool = False, spread: bool = False) -> list[float]:
    """Lower bounds of the classes: equal shares of 0–100 % for rates (0–1), else
    :func:`layers.districts.class_breaks` of the largest count (all zero when there is none). With ``spread``
    counts are split at quantiles instead, so that a few hot cells do not leave the rest in the
    first class."""
    if rate:
        return [round(i / classes, 4) for i in range(classes)]
    series = pd.Series(values, dtype="float64").dropna()
    top = series.max() if not series.empty else 0
    if spread and top > classes:
        cuts = series[series > 0].quantile([i / classes for i in range(1, classes)]).round().astype(int).tolist()
        breaks = [0] + cuts
        if all(a < b for a, b in zip(breaks, breaks[1:])):
            return breaks
    return class_breaks(top, classes)


def grid_hideout(breaks: list[float], *, heat: bool = False) -> dict:
    """What ``cockpit.cellStyle`` reads: class breaks, colour and fill opacity per class, outline (None: none)."""
    return {"breaks": list(breaks), "colors": list(HEAT_COLORS if heat else COLORS),
            "opacity": list(HEAT_OPACITY if heat else OPACITY), "outline": None if heat else OUTLINE}


def legend_items(breaks: list[float], unit: str, *, heat: bool = False) -> list[tuple[str, str]]:
    """(colour, label) per class, the last open-ended: "0–499 件" for counts; with ``unit="%"`` the breaks are
    shares, "0–20%"."""
    if not any(breaks) and unit != "%":
        return [(NO_DATA, "暂无数据")]
    colors = HEAT_COLORS if heat else COLORS
    items = []
    for i, lo in enumerate(breaks):
        last = i == len(breaks) - 1
        if unit == "%":
            label = f"≥ {lo:.0%}" if last else f"{lo * 100:.0f}–{breaks[i + 1]:.0%}"
        else:
            label = f"≥ {lo} {unit}" if last else f"{lo}–{breaks[i + 1] - 1} {unit}"
        items.append((colors[i], label))
    return items


def grid_layer(prefix: str) -> dl.GeoJSON:
    """The (empty) grid layer; a callback fills ``data`` with :func:`hex_features` and ``hideout`` with
    :func:`grid_hideout`."""
    return dl.GeoJSON(id=f"{prefix}-grid", data={"type": "FeatureCollection", "features": []},
                      style={"variable": "cockpit.cellStyle"}, hideout=grid_hideout([0]), zoomToBounds=False)
