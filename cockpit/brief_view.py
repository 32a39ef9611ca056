"""The leader's brief (/brief), pure: the URL's period (``?day=YYYY-MM-DD`` or ``?week=YYYY-Www``), and the
warehouse's numbers (warehouse.brief_queries.BriefData) turned into a ``Brief`` of plain values — the one thing
the page and the exported file both render, so they cannot disagree."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from cockpit import brief_text
from cockpit.format import BRIEF, change, format_count, format_percent
from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    LEVEL_GRADE_ZH,
    LEVEL_NAME_ZH,
    LEVEL_ZH,
)
from domain.times import local, local_time
from warehouse.brief_queries import BriefData, Numbers

DAY_PATTERN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
WEEKDAYS = "一二三四五六日"
TOP = 5  # entries in the category and hotspot lists
GRADE_COLOURS = {"I": "red", "II": "orange", "III": "yellow", "IV": "blue"}  # as the wall and the map
GRADES = (  # grade, label, name, severity colour
    *((g, LEVEL_GRADE_ZH[g], LEVEL_NAME_ZH[g], colour) for g, colour in GRADE_COLOURS.items()),
    ("", "未定级", "尚未定级", "grey"))


# --- the period --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A local calendar day or ISO week (Monday to Sunday)."""

    kind: str  # "day" | "week"
    first: dt.date

    @property
    def days(self) -> int:
        return 7 if self.kind == "week" else 1

    @property
    def last(self) -> dt.date:
        return self.first + dt.timedelta(days=self.days - 1)

    @property
    def key(self) -> str:
        """The URL value: 2026-03-10 or 2026-W11."""
        if self.kind == "day":
            return self.first.isoformat()
        year, week, _ = self.first.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def query(self) -> str:
        return f"?{self.kind}={self.key}"

    @property
    def label(self) -> str:
        """2026年3月10日（星期二） or 2026年第11周（3月9日—3月15日）."""
        if self.kind == "day":
            return f"{_date(self.first)}（星期{WEEKDAYS[self.first.weekday()]}）"
        year, week, _ = self.first.isocalendar()
        whole = self.first.year != year or self.last.year != year  # a week across New Year names its years
        return f"{year}年第{week}周（{_date(self.first, whole)}—{_date(self.last, whole)}）"

    def bounds(self, tz: str) -> tuple[int, int]:
        """[start, end) as epoch seconds of local midnights."""
        zone = ZoneInfo(tz)
        start = dt.datetime.combine(self.first, dt.time(), zone)
        return int(start.timestamp()), int(dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(),
                                                               zone).timestamp())

    def step(self, count: int) -> Period:
        """The period ``count`` periods later (earlier when negative)."""
        return Period(self.kind, self.first + dt.timedelta(days=count * self.days))


def _date(day: dt.date, with_year: bool = True) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"


def local_today(now: float, tz: str) -> dt.date:
    return local(now, tz).date()


def _shown(value: str) -> str:
    """User input quoted in a message: at most 20 characters (it is rendered as text, never markup)."""
    return value if len(value) <= 20 else value[:20] + "…"


def parse_period(day=None, week=None, *, now: float, tz: str) -> tuple[Period, str | None]:
    """The period named by the URL's ``day`` or ``week``, or today with a message saying what was wrong."""
    today = Period("day", local_today(now, tz))
    day, week = day or None, week or None  # an empty value is no value
    if day is not None and week is not None:
        return today, "请只选择一种统计周期（按日或按周），已显示今日。"
    value = day if day is not None else week
    if value is None:
        return today, None
    if not isinstance(value, str):
        return today, "统计周期参数重复，已显示今日。"
    if day is not None:
        period, error = _parse_day(value)
    else:
        period, error = _parse_week(value)
    if error:
        return today, error
    if period.first > today.first:
        return today, f"“{_shown(value)}”尚未到来，已显示今日。"
    return period, None


def _parse_day(value: str) -> tuple[Period | None, str | None]:
    match = DAY_PATTERN.match(value)
    if not match:
        return None, f"日期“{_shown(value)}”格式不正确，应为 YYYY-MM-DD（例如 2026-03-10），已显示今日。"
    try:
        return Period("day", dt.date(*map(int, match.groups()))), None
    except ValueError:
        return None, f"日期“{_shown(value)}”不存在，已显示今日。"


