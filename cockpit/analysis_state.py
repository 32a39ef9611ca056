"""The analyst screens' view state ⇄ URL query string, and the CSV export of the table shown. Pure.

``/analysis?from=2026-11-17&to=2026-11-24&source=hotline&category=城市管理&status=open&compare=1`` and
``/district/440106?…&res=8&cell=8841aa5c07fffff``:

- ``from``, ``to``: a local date (midnight) or date and time (``2026-11-23T08:00``) in the city's time zone; the
  period is [from, to), at most :data:`MAX_DAYS` long, cut at now, starting at most :data:`MAX_AGE_DAYS` days
  before today (the decoder stores nothing older). Default: the last 7 days, today included.
- ``source``: ``hotline`` (12345 work orders, the default) or ``emergency`` (incidents).
- ``category``: a hotline category or an incident type; ``status``: a status of the source, or ``open`` / ``done``.
- ``compare=1``: also the previous period of equal length.
- district page only: ``res`` (H3 resolution of the grid, 7–9) and ``cell`` (an H3 cell to drill into).

A bad parameter never raises: it is replaced by its default and named in a Chinese message for the page; a query
string over :data:`MAX_QUERY_CHARS` is not read at all.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping
from urllib.parse import parse_qs, quote, urlencode
from zoneinfo import ZoneInfo

import h3

from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    HOTLINE_CATEGORIES,
    HOTLINE_STATUS_ZH,
)
from domain.times import local
from warehouse.analysis_queries import SOURCES, Filters, Period

MAX_DAYS = 31
MAX_AGE_DAYS = 400  # ingest.decode's max_past_days: the warehouse holds nothing older
MAX_QUERY_CHARS = 2000
DEFAULT_DAYS = 7
HOURLY_UP_TO = 3 * 86400  # periods up to 3 days are drawn by the hour, longer ones by the day
RESOLUTIONS = (7, 8, 9)
DEFAULT_RESOLUTION = 8
SOURCE_ZH = {"hotline": "12345 热线工单", "emergency": "突发事件"}
CATEGORIES = {"hotline": {c: c for c in HOTLINE_CATEGORIES}, "emergency": dict(EMERGENCY_TYPE_ZH)}
STATUSES = {  # value → label; "open"/"done" stand for every status not done / done
    "hotline": {"open": "未办结（全部）", "done": "已办结（含回访）", **HOTLINE_STATUS_ZH},
    "emergency": {"open": "未结案（全部）", **EMERGENCY_STATUS_ZH},
}
CITY_KEYS = ("from", "to", "source", "category", "status", "compare")
DISTRICT_KEYS = (*CITY_KEYS, "res", "cell")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$")
_CELL = re.compile(r"^[0-9a-fA-F]{15}$")


@dataclass(frozen=True)
class ViewState:
    """What an analyst screen shows. ``start``/``end`` are aware local times; ``district`` is set on the district
    page only; ``cell`` is an H3 cell as its 15-hex-digit string."""
    start: dt.datetime
    end: dt.datetime
    source: str = "hotline"
    category: str = ""
    status: str = ""
    compare: bool = False
    district: str = ""
    resolution: int = DEFAULT_RESOLUTION
    cell: str = ""


def default_range(now: float, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The last :data:`DEFAULT_DAYS` local days, today included: [midnight 6 days ago, midnight tonight)."""
    today = local(now, tz).date()
    return _midnight(today - dt.timedelta(days=DEFAULT_DAYS - 1), tz), _midnight(today + dt.timedelta(days=1), tz)


