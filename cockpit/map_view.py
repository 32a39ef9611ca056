"""The map page's data: which queries each layer runs (``load_*``, the only side effects) and pure functions
from their results to what the side panel shows. The layers themselves are built in ``layers/``.

The viewport and zoom come from the browser, so the work they cause is bounded here whatever they say: the box
is cut to the city's region (:func:`region_box`: nothing lies outside it), the zoom is a number in 3–18, event
cells are never finer than :data:`MAX_CELLS_ACROSS` across the box, and more than :data:`MAX_POINTS` cells of a
kind are merged into larger ones (every event still counted, and the map says so); the grid's H3 resolution is
coarsened until the box holds at most :data:`MAX_HEXES` cells.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np
import pandas as pd

from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    HOTLINE_STATUS_ZH,
    LEVEL_ZH,
)
from domain.districts import city_boundaries
from domain.times import local_time
from layers import districts as dmap
from layers.grid import MIN_RES
from layers.points import cell_size
from warehouse import Warehouse
from warehouse import map_queries as mq
from warehouse import queries as q

DAY = 86400
ORDER_WINDOW_DAYS = 30  # as the wall: orders with an event in 30 days are the open-order candidates
STATION_WINDOW = DAY  # newest readings are looked for in the last day; older means silent anyway


@dataclass(frozen=True)
class DistrictData:
    states: pd.DataFrame  # queries.order_states
    incidents: pd.DataFrame  # map_queries.open_incidents
    ecology: pd.DataFrame  # map_queries.ecology_latest


def load_districts(wh: Warehouse, now: float) -> DistrictData:
    n = int(now)
    return DistrictData(states=q.run(wh, q.order_states(n - ORDER_WINDOW_DAYS * DAY, n - 7 * DAY, n)),
                        incidents=q.run(wh, mq.open_incidents(n - 7 * DAY, n)),
                        ecology=q.run(wh, mq.ecology_latest(n - 3 * 3600, n)))


# --- bounded work ---------------------------------------------------------------------------------------------------

REGION_MARGIN = 0.1  # degrees (~10 km) around the city's boundaries: the largest box a query is given
MIN_ZOOM, MAX_ZOOM, DEFAULT_ZOOM = 3.0, 18.0, 9.0
MAX_CELLS_ACROSS = 64  # a 2,400-px-wide map at 48-px cells, with its margins; (64 + 1)² stays under mq.MAX_CELLS
MAX_POINTS = 800  # event cells per kind sent to the browser (~180 KiB); more are merged 2 × 2
MAX_HEXES = 2500  # H3 cells the grid's resolution may put in the box (~700 KiB at most)
OUTSIDE_NOTE = "当前视野不在本市范围内，移回本市查看"


@lru_cache(maxsize=8)
def region_box(adcode: str) -> mq.Box:
    """(west, south, east, north) of the city's boundaries widened by :data:`REGION_MARGIN`."""
    (south, west), (north, east) = dmap.bounds(city_boundaries(adcode))
    return west - REGION_MARGIN, south - REGION_MARGIN, east + REGION_MARGIN, north + REGION_MARGIN


def clamp_box(box: mq.Box, region: mq.Box) -> mq.Box | None:
    """The part of ``box`` inside ``region``; None when they do not overlap."""
    west, south = max(box[0], region[0]), max(box[1], region[1])
    east, north = min(box[2], region[2]), min(box[3], region[3])
    return (west, south, east, north) if west < east and south < north else None


def zoom_of(value) -> float:
    """The map's zoom as the browser sends it (client input): a finite number clamped to 3–18, else the city's."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return DEFAULT_ZOOM
    return float(min(MAX_ZOOM, max(MIN_ZOOM, value)))


def event_cell(box: mq.Box, zoom: float) -> float:
    """The zoom's cell size, or larger so that the box is at most :data:`MAX_CELLS_ACROSS` cells across."""
    return max(cell_size(zoom), max(box[2] - box[0], box[3] - box[1]) / MAX_CELLS_ACROSS)