def _parse_week(value: str) -> tuple[Period | None, str | None]:
    match = WEEK_PATTERN.match(value)
    if not match:
        return None, f"周“{_shown(value)}”格式不正确，应为 YYYY-Www（例如 2026-W11），已显示今日。"
    try:
        return Period("week", dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)), None
    except ValueError:
        return None, f"周“{_shown(value)}”不存在，已显示今日。"


def stored_period(stored, now: float, tz: str) -> Period:
    """The period kept in the page's store; anything else (the store is client data) gives today."""
    stored = stored if isinstance(stored, dict) else {}
    kind = stored.get("kind")
    return parse_period(**({kind: stored.get("key")} if kind in ("day", "week") else {}), now=now, tz=tz)[0]


def picker_query(kind: str, date: str | None, now: float, tz: str) -> str:
    """The URL query for the picker's kind and chosen date (the week containing it for "week")."""
    try:
        chosen = dt.date.fromisoformat(str(date)[:10])
    except ValueError:
        chosen = local_today(now, tz)
    first = chosen - dt.timedelta(days=chosen.weekday()) if kind == "week" else chosen
    return Period("week" if kind == "week" else "day", first).query


def neighbours(period: Period, now: float, tz: str) -> tuple[str, str | None]:
    """Queries of the previous and the next period (None when the next has not begun)."""
    following = period.step(1)
    return period.step(-1).query, following.query if following.first <= local_today(now, tz) else None


def comparison_labels(period: Period, running: bool) -> tuple[str, str | None]:
    """Names of (the previous period, the same period last week — None for a week)."""
    if period.kind == "week":
        return ("上周同期" if running else "上周"), None
    return ("昨日同时段", "上周同日同时段") if running else ("前一日", "上周同日")


# --- KPIs and their changes --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    unit: str
    better: str | None  # "up", "down", or None when neither direction is better
    rate: bool
    help: str


KPIS = (
    Kpi("received", "受理工单", "件", None, False, "统计期内受理的 12345 热线工单"),
    Kpi("completed", "办结工单", "件", "up", False, "统计期内办结的工单"),
    Kpi("on_time", "按时办结率", "%", "up", True,
        "本项目定义（国家未发布统一公式）：时限在统计期内到期的工单中，于时限前办结的比例"),
    Kpi("satisfaction", "满意率", "%", "up", True, "本项目定义：（满意 + 基本满意）÷ 统计期内有满意度答复的回访工单"),
    Kpi("overdue", "超期在办", "件", "down", False, "统计期末已超过办理时限仍未办结的工单"),
    Kpi("incidents", "突发事件", "起", "down", False, "统计期内新发的突发事件（分级以统计期末为准）"),
)


def kpi_value(numbers: Numbers, kpi_id: str) -> int | float | None:
    return {"received": numbers.received, "completed": numbers.completed, "on_time": numbers.on_time_rate,
            "satisfaction": numbers.satisfaction_rate, "overdue": numbers.overdue_open,
            "incidents": numbers.incidents_total}[kpi_id]


@dataclass(frozen=True)
class Delta:
    against: str  # 较前一日
    arrow: str  # ↑ ↓ → or "" when there is nothing to compare
    text: str
    tone: str  # better · worse · same · neutral (neither direction is better) · none


def delta(current, previous, *, kpi: Kpi, against: str) -> Delta:
    """The change from ``previous`` to ``current``: counts in per cent (absolute when the base is 0), rates in
    percentage points; the tone says whether that is better or worse for this KPI."""
    if kpi.rate:
        in_percent = [None if v is None else v * 100 for v in (current, previous)]
        c = change(*in_percent, points=True, signs=BRIEF)
    else:
        c = change(current, previous, flat_within=0, signs=BRIEF, unit=kpi.unit)
    if c.trend in ("", "flat"):
        tone = "none" if not c.trend else "same"
    elif kpi.better is None:
        tone = "neutral"
    else:
        tone = "better" if (c.trend == "up") == (kpi.better == "up") else "worse"
    return Delta(against, c.arrow, c.amount, tone)