def _midnight(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def _shown(value: str) -> str:
    """User input as quoted in a message: at most 24 characters."""
    return value if len(value) <= 24 else value[:24] + "…"


def parse_time(text: str, tz: str) -> dt.datetime | None:
    """``YYYY-MM-DD`` (midnight) or ``YYYY-MM-DDTHH:MM`` as an aware local time; None when it is neither."""
    if not _TIME.match(text):
        return None
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M" if "T" in text else "%Y-%m-%d")
    except ValueError:
        return None
    return moment.replace(tzinfo=ZoneInfo(tz))


def format_time(moment: dt.datetime) -> str:
    """The URL form of a local time: the date alone at midnight (four-digit years, which strftime's %Y is not)."""
    day = moment.date().isoformat()
    return day if moment.time() == dt.time(0) else f"{day}T{moment:%H:%M}"


def _single(query: Mapping[str, str | list[str]], errors: list[str], allowed: Iterable[str]) -> dict[str, str]:
    """The query's known parameters, each given once; the rest named in ``errors``."""
    allowed, out = set(allowed), {}
    for key, value in query.items():
        if key not in allowed:
            errors.append(f"未知参数「{_shown(str(key))}」，已忽略")
        elif isinstance(value, (list, tuple)) and len(value) != 1:
            errors.append(f"参数「{key}」出现了多次，已改用默认值")
        else:
            out[key] = str(value[0] if isinstance(value, (list, tuple)) else value).strip()
    return out


def _range(values: dict[str, str], now: float, tz: str, errors: list[str]) -> tuple[dt.datetime, dt.datetime]:
    """[from, to) of the query; a missing end is tonight's midnight, a missing start 7 days before the end."""
    default_start, default_end = default_range(now, tz)
    given = {}
    for key, label in (("from", "开始时间"), ("to", "结束时间")):
        text = values.get(key, "")
        if text and (given.setdefault(key, parse_time(text, tz))) is None:
            errors.append(f"{label}「{_shown(text)}」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），已改用默认时段")
            return default_start, default_end
    end = given.get("to") or default_end
    start = given.get("from") or (end - dt.timedelta(days=DEFAULT_DAYS) if "to" in given else default_start)
    if start >= end:
        errors.append(f"开始时间（{format_time(start)}）须早于结束时间（{format_time(end)}），已改用默认时段")
    elif end - start > dt.timedelta(days=MAX_DAYS):
        errors.append(f"时间范围最长 {MAX_DAYS} 天，所选为 {(end - start) / dt.timedelta(days=1):.0f} 天，已改用默认时段")
    elif start.timestamp() >= now:
        errors.append(f"开始时间（{format_time(start)}）晚于当前时间，已改用默认时段")
    elif start < (earliest := earliest_day(now, tz)):
        errors.append(f"开始时间（{format_time(start)}）早于可查询的最早日期（{format_time(earliest)}，"
                      f"数据保留 {MAX_AGE_DAYS} 天），已改用默认时段")
    else:
        return start, end
    return default_start, default_end


def earliest_day(now: float, tz: str) -> dt.datetime:
    """The first local midnight a period may start at: :data:`MAX_AGE_DAYS` days before today."""
    today = local(now, tz).date()
    return _midnight(today - dt.timedelta(days=MAX_AGE_DAYS), tz)


def _choice(values: dict[str, str], key: str, options: Mapping[str, str], label: str, errors: list[str]) -> str:
    value = values.get(key, "")
    if value and value not in options:
        errors.append(f"{label}「{_shown(value)}」无效（可选：{'、'.join(options.values())}），已忽略")
        return ""
    return value


def parse(query: Mapping[str, str | list[str]], *, now: float, tz: str, districts: Mapping[str, str],
          district: str | None = None) -> tuple[ViewState, list[str]]:
    """The state named by a URL query (values as Dash passes them: a string, or a list when repeated) and the
    messages for what was not valid. ``district`` is the district page's adcode (None on the city page); one not
    in ``districts`` (adcode → name) leaves the state's ``district`` empty."""
    errors: list[str] = []
    values = _single(query, errors, CITY_KEYS if district is None else DISTRICT_KEYS)
    start, end = _range(values, now, tz, errors)
    source = values.get("source") or "hotline"
    if source not in SOURCE_ZH:
        errors.append(f"数据来源「{_shown(source)}」无效（可选：{'、'.join(SOURCE_ZH.values())}），已改用 12345 热线工单")
        source = "hotline"
    state = ViewState(start, end, source,
                      category=_choice(values, "category", CATEGORIES[source], "类别", errors),
                      status=_choice(values, "status", STATUSES[source], "状态", errors),
                      compare=_flag(values.get("compare", ""), errors))
    if district is None:
        return state, errors
    if district not in districts:
        errors.insert(0, f"行政区划代码「{_shown(district)}」不是本市的区")
        district = ""
    return replace(state, district=district, resolution=_resolution(values.get("res", ""), errors),
                   cell=_cell(values.get("cell", ""), errors)), errors


def _flag(text: str, errors: list[str]) -> bool:
    if text not in ("", "0", "1"):
        errors.append(f"参数 compare 只能为 1 或 0，「{_shown(text)}」已忽略")
    return text == "1"


def _resolution(text: str, errors: list[str]) -> int:
    if text and text not in {str(r) for r in RESOLUTIONS}:
        errors.append(f"网格级别「{_shown(text)}」无效（可选：{'、'.join(map(str, RESOLUTIONS))}），"
                      f"已改用 {DEFAULT_RESOLUTION} 级")
        return DEFAULT_RESOLUTION
    return int(text or DEFAULT_RESOLUTION)


def valid_cell(text: str) -> bool:
    """``text`` is an H3 cell (15 hex digits) of a grid resolution."""
    return bool(_CELL.match(text)) and h3.is_valid_cell(text.lower()) and h3.get_resolution(text.lower()) in RESOLUTIONS


def _cell(text: str, errors: list[str]) -> str:
    """A valid cell, lower-case; else '' and a message."""
    if text and not valid_cell(text):
        errors.append(f"网格编号「{_shown(text)}」不是有效的 {RESOLUTIONS[0]}–{RESOLUTIONS[-1]} 级 H3 网格，已忽略")
        return ""
    return text.lower()


def parse_search(search: str | None, **kwargs) -> tuple[ViewState, list[str]]:
    """:func:`parse` of a location's ``search`` (``?a=1&b=2``), as dcc.Location holds it; the default state when
    it is longer than :data:`MAX_QUERY_CHARS`."""
    query = (search or "").lstrip("?")
    if len(query) > MAX_QUERY_CHARS:
        state, errors = parse({}, **kwargs)
        return state, [f"地址参数过长（{len(query):,} 个字符，最多 {MAX_QUERY_CHARS:,} 个），已改用默认视图", *errors]
    return parse(parse_qs(query, keep_blank_values=True), **kwargs)


def to_query(state: ViewState) -> str:
    """The URL query string (without ``?``) of a state; parsing it gives the state back."""
    pairs = [("from", format_time(state.start)), ("to", format_time(state.end)), ("source", state.source)]
    pairs += [(key, value) for key, value in (("category", state.category), ("status", state.status)) if value]
    if state.district and state.resolution != DEFAULT_RESOLUTION:
        pairs.append(("res", str(state.resolution)))
    if state.district and state.cell:
        pairs.append(("cell", state.cell))
    if state.compare:
        pairs.append(("compare", "1"))
    return urlencode(pairs, quote_via=quote, safe=":")


def href(state: ViewState) -> str:
    """The page of a state: the district page when it has a district, else the city page."""
    path = f"/district/{state.district}" if state.district else "/analysis"
    return f"{path}?{to_query(state)}"


def picker_days(state: ViewState) -> tuple[str, str]:
    """The date picker's first and last day of a state (the last one included)."""
    return state.start.date().isoformat(), (state.end - dt.timedelta(seconds=1)).date().isoformat()


def with_dates(state: ViewState, first: str | None, last: str | None, tz: str) -> ViewState:
    """The state with the date picker's days (``last`` included), from midnight to midnight; unchanged when the
    picker shows the state's own days (a period of hours keeps its hours) or days it cannot read."""
    start, end = (parse_time(day or "", tz) for day in (first, last))
    if start is None or end is None or (first, last) == picker_days(state):
        return state
    return replace(state, start=start, end=end + dt.timedelta(days=1))


def with_filters(state: ViewState, source: str | None, category: str | None, status: str | None, compare) -> ViewState:
    """The state with the filter bar's values; values not valid for the source are dropped (a changed source
    clears the category and status)."""
    source = source if source in SOURCE_ZH else state.source
    return replace(state, source=source,
                   category=category if category in CATEGORIES[source] else "",
                   status=status if status in STATUSES[source] else "", compare=bool(compare))


def filters(state: ViewState) -> Filters:
    """The warehouse filters of a state (``open`` and ``done`` as the statuses they stand for)."""
    src = SOURCES[state.source]
    statuses = {"": (), "open": tuple(s for s in src.statuses if s not in src.done), "done": src.done}
    return Filters(source=state.source, category=state.category,
                   statuses=statuses.get(state.status, (state.status,)), district=state.district,
                   cell=h3.str_to_int(state.cell) if state.cell else 0)


def period(state: ViewState, now: float) -> Period:
    """[start, end) in epoch seconds with the end cut at now (the previous period then has the same length)."""
    start = int(state.start.timestamp())
    return Period(start, max(start, min(int(state.end.timestamp()), int(now))), state.compare)


def grain(state: ViewState) -> str:
    """``hour`` for periods up to 3 days, else ``day``."""
    return "hour" if (state.end - state.start).total_seconds() <= HOURLY_UP_TO else "day"


# --- CSV ----------------------------------------------------------------------------------------------------------

# What a spreadsheet may take for the start of a formula (OWASP, CSV injection): = + - @ and their fullwidth forms
# (Excel and WPS read ＝1+1 as =1+1), behind any run of whitespace (spaces, tab, CR, LF, the ideographic space) or
# separators (; and , and their fullwidth forms) that the spreadsheet skips or splits the cell on.
FORMULA_START = frozenset("=+-@＝＋－＠")
SKIPPED_LEAD = frozenset(";,；，")
MAX_CSV_ROWS = 100_000


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run ``text``: it starts with a tab or CR, or with a formula sign once leading
    whitespace and separators are skipped."""
    if text[:1] in ("\t", "\r"):
        return True
    rest = text.lstrip()
    while rest[:1] in SKIPPED_LEAD:
        rest = rest[1:].lstrip()
    return rest[:1] in FORMULA_START


def csv_cell(value) -> str:
    """A table value as CSV text: empty for none, numbers as they are, text that a spreadsheet could take for a
    formula (:func:`formula_like`) prefixed with an apostrophe."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    text = str(value)
    return "'" + text if formula_like(text) else text


def to_csv(columns: list[dict], rows: list[dict]) -> bytes:
    """The table as shown — its columns in order, headed by their names, and its rows — as UTF-8 CSV with a byte
    order mark (so that Excel reads the Chinese), CRLF line ends. Malformed columns or rows (client data) are
    skipped, never raised on."""
    columns = [c for c in columns or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_cell(_name(c)) for c in columns)
    for row in [r for r in rows or [] if isinstance(r, dict)][:MAX_CSV_ROWS]:
        writer.writerow(csv_cell(row.get(c["id"])) for c in columns)
    return out.getvalue().encode("utf-8-sig")


def _name(column: dict) -> str:
    name = column.get("name", column["id"])
    return " ".join(map(str, name)) if isinstance(name, list) else str(name)


def csv_filename(state: ViewState, place: str) -> str:
    """E.g. ``12345热线工单_天河区_20261117-20261123.csv`` (the last day included)."""
    last = state.end - dt.timedelta(seconds=1)
    name = f"{SOURCE_ZH[state.source].replace(' ', '')}_{place}_{state.start:%Y%m%d}-{last:%Y%m%d}.csv"
    return re.sub(r'[\\/:*?"<>|]', "_", name)
