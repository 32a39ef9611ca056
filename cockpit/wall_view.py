"""The wall's data: one batch of queries (``load``) and pure functions from its frames to what is drawn."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from warehouse import Warehouse
from warehouse import queries as q

ORDER_WINDOW_DAYS = 30  # orders with any event in this window count as "open" candidates
RATE_WINDOW_DAYS = 7


@dataclass(frozen=True)
class WallData:
    now: float
    day_start: float
    today: pd.DataFrame  # district_activity since local midnight
    yesterday: pd.DataFrame  # district_activity over the same hours yesterday
    states: pd.DataFrame  # order_states
    hourly: pd.DataFrame  # hourly_received over 48 h
    categories: pd.DataFrame  # category_received since local midnight
    latest: pd.DataFrame  # latest_orders


def local_midnight(now: float, tz: str) -> float:
    local = dt.datetime.fromtimestamp(now, ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def load(wh: Warehouse, now: float, tz: str) -> WallData:
    n, day = int(now), int(local_midnight(now, tz))
    return WallData(
        now=now, day_start=day,
        today=q.run(wh, q.district_activity(day, n)),
        yesterday=q.run(wh, q.district_activity(day - 86400, n - 86400)),
        states=q.run(wh, q.order_states(n - ORDER_WINDOW_DAYS * 86400, n - RATE_WINDOW_DAYS * 86400, n)),
        hourly=q.run(wh, q.hourly_received(n - 48 * 3600, n)),
        categories=q.run(wh, q.category_received(day, n)),
        latest=q.run(wh, q.latest_orders(n - 86400, n, limit=14)),
    )


def _sum(df: pd.DataFrame, column: str) -> int:
    return int(df[column].sum()) if not df.empty else 0


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def change(current: int, previous: int) -> str:
    """'较昨日同时段 +12.5%' style comparison; '—' when there is nothing to compare with."""
    if not previous:
        return "较昨日同时段 —"
    pct = (current - previous) / previous * 100
    arrow = "▲" if pct > 0 else "▼" if pct < 0 else "＝"
    return f"较昨日同时段 {arrow}{abs(pct):.1f}%"


def kpis(data: WallData) -> dict[str, dict]:
    """Tile id → {"value": number or None, "sub": text, "level": "" | "warn" | "alarm"}."""
    s = data.states
    received, received_before = _sum(data.today, "received"), _sum(data.yesterday, "received")
    completed = _sum(data.today, "completed")
    overdue = _sum(s, "overdue_open")
    due, on_time = _sum(s, "due"), _sum(s, "due_on_time")
    rated, satisfied = _sum(s, "rated"), _sum(s, "satisfied")
    on_time_rate = ratio(on_time, due)
    return {
        "received": {"value": received, "sub": change(received, received_before), "level": ""},
        "open": {"value": _sum(s, "open_orders"), "sub": f"近{ORDER_WINDOW_DAYS}日受理、尚未办结", "level": ""},
        "completed": {"value": completed, "sub": change(completed, _sum(data.yesterday, "completed")), "level": ""},
        "overdue": {"value": overdue, "sub": "已过办理时限仍未办结", "level": "alarm" if overdue else ""},
        "on_time": {"value": on_time_rate, "sub": f"近{RATE_WINDOW_DAYS}日到期 {due:,} 件，按时 {on_time:,} 件",
                    "level": "warn" if on_time_rate is not None and on_time_rate < 0.9 else ""},
        "satisfaction": {"value": ratio(satisfied, rated), "sub": f"近{RATE_WINDOW_DAYS}日回访 {rated:,} 件",
                         "level": ""},
    }


def per_district(df: pd.DataFrame, column: str) -> dict[str, int]:
    return {} if df.empty else {str(k): int(v) for k, v in zip(df["district_code"], df[column]) if k}


def newest(data: WallData) -> tuple[float | None, float | None]:
    """Epoch seconds of the newest event and the newest insert seen today (None when nothing yet)."""
    if data.today.empty:
        return None, None
    return (pd.Timestamp(data.today["newest_event"].max()).timestamp(),
            pd.Timestamp(data.today["newest_ingest"].max()).timestamp())


def ranking(values: dict[str, int], top: int = 11) -> list[tuple[str, int, float]]:
    """(label, value, share of the largest) sorted high to low, ``top`` at most."""
    rows = sorted(values.items(), key=lambda r: (-r[1], r[0]))[:top]
    peak = max((v for _, v in rows), default=0) or 1
    return [(label, v, v / peak) for label, v in rows]


def named(values: dict[str, int], names: dict[str, str]) -> dict[str, int]:
    """Re-key district values by Chinese name, dropping codes outside the city."""
    return {names[code]: v for code, v in values.items() if code in names}


def category_counts(data: WallData) -> dict[str, int]:
    df = data.categories
    return {} if df.empty else {str(c) or "未分类": int(v) for c, v in zip(df["category"], df["received"])}


def font_px(viewport_width: int | None) -> int:
    """Chart font size matching the CSS unit, clamp(11px, 0.8vw, 36px), so charts scale like the page."""
    return max(11, min(36, round(0.008 * (viewport_width or 1920))))


def trend_figure(data: WallData, tz: str, font_size: int = 15) -> go.Figure:
    """Orders received per hour: the last 24 hours against the same hours a day earlier."""
    zone = ZoneInfo(tz)
    end = pd.Timestamp(data.now, unit="s", tz="UTC").floor("h")
    hours = pd.date_range(end=end, periods=24, freq="h")
    counts = {} if data.hourly.empty else {
        pd.Timestamp(h).tz_localize("UTC") if pd.Timestamp(h).tzinfo is None else pd.Timestamp(h): int(v)
        for h, v in zip(data.hourly["hour"], data.hourly["received"])}
    today = [counts.get(h, 0) for h in hours]
    before = [counts.get(h - pd.Timedelta(hours=24), 0) for h in hours]
    labels = [h.tz_convert(zone).strftime("%H时") for h in hours]
    fig = go.Figure([
        go.Scatter(x=labels, y=before, name="前一日", mode="lines", line={"color": "#8aa4c4", "width": 2, "dash": "dot"}),
        go.Scatter(x=labels, y=today, name="近24小时", mode="lines+markers", fill="tozeroy",
                   line={"color": "#39c5ff", "width": 3}, fillcolor="rgba(57,197,255,0.15)"),
    ])
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": font_size, "color": "#c9d8ee"},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
                      xaxis={"showgrid": False, "tickangle": 0, "nticks": 12, "automargin": True},
                      yaxis={"gridcolor": "#17365c", "rangemode": "tozero", "automargin": True}, uirevision="trend")
    return fig


def ticker(data: WallData, names: dict[str, str], tz: str) -> list[dict]:
    """Newest orders as plain fields (rendered as text): time, district, category, content, urgent."""
    zone = ZoneInfo(tz)
    rows = []
    for r in data.latest.itertuples(index=False):
        ts = pd.Timestamp(r.ts)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        rows.append({"time": ts.tz_convert(zone).strftime("%H:%M:%S"),
                     "district": names.get(r.district_code, "未定位"), "category": r.category,
                     "text": r.content or r.subcategory, "urgent": r.urgency == "urgent"})
    return rows