def format_value(value, rate: bool) -> str:
    """A KPI's big number: a count with thousands separators, a rate in per cent without the sign."""
    return format_percent(value) if rate else format_count(value)


def _context(kpi_id: str, n: Numbers) -> str:
    return {"on_time": f"到期 {n.due:,} 件，按时办结 {n.due_on_time:,} 件",
            "satisfaction": f"回访 {n.rated:,} 件，满意及基本满意 {n.satisfied:,} 件",
            "incidents": f"其中重大及以上（Ⅰ、Ⅱ级）{n.major:,} 起",
            "overdue": "统计期末仍未办结"}.get(kpi_id, "")


def kpi_cards(current: Numbers, previous: Numbers, last_week: Numbers | None,
              labels: tuple[str, str | None]) -> list[dict]:
    """One card per KPI: label, unit, value text, context line, help, and its changes."""
    cards = []
    for k in KPIS:
        value = kpi_value(current, k.id)
        deltas = [delta(value, kpi_value(previous, k.id), kpi=k, against=f"较{labels[0]}")]
        if last_week is not None and labels[1]:
            deltas.append(delta(value, kpi_value(last_week, k.id), kpi=k, against=f"较{labels[1]}"))
        cards.append({"id": k.id, "label": k.label, "unit": k.unit, "value": format_value(value, k.rate),
                      "sub": _context(k.id, current), "help": k.help, "deltas": deltas})
    return cards


# --- lists -------------------------------------------------------------------------------------------------------

def ranked(values: dict[str, int], top: int = TOP) -> list[dict]:
    """Largest first: name, value, bar (share of the largest), share (of the total)."""
    total = sum(values.values())
    rows = sorted(values.items(), key=lambda r: (-r[1], r[0]))[:top]
    peak = max((v for _, v in rows), default=0)
    return [{"name": name, "value": v, "bar": v / peak if peak else 0.0, "share": v / total if total else 0.0}
            for name, v in rows]


def category_values(categories: pd.DataFrame) -> dict[str, int]:
    if categories.empty:
        return {}
    return {str(c) or "未分类": int(v) for c, v in zip(categories["category"], categories["received"])}


def district_values(activity: pd.DataFrame, names: dict[str, str]) -> dict[str, int]:
    """Orders received per district name; codes outside the city (or none) are left out."""
    if activity.empty:
        return {}
    return {names[c]: int(v) for c, v in zip(activity["district_code"], activity["received"]) if c in names}


