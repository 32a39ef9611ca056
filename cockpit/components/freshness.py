"""Data freshness: how old the newest event and the newest insert are, as ok / warn / alarm."""
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


def freshness(newest_event: float | None, newest_ingest: float | None, now: float,
              warn_after: float, alarm_after: float) -> tuple[str, str]:
    """(level, text) from epoch seconds; the older of the two ages decides the level."""
    if newest_event is None or newest_ingest is None:
        return "alarm", "数据中断 · 暂无数据"
    age = max(now - newest_event, now - newest_ingest)
    level = "ok" if age < warn_after else "warn" if age < alarm_after else "alarm"
    return level, f"{LEVEL_TEXT[level]} · 最新事件 {format_age(now - newest_event)}前"


def freshness_badge(badge_id: str) -> html.Div:
    return html.Div("连接中…", id=badge_id, className="badge badge-warn")
