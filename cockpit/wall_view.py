"""The wall's data: one batch of queries (``load``) and pure functions from its frames to what is drawn."""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from alerts import store
from alerts.lifecycle import SEVERITIES, SEVERITY_ZH
from cockpit import job_view
from cockpit.duty_view import subject_label
from cockpit.format import change
from cockpit.recent import Recent
from domain.aqi import hourly_aqi
from domain.contract import LEVEL_GRADE_ZH
from domain.stations import Station
from domain.times import aware, epoch, local, local_time
from layers.stations import station_features
from warehouse import Warehouse
from warehouse import map_queries as mq
from warehouse import queries as q

ORDER_WINDOW_DAYS = 30  # orders with any event in this window count as "open" candidates
RATE_WINDOW_DAYS = 7
INCIDENT_WINDOW_DAYS = 7  # incidents with events in this window and not closed are "open"
STATION_WINDOW_S = 86400  # newest station readings are looked for in the last day
AIR_FRESH_S = 2 * 3600  # air readings older than this are left out of the city's AQI
WARNING_RANK = 3  # stations at orange or red (超警戒, 超保证, 积水超警, 低压, 强降水, AQI > 150 …)
POLLUTANTS = ("pm25", "pm10", "o3", "no2", "so2", "co")
INGEST_WINDOW_S = 300  # ingest_stats windows looked at for the consumer lag
LATEST_WINDOW_S = 3 * 3600  # the ticker's newest orders are looked for in the last hours, not the whole day


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
    incidents: pd.DataFrame  # incident_levels
    water: pd.DataFrame  # water_latest
    ecology: pd.DataFrame  # ecology_latest
    alerts: pd.DataFrame  # active alerts (alerts.store.current)
    ingest: pd.DataFrame  # ingest_partitions over the last INGEST_WINDOW_S
    jobs: pd.DataFrame  # job_status over job_view.LOOKBACK


def local_midnight(now: float, tz: str) -> float:
    return local(now, tz).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


SLOW = Recent()  # 30-day order states and the stations' newest readings, recomputed in the background


def load(wh: Warehouse, now: float, tz: str, slow_ttl: float = 60.0) -> WallData:
    """The wall's data as of ``now``; the order states and station readings as of their last computation, at
    most ``slow_ttl`` seconds old (after the first call, a refresh never waits for them)."""
    n, day = int(now), int(local_midnight(now, tz))
    states, water, ecology = SLOW.get(wh.url, lambda: _slow(wh, time.time()), slow_ttl)
    return WallData(
        now=now, day_start=day,
        today=q.run(wh, q.district_activity(day, n)),
        yesterday=q.run(wh, q.district_activity(day - 86400, n - 86400)),
        states=states,
        hourly=q.run(wh, q.hourly_received(n - 48 * 3600, n)),
        categories=q.run(wh, q.category_received(day, n)),
        latest=q.run(wh, q.latest_orders(n - LATEST_WINDOW_S, n, limit=14)),
        incidents=q.run(wh, q.incident_levels(n - INCIDENT_WINDOW_DAYS * 86400, n)),
        water=water,
        ecology=ecology,
        alerts=store.current(wh, active_only=True),
        ingest=q.run(wh, q.ingest_partitions(n - INGEST_WINDOW_S)),
        jobs=job_view.load(wh, now),
    )