def hotspot_cells(cells: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    """The busiest H3 cells: district, main category, orders received and the cell's id (hex)."""
    return [{"district": names.get(r.district_code, "未定位"), "category": str(r.category) or "未分类",
             "value": int(r.received), "cell": f"{int(r.cell):x}"} for r in cells.itertuples()]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def district_ranking(states: pd.DataFrame, activity: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    """红黑榜: every district of the city, ranked by on-time rate, then satisfaction, then orders due; those with
    nothing due come last, unranked. The top and bottom three (half each when fewer than six are ranked) are
    tagged 红榜 and 黑榜."""
    got = {} if states.empty else {str(r.district_code): r for r in states.itertuples()}
    received = district_values(activity, names)
    rows = []
    for code, name in names.items():
        r = got.get(code)
        due, on_time, rated, satisfied = ((int(r.due), int(r.due_on_time), int(r.rated), int(r.satisfied))
                                          if r is not None else (0, 0, 0, 0))
        rows.append({"code": code, "name": name, "received": received.get(name, 0), "due": due,
                     "on_time": _ratio(on_time, due), "rated": rated, "satisfaction": _ratio(satisfied, rated)})
    scored = sorted((r for r in rows if r["on_time"] is not None), key=lambda r: (
        -r["on_time"], -(r["satisfaction"] if r["satisfaction"] is not None else -1), -r["due"], r["code"]))
    rest = [r for r in rows if r["on_time"] is None]
    tagged = min(3, len(scored) // 2)
    for i, r in enumerate(scored):
        r["rank"] = i + 1
        r["tag"] = "红榜" if i < tagged else "黑榜" if i >= len(scored) - tagged else ""
    for r in rest:
        r["rank"], r["tag"] = None, ""
    return scored + rest


def level_rows(current: Numbers, previous: Numbers) -> list[dict]:
    """Incidents per grade, this period and the previous; 未定级 only when there are any."""
    return [{"grade": g, "label": label, "name": name, "colour": colour, "count": current.incidents.get(g, 0),
             "previous": previous.incidents.get(g, 0)}
            for g, label, name, colour in GRADES
            if g or current.incidents.get(g, 0) or previous.incidents.get(g, 0)]


def major_rows(major: pd.DataFrame, names: dict[str, str], tz: str) -> list[dict]:
    """Major incidents as plain fields (the description is the reporter's text, rendered as text)."""
    rows = []
    for r in major.itertuples():
        casualties = None if pd.isna(r.casualties) else int(r.casualties)
        rows.append({"time": local_time(int(r.reported_s), tz, "%m-%d %H:%M"), "district": names.get(r.district_code, "未定位"),
                     "type": EMERGENCY_TYPE_ZH.get(r.type, str(r.type)), "grade": LEVEL_ZH.get(r.grade, r.grade),
                     "colour": GRADE_COLOURS.get(r.grade, "orange"), "open": int(r.closed_s) == 0,
                     "status": EMERGENCY_STATUS_ZH.get(r.status, str(r.status)),
                     "casualties": "未报告" if casualties is None else f"{casualties} 人",
                     "description": str(r.description)})
    return rows


# --- the whole brief ---------------------------------------------------------------------------------------------

NOTES = (
    "按时办结率、满意率为本项目定义（国家未发布统一公式）：按时办结率 = 时限在统计期内到期的工单中于时限前办结的比例；"
    "满意率 =（满意 + 基本满意）÷ 有满意度答复的回访工单。",
    "超期在办：统计期末已过办理时限仍未办结的工单（按统计期前 30 日起有记录的工单统计）。",
    "突发事件按首次报告时间计入统计期，分级以统计期末为准；重大及以上指Ⅰ级（特别重大）、Ⅱ级（重大）。",
    "红黑榜：各区按按时办结率排序，相同时比较满意率；无到期工单的区不参与排名。",
)


@dataclass(frozen=True)
class Brief:
    title: str
    period: str  # the period as a heading
    as_of: str
    compared: str
    kpis: list[dict]
    summary: list[str]
    categories: list[dict]
    districts: list[dict]
    cells: list[dict]
    ranking: list[dict]
    levels: list[dict]
    major: list[dict]
    notes: list[str]


def summary_label(period: Period, as_of: dt.datetime, running: bool) -> str:
    """How the summary names its period: 今日截至 14:30, 本周截至 3月12日 14:30, or the period's label."""
    if not running:
        return period.label
    return f"今日截至 {as_of:%H:%M}" if period.kind == "day" else f"本周截至 {as_of.month}月{as_of.day}日 {as_of:%H:%M}"


def build(data: BriefData, period: Period, names: dict[str, str], city: str, tz: str) -> Brief:
    """Everything the page and the export show, from the warehouse's numbers."""
    running = data.current.window.end < period.bounds(tz)[1]
    labels = comparison_labels(period, running)
    as_of = local(data.current.window.end, tz)
    compared = f"对比：{labels[0]}" + (f"、{labels[1]}" if labels[1] else "")
    if period.kind == "week":
        compared += "（按周统计时上期即上周，不再单列上周同期）"
    notes = (["统计周期尚未结束：对比期取相同时长。"] if running else []) + list(NOTES)
    categories = ranked(category_values(data.categories))
    districts = ranked(district_values(data.activity, names))
    ranking = district_ranking(data.states, data.activity, names)
    major = major_rows(data.major, names, tz)
    return Brief(
        title=f"{city}城市运行简报", period=period.label,
        as_of=f"数据截至 {as_of:%Y-%m-%d %H:%M}" if running else "统计周期已结束",
        compared=compared,
        kpis=kpi_cards(data.current, data.previous, data.last_week, labels),
        summary=brief_text.summary(summary_label(period, as_of, running), data.current, data.previous, labels[0],
                                   categories, districts, ranking, major),
        categories=categories, districts=districts, cells=hotspot_cells(data.cells, names), ranking=ranking,
        levels=level_rows(data.current, data.previous), major=major, notes=notes,
    )