def _merge(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells merged 2 × 2 (floor(gx / 2) is the cell of twice the size): counts summed, position weighted by
    count, the most severe kept, the first cell's details kept (shown only for a cell still of one event)."""
    w = cells["n"].astype("float64")
    merged = cells.assign(gx=np.floor(cells["gx"] / 2), gy=np.floor(cells["gy"] / 2),
                          wx=cells["lon"] * w, wy=cells["lat"] * w)
    sums = {c: (c, "sum") for c in ("n", "wx", "wy", "red", "orange", "yellow", "blue", "done")}
    firsts = {c: (c, "first") for c in ("id", "ts", "category", "subcategory", "status") if c in cells}
    out = merged.groupby(["gx", "gy"], sort=False).agg(**sums, top=("top", "max"), **firsts).reset_index()
    out = out.assign(lon=out["wx"] / out["n"], lat=out["wy"] / out["n"]).drop(columns=["wx", "wy"])
    return out.sort_values(["n", "gx", "gy"], ascending=[False, True, True], ignore_index=True)


def coarsen(cells: pd.DataFrame, cap: int = MAX_POINTS) -> tuple[pd.DataFrame, int]:
    """(cells, factor): the cells unchanged (factor 1) when at most ``cap``, else merged 2 × 2 as many times as
    needed (factor 2, 4, …: the new cell's side in old cells)."""
    factor = 1
    while len(cells) > cap:
        cells, factor = _merge(cells), factor * 2
    return cells, factor


@dataclass(frozen=True)
class Events:
    orders: pd.DataFrame  # map_queries.order_clusters, possibly merged (see coarsen)
    incidents: pd.DataFrame  # map_queries.incident_clusters, likewise
    merged: int = 1  # the largest coarsening factor applied
    outside: bool = False  # the view lies outside the city's region: nothing was queried


def events_note(events: Events) -> str:
    """What the map says about points it did not draw one by one."""
    if events.outside:
        return OUTSIDE_NOTE
    if events.merged > 1:
        return f"点位较多（每类最多显示 {MAX_POINTS:,} 个），已合并为较大的聚合点，数量完整；放大地图查看明细"
    return ""


def load_events(wh: Warehouse, now: float, hours: float, box: mq.Box | None, zoom: float) -> Events:
    """Order and incident cells in the box (already cut to the region; None: no query) at the zoom's cell size,
    bounded as the module says."""
    if box is None:
        return Events(pd.DataFrame(), pd.DataFrame(), outside=True)
    n, cell = int(now), event_cell(box, zoom)
    since = int(now - hours * 3600)
    orders, fo = coarsen(q.run(wh, mq.order_clusters(since, n, box, cell)), MAX_POINTS)
    incidents, fi = coarsen(q.run(wh, mq.incident_clusters(since, n, box, cell)), MAX_POINTS)
    return Events(orders, incidents, merged=max(fo, fi))


def hexes_in(box: mq.Box, resolution: int) -> float:
    """About how many H3 cells of ``resolution`` cover the box (its area over a cell's mean area)."""
    west, south, east, north = box
    km_x = (east - west) * 111.32 * math.cos(math.radians((south + north) / 2))
    return km_x * (north - south) * 110.57 / h3.average_hexagon_area(resolution, unit="km^2")


def grid_resolution(box: mq.Box, wanted: int) -> int:
    """``wanted``, or the finest coarser resolution (not below the grid's least) whose cells in the box are at
    most :data:`MAX_HEXES`."""
    resolution = wanted
    while resolution > MIN_RES and hexes_in(box, resolution) > MAX_HEXES:
        resolution -= 1
    return resolution


def load_grid(wh: Warehouse, now: float, hours: float, box: mq.Box | None, resolution: int) -> pd.DataFrame:
    """Work orders per H3 cell in the box (None: an empty frame, no query), at ``resolution`` or coarser (see
    :func:`grid_resolution`)."""
    if box is None:
        return pd.DataFrame(columns=["cell", "n", "rate", "dx", "dy"])
    return q.run(wh, mq.order_grid(int(now - hours * 3600), int(now), box, grid_resolution(box, resolution)))


def load_stations_latest(wh: Warehouse, now: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = int(now)
    return q.run(wh, mq.water_latest(n - STATION_WINDOW, n)), q.run(wh, mq.ecology_latest(n - STATION_WINDOW, n))


def district_summary(code: str, name: str, values: dict[str, dict[str, float]], titles: dict[str, tuple]) -> list:
    """Lines for a selected district: each metric's value, '—' where it has none."""
    lines = [name]
    for metric, (title, unit, decimals) in titles.items():
        value = values.get(metric, {}).get(code)
        lines.append(f"{title}：{'—' if value is None else f'{value:,.{decimals}f} {unit}'.strip()}")
    return lines


def order_detail(order_id: str, history: pd.DataFrame, names: dict[str, str], tz: str) -> list[str]:
    """A work order's timeline as plain lines (the citizen's text included as text)."""
    if history.empty:
        return [f"工单 {order_id}", "未找到该工单"]
    first = history.iloc[0]
    urgent = "紧急" if (history["urgency"] == "urgent").any() else "一般"
    lines = [f"工单 {order_id}", " · ".join(part for part in (first["category"], first["subcategory"], urgent) if part),
             f"{names.get(first['district_code'], '未定位')}"]
    content = next((c for c in history["content"] if c), "")
    if content:
        lines.append(f"诉求：{content}")
    for row in history.itertuples(index=False):
        step = f"{local_time(row.ts, tz, '%m-%d %H:%M')} {HOTLINE_STATUS_ZH.get(row.status, row.status)}"
        if row.department:
            step += f" · {row.department}"
        lines.append(step)
    return lines


def incident_detail(incident_id: str, history: pd.DataFrame, names: dict[str, str], tz: str) -> list[str]:
    """An incident's timeline as plain lines."""
    if history.empty:
        return [f"突发事件 {incident_id}", "未找到该事件"]
    last = history.iloc[-1]
    grade = next((g for g in reversed(list(history["level"])) if g), "")
    description = next((d for d in reversed(list(history["description"])) if d), "")
    lines = [f"突发事件 {incident_id}",
             f"{EMERGENCY_TYPE_ZH.get(last['type'], last['type'])} · {LEVEL_ZH.get(grade, '待定级')}",
             names.get(last["district_code"], "未定位"), *([description] if description else [])]
    for row in history.itertuples(index=False):
        step = f"{local_time(row.ts, tz, '%m-%d %H:%M')} {EMERGENCY_STATUS_ZH.get(row.status, row.status)}"
        if len(row.units):
            step += f" · 出动 {len(row.units)} 支力量"
        if row.casualties is not None and not pd.isna(row.casualties) and row.casualties:
            step += f" · 伤亡 {int(row.casualties)} 人"
        lines.append(step)
    return lines


def load_detail(wh: Warehouse, kind: str, event_id: str, names: dict[str, str], tz: str) -> list[str]:
    if kind == "order":
        return order_detail(event_id, q.run(wh, mq.order_history(event_id)), names, tz)
    return incident_detail(event_id, q.run(wh, mq.incident_history(event_id)), names, tz)