def _slow(wh: Warehouse, now: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = int(now)
    return (q.run(wh, q.order_states(n - ORDER_WINDOW_DAYS * 86400, n - RATE_WINDOW_DAYS * 86400, n)),
            q.run(wh, mq.water_latest(n - STATION_WINDOW_S, n)), q.run(wh, mq.ecology_latest(n - STATION_WINDOW_S, n)))


def _sum(df: pd.DataFrame, column: str) -> int:
    return int(df[column].sum()) if not df.empty else 0


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def kpis(data: WallData, judged_stations: list[dict]) -> dict[str, dict]:
    """Tile id → {"value": number or None, "sub": text, "level": "" | "warn" | "alarm", "colour": "" or a CSS
    colour for the number}; ``judged_stations``: the features of :func:`station_layer_data`."""
    s = data.states
    received, received_before = _sum(data.today, "received"), _sum(data.yesterday, "received")
    overdue = _sum(s, "overdue_open")
    due, on_time = _sum(s, "due"), _sum(s, "due_on_time")
    rated, satisfied = _sum(s, "rated"), _sum(s, "satisfied")
    on_time_rate = ratio(on_time, due)
    return {
        "received": _tile(received, f"较昨日同时段 {change(received, received_before, flat_within=0).text}"),
        "open": _tile(_sum(s, "open_orders"), f"其中超期 {overdue:,} 件", "warn" if overdue else ""),
        "on_time": _tile(on_time_rate, f"近{RATE_WINDOW_DAYS}日到期 {due:,} 件，按时 {on_time:,} 件",
                         "warn" if on_time_rate is not None and on_time_rate < 0.9 else ""),
        "satisfaction": _tile(ratio(satisfied, rated), f"近{RATE_WINDOW_DAYS}日回访 {rated:,} 件"),
        "incidents": incident_tile(data.incidents),
        "aqi": aqi_tile(data.ecology, data.now),
        "stations": station_tile(judged_stations),
        "alerts": alert_tile(data.alerts),
    }


def _tile(value, sub: str, level: str = "", colour: str = "") -> dict:
    return {"value": value, "sub": sub, "level": level, "colour": colour}


def incident_tile(levels: pd.DataFrame) -> dict:
    """Open incidents, by grade in the line under them; any grade I or II sounds the alarm."""
    counts = {} if levels.empty else dict(zip(levels["level"], levels["incidents"].astype(int)))
    by_grade = [f"{label} {counts[g]}" for g, label in LEVEL_GRADE_ZH.items() if counts.get(g)]
    major = counts.get("I", 0) + counts.get("II", 0)
    return _tile(sum(counts.values()), " · ".join(by_grade) or "无在办事件", "alarm" if major else "")


def city_aqi(ecology: pd.DataFrame, now: float):
    """The city's real-time AQI (domain.aqi.hourly_aqi) from the mean concentration of each pollutant over the
    air stations that reported in the last two hours (HJ 663's city value: the stations' arithmetic mean), or None."""
    if ecology.empty:
        return None
    fresh = ecology[(ecology["station_type"] == "air")
                    & (pd.to_datetime(ecology["reading_ts"], utc=True) >= pd.Timestamp(now - AIR_FRESH_S, unit="s", tz="UTC"))]
    means = {p: float(fresh[p].mean()) for p in POLLUTANTS if p in fresh and fresh[p].notna().any()}
    if not means:
        return None
    return hourly_aqi(means, dt.datetime.fromtimestamp(now, dt.timezone.utc))


def aqi_tile(ecology: pd.DataFrame, now: float) -> dict:
    result = city_aqi(ecology, now)
    if result is None or result.aqi is None:
        return _tile(None, "暂无两小时内的空气质量读数")
    primary = f" · 首要污染物 {'、'.join(_POLLUTANT_ZH[p] for p in result.primary)}" if result.primary else ""
    return _tile(result.aqi, f"{result.level_name}{primary}", "alarm" if result.level >= 4 else
                 "warn" if result.level == 3 else "", result.colour)


_POLLUTANT_ZH = {"pm25": "PM2.5", "pm10": "PM10", "o3": "O₃", "no2": "NO₂", "so2": "SO₂", "co": "CO"}


def station_layer_data(data: WallData, stations: list[Station], silent_intervals: int, tz: str) -> dict:
    """The stations judged by their newest readings: the map's layer, and what the station tile counts."""
    return station_features(stations, data.water, data.ecology, data.now, silent_intervals=silent_intervals,
                            timezone=tz)


def station_tile(features: list[dict]) -> dict:
    """Stations at orange or red now, with the two commonest statuses; offline stations counted apart."""
    warning = [re.sub(r"^AQI \d+ ", "", f["properties"]["status"]) for f in features  # "AQI 172 中度污染" → 中度污染
               if f["properties"]["rank"] >= WARNING_RANK and not f["properties"]["silent"]]
    silent = sum(f["properties"]["silent"] for f in features)
    common = pd.Series(warning, dtype=object).value_counts().head(2)
    sub = " · ".join(f"{status} {n}" for status, n in common.items()) or "全部正常"
    return _tile(len(warning), sub + (f" · 离线 {silent}" if silent else ""), "alarm" if warning else "")


def alert_tile(alerts: pd.DataFrame) -> dict:
    counts = {} if alerts.empty else alerts["severity"].value_counts().to_dict()
    parts = [f"{SEVERITY_ZH[s][:1]} {counts[s]}" for s in reversed(SEVERITIES) if counts.get(s)]
    level = "alarm" if counts.get("red") else "warn" if counts.get("orange") else ""
    return _tile(len(alerts), " · ".join(parts) or "无活动预警", level)


def alert_ticker(alerts: pd.DataFrame, names: dict[str, str], tz: str, limit: int = 12) -> list[dict]:
    """Active alerts as plain fields, most severe and then newest first: severity, time, rule, subject, district."""
    if alerts.empty:
        return []
    rows = sorted(alerts.to_dict("records"), key=lambda a: (-SEVERITIES.index(a["severity"]), -epoch(a["last_seen"])))
    return [{"severity": a["severity"], "severity_zh": SEVERITY_ZH[a["severity"]],
             "time": local_time(a["first_seen"], tz, "%H:%M"), "rule": a["rule_name"],
             "subject": subject_label(a), "district": names.get(a["district_code"], ""),
             "state": a["state"]} for a in rows[:limit]]


def per_district(df: pd.DataFrame, column: str) -> dict[str, int]:
    return {} if df.empty else {str(k): int(v) for k, v in zip(df["district_code"], df[column]) if k}


def newest(data: WallData) -> tuple[float | None, float | None]:
    """Epoch seconds of the newest event and the newest insert seen today (None when nothing yet)."""
    if data.today.empty:
        return None, None
    return (pd.Timestamp(data.today["newest_event"].max()).timestamp(),
            pd.Timestamp(data.today["newest_ingest"].max()).timestamp())


def ingest_lag(data: WallData) -> int | None:
    """Messages on the broker not yet ingested, summed over partitions (each partition's newest window); None
    when no ingest has reported lately (a warehouse filled another way)."""
    return None if data.ingest.empty else int(data.ingest["lag"].sum())


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
    end = pd.Timestamp(data.now, unit="s", tz="UTC").floor("h")
    hours = pd.date_range(end=end, periods=24, freq="h")
    counts = {} if data.hourly.empty else {
        aware(pd.Timestamp(h)): int(v)
        for h, v in zip(data.hourly["hour"], data.hourly["received"])}
    today = [counts.get(h, 0) for h in hours]
    before = [counts.get(h - pd.Timedelta(hours=24), 0) for h in hours]
    labels = [local_time(h, tz, "%H时") for h in hours]
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
    rows = []
    for r in data.latest.itertuples(index=False):
        rows.append({"time": local_time(r.ts, tz, "%H:%M:%S"),
                     "district": names.get(r.district_code, "未定位"), "category": r.category,
                     "text": r.content or r.subcategory, "urgent": r.urgency == "urgent"})
    return rows
