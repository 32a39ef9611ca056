"""Data freshness, and the badge every screen shows it with.

The server judges the data: how old the newest event and the newest insert are and how far ingest is behind the
broker, as ok / warn / alarm (:func:`freshness`). Each successful answer of a screen's main refresh puts that
judgement into the screen's store ``{screen}-fresh`` (:func:`answer`): ``{"level", "text", "age", "seq"}`` with
``age`` the seconds of the newest data when the server answered (or None) and ``seq`` a new number each answer.

The browser judges the connection: ``assets/watchdog.js`` reads the store every second and writes the badge
``{screen}-freshness``. It notes in browser time when ``seq`` last changed, so no clock of the server is compared
with the wall PC's; when no answer came for 1.6 of the badge's ``data-refresh-ms`` (a page on a timer), when a
request failed, or when the server reported a fault after the page was drawn (``cockpit.errors``), the badge turns red and the page is marked
stale. A page whose data is not on a timer (``data-refresh-ms`` 0: the analyst screens, a finished brief) is judged
only by its requests: its badge gives the time of its answer.
"""
from __future__ import annotations

import time

from dash import dcc, html

from domain.times import local_time

LEVEL_TEXT = {"ok": "数据正常", "warn": "数据延迟", "alarm": "数据中断"}
STORE_SUFFIX, BADGE_SUFFIX = "-fresh", "-freshness"


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


def answer_seq() -> int:
    """A number that grows with every answer (microseconds of the server's clock): the watchdog sees a new answer
    when it changes, and orders a fault (``cockpit.errors``) against the last good answer by it."""
    return time.time_ns() // 1000


def answer(level: str, text: str, age: float | None = None) -> dict:
    """What a screen's main refresh puts in its ``{screen}-fresh`` store on every successful answer; ``age`` is
    the newest event's age in seconds (the watchdog keeps it counting between answers) or None."""
    return {"level": level, "text": text, "age": None if age is None else round(float(age), 1), "seq": answer_seq()}


def as_of(now: float, tz: str) -> dict:
    """The answer of a screen that does not judge data age: the time it answered, in the city's time zone."""
    return answer("ok", f"数据时间 {local_time(now, tz, '%H:%M:%S')}")


def freshness_badge(screen: str, refresh_ms: int, tz: str) -> list:
    """The badge ``{screen}-freshness`` (written by ``assets/watchdog.js`` only) and the store ``{screen}-fresh``
    its screen's refresh fills. ``refresh_ms`` is the screen's refresh interval, 0 when its data is not on a
    timer; ``tz`` the city's time zone, for the time of the last update. ``data-layout-seq`` tells the watchdog
    which faults came after this page was drawn."""
    return [html.Div("连接中…", id=screen + BADGE_SUFFIX, className="badge badge-warn", role="status",
                     **{"data-refresh-ms": str(int(refresh_ms)), "data-tz": tz, "data-layout-seq": str(answer_seq())}),
            dcc.Store(id=screen + STORE_SUFFIX)]
