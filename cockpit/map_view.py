"""The map page's data: which queries each layer runs (``load_*``, the only side effects) and pure functions
from their results to what the side panel shows. The layers themselves are built in ``layers/``."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from layers.points import cell_size
from streams.contract import EMERGENCY_STATUS_ZH, EMERGENCY_TYPE_ZH, HOTLINE_STATUS_ZH, LEVEL_ZH
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


def load_events(wh: Warehouse, now: float, hours: float, box, zoom: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(order cells, incident cells) in the box at the zoom's cell size."""
    n, cell = int(now), cell_size(zoom)
    since = int(now - hours * 3600)
    return (q.run(wh, mq.order_clusters(since, n, box, cell)), q.run(wh, mq.incident_clusters(since, n, box, cell)))


def load_grid(wh: Warehouse, now: float, hours: float, box, resolution: int) -> pd.DataFrame:
    return q.run(wh, mq.order_grid(int(now - hours * 3600), int(now), box, resolution))


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


def _when(ts, zone: ZoneInfo) -> str:
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(zone).strftime("%m-%d %H:%M")


def order_detail(order_id: str, history: pd.DataFrame, names: dict[str, str], tz: str) -> list[str]:
    """A work order's timeline as plain lines (the citizen's text included as text)."""
    if history.empty:
        return [f"工单 {order_id}", "未找到该工单"]
    zone, first = ZoneInfo(tz), history.iloc[0]
    urgent = "紧急" if (history["urgency"] == "urgent").any() else "一般"
    lines = [f"工单 {order_id}", " · ".join(part for part in (first["category"], first["subcategory"], urgent) if part),
             f"{names.get(first['district_code'], '未定位')}"]
    content = next((c for c in history["content"] if c), "")
    if content:
        lines.append(f"诉求：{content}")
    for row in history.itertuples(index=False):
        step = f"{_when(row.ts, zone)} {HOTLINE_STATUS_ZH.get(row.status, row.status)}"
        if row.department:
            step += f" · {row.department}"
        lines.append(step)
    return lines


def incident_detail(incident_id: str, history: pd.DataFrame, names: dict[str, str], tz: str) -> list[str]:
    """An incident's timeline as plain lines."""
    if history.empty:
        return [f"突发事件 {incident_id}", "未找到该事件"]
    zone, last = ZoneInfo(tz), history.iloc[-1]
    grade = next((g for g in reversed(list(history["level"])) if g), "")
    description = next((d for d in reversed(list(history["description"])) if d), "")
    lines = [f"突发事件 {incident_id}",
             f"{EMERGENCY_TYPE_ZH.get(last['type'], last['type'])} · {LEVEL_ZH.get(grade, '待定级')}",
             names.get(last["district_code"], "未定位"), *([description] if description else [])]
    for row in history.itertuples(index=False):
        step = f"{_when(row.ts, zone)} {EMERGENCY_STATUS_ZH.get(row.status, row.status)}"
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
