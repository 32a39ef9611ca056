"""The leader's brief (/brief): one period [start, end), the periods it is compared with, and ``load_brief``,
which runs every query of the screen.

Work-order KPIs reuse the wall's definitions (warehouse.queries): received and completed from
``district_activity``, categories from ``category_received``, and the rates, overdue and open orders from
``order_states``. The first two take an inclusive end, so they get ``end - 1`` (times are whole seconds) and
cover [start, end) exactly. ``order_states`` reads each order's state from its events up to ``end`` (the moment
the period closes) and counts the deadlines in [start, end). The builders here add what the wall does not
need: incidents by grade, major incidents and hotspot H3 cells. An incident is read from its events in the
``HISTORY`` before its period and in it, as orders are; ``uniqExact`` and ``argMax`` make a redelivered
event count once.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pandas as pd

from warehouse.backends import Warehouse
from warehouse.map_queries import h3_parent_masks
from warehouse.queries import (
    Query,
    category_received,
    district_activity,
    order_states,
    run,
)

DAY = 86400
HISTORY = 30 * DAY  # an order's or incident's state is read from its events of the 30 days before its period
MAJOR_GRADES = ("I", "II")  # 重大及以上 (major_incidents' SQL names the same two)
HOTSPOT_RESOLUTION = 8  # H3 cells of ~0.7 km²: a neighbourhood
HOTSPOT_CELLS = 5
MAJOR_LIMIT = 20


def _incidents(where: str = "") -> str:
    """One row per incident with events in [history, end): first report, close (0 if not closed), the grade and
    status at ``end``, district, type, casualties and the latest description (epoch seconds as UInt32)."""
    return f"""
    SELECT incident_id,
           toUInt32(min(ts)) AS reported_s,
           minIf(toUInt32(ts), status = 'closed') AS closed_s,
           argMaxIf(level, ts, level != '') AS grade,
           argMax(status, ts) AS last_status,
           argMax(district_code, ts) AS district,
           argMax(type, ts) AS incident_type,
           max(casualties) AS most_casualties,
           argMaxIf(description, ts, description != '') AS last_description
    FROM emergency_events
    WHERE ts >= toDateTime({{history:UInt32}}, 'UTC') AND ts < toDateTime({{end:UInt32}}, 'UTC'){where}
    GROUP BY incident_id"""


def reported_incidents_by_grade(start: int, end: int) -> Query:
    """Incidents first reported in [start, end), by their grade at ``end`` ('' = not graded).
    Columns: grade, incidents."""
    sql = f"""
SELECT grade, count() AS incidents
FROM ({_incidents()}
)
WHERE reported_s >= {{start:UInt32}}
GROUP BY grade
ORDER BY grade"""
    return sql, {"history": start - HISTORY, "start": start, "end": end}


def major_incidents(start: int, end: int, limit: int = MAJOR_LIMIT) -> Query:
    """Grade I and II incidents open at some time in [start, end): reported before ``end`` and not closed before
    ``start``; most severe, then newest first. Columns: incident_id, reported_s, closed_s (0: open at ``end``),
    grade, status, district_code, type, casualties (NULL: not reported), description."""
    sql = f"""
SELECT incident_id, reported_s, closed_s, grade, last_status AS status, district AS district_code,
       incident_type AS type, most_casualties AS casualties, last_description AS description
FROM ({_incidents()}
)
WHERE grade IN ('I', 'II') AND (closed_s = 0 OR closed_s >= {{start:UInt32}})
ORDER BY grade, reported_s DESC, incident_id
LIMIT {int(limit)}"""
    return sql, {"history": start - HISTORY, "start": start, "end": end}


def hotspot_cells(start: int, end: int, resolution: int = HOTSPOT_RESOLUTION, limit: int = HOTSPOT_CELLS) -> Query:
    """H3 cells at ``resolution`` with the most orders received in [start, end) (orders without a location left
    out), with the district and category of the cell's largest group of orders.
    Columns: cell, received, district_code, category."""
    keep, add = h3_parent_masks(resolution)
    sql = f"""
SELECT cell, sum(n) AS received, argMax(district_code, n) AS district_code, argMax(category, n) AS category
FROM (
    SELECT bitOr(bitAnd(h3, {{keep:UInt64}}), {{add:UInt64}}) AS cell, district_code, category,
           uniqExact(order_id) AS n
    FROM hotline_events
    WHERE status = 'received' AND h3 != 0
      AND ts >= toDateTime({{start:UInt32}}, 'UTC') AND ts < toDateTime({{end:UInt32}}, 'UTC')
    GROUP BY cell, district_code, category
)
GROUP BY cell
ORDER BY received DESC, cell
LIMIT {int(limit)}"""
    return sql, {"start": start, "end": end, "keep": keep, "add": add}


@dataclass(frozen=True)
class Window:
    """[start, end) in epoch seconds."""

    start: int
    end: int


def shift_days(epoch: int, days: int, tz: str) -> int:
    """The same local wall-clock time ``days`` later (earlier when negative), whatever the zone's DST."""
    zone = ZoneInfo(tz)
    local = dt.datetime.fromtimestamp(epoch, zone).replace(tzinfo=None) + dt.timedelta(days=days)
    return int(local.replace(tzinfo=zone).timestamp())


