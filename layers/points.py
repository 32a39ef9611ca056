"""Event points: work orders and incidents, aggregated by the warehouse into screen-sized cells
(warehouse/map_queries.py) and drawn by ``cockpit.eventPoint`` (assets/cockpit_map.js).

A cell of many events is a bubble with its count, coloured by the most severe event in it; a cell of one event is
that event — a circle for a work order, a diamond for an incident — coloured by its severity, with a tooltip
(id, time, category, status) and a click that selects it. The cell size follows the zoom, so the payload stays a
few hundred features whatever the number of events. Text is plain data; the browser sets it as text.
"""
from __future__ import annotations

import math

import dash_leaflet as dl
import pandas as pd

from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    HOTLINE_STATUS_ZH,
    LEVEL_ZH,
)
from domain.times import local_time
from layers.palette import SEVERITY, severity_color

CELL_PX = 48  # a cluster cell's side on screen
KINDS = {"order": "工单", "incident": "突发事件"}
# What each severity means per kind, for tooltips and the legend.
MEANING = {"order": {4: "超期在办", 3: "紧急在办", 1: "在办", 0: "已办结"},
           "incident": {4: LEVEL_ZH["I"], 3: LEVEL_ZH["II"], 2: LEVEL_ZH["III"], 1: f"{LEVEL_ZH['IV']} / 待定级",
                        0: "已结案"}}


def cell_size(zoom: float) -> float:
    """Degrees of longitude spanned by ``CELL_PX`` screen pixels at a Leaflet zoom (256-px tiles)."""
    return CELL_PX * 360 / (256 * 2 ** zoom)


def _single(kind: str, row, tz: str) -> dict:
    """Properties of a cell holding one event: what its tooltip and detail panel show."""
    if kind == "order":
        category = f"{row.category} · {row.subcategory}" if row.subcategory else str(row.category)
        status = HOTLINE_STATUS_ZH.get(row.status, str(row.status))
    else:
        category = EMERGENCY_TYPE_ZH.get(row.category, str(row.category))
        status = EMERGENCY_STATUS_ZH.get(row.status, str(row.status))
        if row.subcategory:
            category += f" · {LEVEL_ZH.get(row.subcategory, row.subcategory)}"
    when, meaning = local_time(row.ts, tz, "%m-%d %H:%M"), MEANING[kind][int(row.top)]
    state = status if meaning == status else f"{status} · {meaning}"
    return {"id": str(row.id), "lines": [f"{KINDS[kind]} {row.id}", f"{when} · {category}", f"状态：{state}"]}


def _cluster(kind: str, row) -> dict:
    """Tooltip lines and the ring's shares: [colour, percent] per severity present, most severe first."""
    counts = [(rank, int(getattr(row, name))) for rank, name in
              ((4, "red"), (3, "orange"), (2, "yellow"), (1, "blue"), (0, "done"))]
    parts = [f"{MEANING[kind][rank]} {count:,}" for rank, count in counts if count and rank in MEANING[kind]]
    shares = _ring([(SEVERITY[rank][0], count) for rank, count in counts if count])
    return {"lines": [f"{KINDS[kind]} {int(row.n):,} 件", " · ".join(parts), "点击放大查看"], "shares": shares}


def _ring(parts: list[tuple[str, int]], least: float = 4.0) -> list[list]:
    """[colour, percent] per part, each at least ``least`` percent so that one overdue order among thousands
    still shows, scaled to sum to 100 (to two decimals)."""
    total = sum(count for _, count in parts)
    raw = [max(least, count / total * 100) for _, count in parts]
    return [[color, round(share * 100 / sum(raw), 2)] for (color, _), share in zip(parts, raw)]


def event_features(orders: pd.DataFrame, incidents: pd.DataFrame, timezone: str) -> dict:
    """GeoJSON of the cells of :func:`warehouse.map_queries.order_clusters` and ``incident_clusters`` results.
    Properties: kind, n, top (severity), color, radius (px, by count), lines (tooltip text), and for a
    single event its id."""
    features = []
    for kind, frame in (("order", orders), ("incident", incidents)):
        for row in frame.itertuples(index=False):
            n = int(row.n)
            props = {"kind": kind, "n": n, "top": int(row.top), "color": severity_color(row.top),
                     "radius": round(min(26.0, 9 + 3.2 * math.log10(n)), 1) if n > 1 else 6.5,
                     **(_single(kind, row, timezone) if n == 1 else _cluster(kind, row))}
            features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [round(float(row.lon), 6),
                                                                           round(float(row.lat), 6)]}})
    # Severe last, so that they are drawn on top.
    features.sort(key=lambda f: (f["properties"]["top"], f["properties"]["kind"] == "incident"))
    return {"type": "FeatureCollection", "features": features}


def legend_items() -> list[tuple[str, str]]:
    """(colour, label) per severity, saying what it means for orders and for incidents."""
    rows = []
    for rank in (4, 3, 2, 1, 0):
        meanings = [f"{KINDS[k]}{MEANING[k][rank]}" for k in KINDS if rank in MEANING[k]]
        rows.append((SEVERITY[rank][0], "；".join(meanings)))
    return rows


def points_layer(prefix: str) -> dl.GeoJSON:
    """The (empty) event layer; a callback fills its ``data`` with :func:`event_features`."""
    return dl.GeoJSON(id=f"{prefix}-events", data={"type": "FeatureCollection", "features": []},
                      pointToLayer={"variable": "cockpit.eventPoint"}, zoomToBounds=False)


def viewport_box(bounds, fallback: tuple[float, float, float, float],
                 margin: float = 0.15) -> tuple[float, float, float, float]:
    """(west, south, east, north) of Leaflet bounds [[south, west], [north, east]] as the browser sends them,
    widened by ``margin`` of its size so that a small pan shows no empty edge; ``fallback`` when they are
    missing or not a plausible box (they come from the client: never trusted)."""
    try:
        (south, west), (north, east) = bounds
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (south, west, north, east)):
            return fallback
    except (TypeError, ValueError):
        return fallback
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return fallback
    dx, dy = (east - west) * margin, (north - south) * margin
    return west - dx, south - dy, east + dx, north + dy
