"""Data freshness: how old the newest event and the newest insert are, and how far ingest is behind the
broker, as ok / warn / alarm."""
from __future__ import annotations

from dash import html

LEVEL_TEXT = {"ok": "数据正常", "warn": "数据延迟", "alarm": "数据中断"}


def format_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{seconds // 60}分钟"
    if seconds < 86400:
        return f"{seconds // 3600}小时{seconds % 3600 // 60}分"
    return f"{seconds // 86400}天"


def freshness(newest_event: float | None, newest_ingest: float | None, now: float, warn_after: float,
              alarm_after: float, lag: int | None = None, lag_warn: int = 0, lag_alarm: int = 0) -> tuple[str, str]:
    """(level, text) from epoch seconds: the older of the two ages decides, and the consumer ``lag`` (messages
    not yet ingested, all partitions) when it passes ``lag_warn`` / ``lag_alarm`` raises the level."""
    if newest_event is None or newest_ingest is None:
        return "alarm", "数据中断 · 暂无数据"
    age = max(now - newest_event, now - newest_ingest)
    by_age = 0 if age < warn_after else 1 if age < alarm_after else 2
    by_lag = 0 if not lag or not lag_warn or lag < lag_warn else 1 if not lag_alarm or lag < lag_alarm else 2
    level = ("ok", "warn", "alarm")[max(by_age, by_lag)]
    text = f"{LEVEL_TEXT[level]} · 最新事件 {format_age(now - newest_event)}前"
    return level, text + (f" · 积压 {lag:,} 条" if by_lag else "")


def freshness_badge(badge_id: str) -> html.Div:
    return html.Div("连接中…", id=badge_id, className="badge badge-warn")