def local_days(start: int, end: int, tz: str) -> int:
    """Local calendar days from ``start`` to ``end`` (1 for a day, 7 for a week)."""
    zone = ZoneInfo(tz)
    return (dt.datetime.fromtimestamp(end, zone).date() - dt.datetime.fromtimestamp(start, zone).date()).days


def windows(start: int, end: int, tz: str, now: int) -> tuple[Window, Window, Window | None]:
    """(the period, the previous period, the same period a week earlier). A period still running is cut at
    ``now`` and so are the others (the same elapsed time). The third is None for a period of a week or more:
    its previous period is then last week."""
    days = max(1, local_days(start, end, tz))
    cut = max(start, min(end, now))
    current = Window(start, cut)
    previous = Window(shift_days(start, -days, tz), shift_days(cut, -days, tz))
    last_week = Window(shift_days(start, -7, tz), shift_days(cut, -7, tz)) if days < 7 else None
    return current, previous, last_week


@dataclass(frozen=True)
class Numbers:
    """A period's KPIs. ``incidents``: grade → incidents first reported in the period."""

    window: Window
    received: int = 0
    completed: int = 0
    overdue_open: int = 0
    due: int = 0
    due_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    incidents: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率 (DOMAIN.md): completed by the deadline / due in the period; None when none was due."""
        return self.due_on_time / self.due if self.due else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 (DOMAIN.md): (satisfied + basically satisfied) / visited with an answer; None without answers."""
        return self.satisfied / self.rated if self.rated else None

    @property
    def incidents_total(self) -> int:
        return sum(self.incidents.values())

    @property
    def major(self) -> int:
        return sum(self.incidents.get(g, 0) for g in MAJOR_GRADES)


def _total(df: pd.DataFrame, column: str) -> int:
    return int(df[column].sum()) if not df.empty else 0


def numbers(window: Window, activity: pd.DataFrame, states: pd.DataFrame, levels: pd.DataFrame) -> Numbers:
    """A period's KPIs from its frames of ``district_activity``, ``order_states`` and
    ``reported_incidents_by_grade``."""
    return Numbers(
        window=window,
        received=_total(activity, "received"), completed=_total(activity, "completed"),
        overdue_open=_total(states, "overdue_open"),
        due=_total(states, "due"), due_on_time=_total(states, "due_on_time"),
        rated=_total(states, "rated"), satisfied=_total(states, "satisfied"),
        incidents={} if levels.empty else {str(g): int(n) for g, n in zip(levels["grade"], levels["incidents"])},
    )


@dataclass(frozen=True)
class BriefData:
    """Everything /brief shows. Frames are those of the current period (columns as their builders say)."""

    now: int
    current: Numbers
    previous: Numbers
    last_week: Numbers | None  # None when the previous period is last week
    activity: pd.DataFrame  # queries.district_activity
    states: pd.DataFrame  # queries.order_states, per district
    categories: pd.DataFrame  # queries.category_received
    cells: pd.DataFrame  # hotspot_cells
    major: pd.DataFrame  # major_incidents


def _load_period(wh: Warehouse, w: Window) -> tuple[Numbers, pd.DataFrame, pd.DataFrame]:
    activity = run(wh, district_activity(w.start, w.end - 1))
    states = run(wh, order_states(w.start - HISTORY, w.start, w.end))
    grades = run(wh, reported_incidents_by_grade(w.start, w.end))
    return numbers(w, activity, states, grades), activity, states


def load_brief(wh: Warehouse, period_start: int, period_end: int, tz: str, now: float | None = None) -> BriefData:
    """Run the brief's queries for [period_start, period_end) (local midnights) and its comparison periods."""
    n = int(time.time() if now is None else now)
    current, previous, last_week = windows(int(period_start), int(period_end), tz, n)
    numbers_now, activity, states = _load_period(wh, current)
    return BriefData(
        now=n, current=numbers_now,
        previous=_load_period(wh, previous)[0],
        last_week=_load_period(wh, last_week)[0] if last_week else None,
        activity=activity, states=states,
        categories=run(wh, category_received(current.start, current.end - 1)),
        cells=run(wh, hotspot_cells(current.start, current.end)),
        major=run(wh, major_incidents(current.start, current.end)),
    )
