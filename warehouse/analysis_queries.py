"""Queries behind the analyst screens (``/analysis``, ``/district/<adcode>``): pure builders returning
``(sql, params)`` and a runner that splits their results into documented frames.

An *entity* is a work order (hotline) or an incident (emergency). It belongs to a period when its opening event
(受理 ``received`` / 接报 ``reported``) falls in [start, end). Its district, category and H3 cell are those of that
event; its status is its latest status as at the end of its period (its latest event before ``end``, or before
``start`` for the previous period), so a past period gives the same numbers tomorrow and the previous period is
judged at its own end. Entities are grouped by id (``argMax``), so a redelivered event never counts twice.

One scan serves a screen (chDB has a per-query floor; grouping ~10M events by id is the cost): :func:`overview`
groups the entities of the period, and of the previous period of equal length when comparing, into a small cube,
then emulates GROUPING SETS (which ClickHouse 18.16 lacks) with an ARRAY JOIN: one row per (period, dimension,
key) for the totals, the places (districts or H3 cells), the categories and the time slots.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from domain.contract import EMERGENCY_STATUS_ZH, HOTLINE_STATUS
from warehouse.backends import Warehouse
from warehouse.map_queries import h3_parent_masks
from warehouse.queries import Query, run

BEFORE_START = "ts < toDateTime({start:UInt32}, 'UTC')"
WINDOW = "ts >= toDateTime({since:UInt32}, 'UTC') AND ts < toDateTime({end:UInt32}, 'UTC')"
_COLUMN_SEP = ",\n           "


@dataclass(frozen=True)
class Source:
    """How one family of events becomes entities. ``major(cut)`` is the SQL of "the entity is major", over its
    events meeting the condition ``cut``; ``detail`` the columns an entity list adds (subkind, text)."""
    table: str
    key: str
    opening: str
    statuses: tuple[str, ...]
    done: tuple[str, ...]
    kind: str
    major: Callable[[str], str]
    detail: tuple[str, str]


SOURCES = {
    "hotline": Source(
        "hotline_events", "order_id", "received", HOTLINE_STATUS, ("completed", "visited"), "category",
        lambda cut: "max(urgency = 'urgent')",  # urgency does not change over an order's life
        ("anyIf(subcategory, status = {opening:String}) AS subkind",
         "anyIf(content, status = {opening:String}) AS text")),
    "emergency": Source(
        "emergency_events", "incident_id", "reported", tuple(EMERGENCY_STATUS_ZH), ("closed",), "type",
        lambda cut: f"has(['I', 'II'], argMaxIf(level, ts, level != '' AND {cut}))",  # the grade as at the cut
        ("argMaxIf(level, ts, level != '') AS subkind", "argMaxIf(description, ts, description != '') AS text")),
}
PLACES = ("district", "cell")
GRAINS = {"hour": 3600, "day": 86400}
LIST_LIMIT = 500


@dataclass(frozen=True)
class Filters:
    """What the screen is filtered to. ``statuses``: the status as at the period's end is one of them (empty:
    any); ``district``: an adcode (empty: the city); ``cell``: an H3 index (0: none)."""
    source: str = "hotline"
    category: str = ""
    statuses: tuple[str, ...] = ()
    district: str = ""
    cell: int = 0


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds; with ``compare`` also the previous period of equal length, [since, start)."""
    start: int
    end: int
    compare: bool = False

    @property
    def since(self) -> int:
        return self.start - (self.end - self.start) if self.compare else self.start


def source(name: str) -> Source:
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; one of {', '.join(SOURCES)}")
    return SOURCES[name]


def cell_masks(cell: int) -> tuple[int, int]:
    """The parent masks (map_queries.h3_parent_masks) of an H3 cell's own resolution (bits 52–55)."""
    return h3_parent_masks((cell >> 52) & 0xF)


def _entities(src: Source, f: Filters, *, cells: bool, before: bool, extra: tuple[str, ...] = ()) -> tuple[str, dict]:
    """One row per entity opened in [since, end): id, opened, district, kind, state_now and major_now (as at
    ``end``); with ``before`` also state_before and major_before (as at ``start``); with ``cells`` h3_cell and
    ox/oy (map minus WGS-84 coordinates of its opening event); then ``extra`` columns. District and category
    filters pick the opening events first (the key ``(district_code, ts)`` prunes a district's scan), so only
    the entities wanted are grouped."""
    unknown = set(f.statuses) - set(src.statuses)
    if unknown:
        raise ValueError(f"unknown statuses {sorted(unknown)} for {src.table}")
    opening = "status = {opening:String}"
    columns = [f"{src.key} AS id", f"minIf(ts, {opening}) AS opened", f"anyIf(district_code, {opening}) AS district",
               f"anyIf({src.kind}, {opening}) AS kind"]
    if cells:
        columns += [f"anyIf(h3, {opening}) AS h3_cell", f"anyIf(map_lon - lon, {opening}) AS ox",
                    f"anyIf(map_lat - lat, {opening}) AS oy"]
    if before:
        columns += [f"argMaxIf(status, ts, {BEFORE_START}) AS state_before",
                    f"{src.major(BEFORE_START)} AS major_before"]
    columns += ["argMax(status, ts) AS state_now", f"{src.major('1')} AS major_now", *extra]
    picks, params = [], {"opening": src.opening}
    if f.district:
        picks.append("district_code = {district:String}")
        params["district"] = f.district
    if f.category:
        picks.append(f"{src.kind} = {{category:String}}")
        params["category"] = f.category
    pick = f"""
      AND {src.key} IN (SELECT {src.key} FROM {src.table}
                        WHERE {opening} AND {WINDOW} AND {" AND ".join(picks)})""" if picks else ""
    sql = f"""
    SELECT {_COLUMN_SEP.join(columns)}
    FROM {src.table}
    WHERE {WINDOW}{pick}
    GROUP BY id
    HAVING countIf({opening}) > 0"""
    return sql, params


def _cell_match(f: Filters, params: dict) -> str:
    """SQL: the entity lies in the filter's cell (always true without one); binds the cell's masks."""
    if not f.cell:
        return "1"
    params["cell"] = f.cell
    params["cell_keep"], params["cell_add"] = cell_masks(f.cell)
    return "h3_cell != 0 AND bitOr(bitAnd(h3_cell, {cell_keep:UInt64}), {cell_add:UInt64}) = {cell:UInt64}"


def _status_match(f: Filters, state: str, params: dict) -> str:
    """SQL: a WHERE clause keeping the statuses filtered to (nothing without a status filter)."""
    if not f.statuses:
        return ""
    params["statuses"] = list(f.statuses)
    return f"\n    WHERE has({{statuses:Array(String)}}, {state})"


def overview(f: Filters, period: Period, by: str = "district", grain: str = "day", resolution: int = 8) -> Query:
    """Entities of ``period`` (and of the previous one with ``compare``) matching ``f``, counted per
    (previous, dim, key): dim ``total`` (key ''), ``place`` (the district's adcode, or with ``by="cell"`` the H3
    cell at ``resolution`` as a decimal string; '' / '0' for entities without one), ``kind`` (category or
    incident type) and ``slot`` (the ``grain`` steps since its period's start, as a string).
    With ``f.cell``, only the ``place`` rows cover every cell of the filter's district; the others count the cell.
    Columns: previous (0/1), dim, key, n, done, major, and with ``by="cell"`` dx, dy (the mean offset of map from
    WGS-84 coordinates, to draw the cell in the map's CRS)."""
    src = source(f.source)
    if by not in PLACES:
        raise ValueError(f"unknown place grouping {by!r}; one of {', '.join(PLACES)}")
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}; one of {', '.join(GRAINS)}")
    cells, before = by == "cell", period.compare
    inner, params = _entities(src, f, cells=cells or bool(f.cell), before=before)
    params.update(since=period.since, start=period.start, end=period.end, step=GRAINS[grain], done=list(src.done))
    place = "district"
    if cells:
        params["keep"], params["add"] = h3_parent_masks(resolution)
        place = "toString(if(h3_cell = 0, 0, bitOr(bitAnd(h3_cell, {keep:UInt64}), {add:UInt64})))"
    previous = "opened < toDateTime({start:UInt32}, 'UTC')" if before else "0"
    state, major = ("if(previous, state_before, state_now)", "if(previous, major_before, major_now)") if before \
        else ("state_now", "major_now")
    offsets = (", ox, oy", ",\n           sum(ox) AS sx, sum(oy) AS sy, count(ox) AS located",
               ",\n       sum(sx) / sum(located) AS dx, sum(sy) / sum(located) AS dy") if cells else ("", "", "")
    focus = _cell_match(f, params)
    where = _status_match(f, "state", params)
    sql = f"""
SELECT previous, dim, key, sum(n) AS n, sum(done) AS done, sum(major) AS major{offsets[2]}
FROM (
    SELECT previous, place, kind, slot, focus, count() AS n, countIf(done) AS done, countIf(major) AS major{offsets[1]}
    FROM (
        SELECT {previous} AS previous, {state} AS state, {major} AS major,
               has({{done:Array(String)}}, state) AS done, {place} AS place, kind,
               intDiv(toUInt32(opened) - if(previous, {{since:UInt32}}, {{start:UInt32}}), {{step:UInt32}}) AS slot,
               {focus} AS focus{offsets[0]}
        FROM ({inner}
        )
    ){where}
    GROUP BY previous, place, kind, slot, focus
)
ARRAY JOIN ['total', 'place', 'kind', 'slot'] AS dim, ['', place, kind, toString(slot)] AS key
WHERE focus OR dim = 'place'
GROUP BY previous, dim, key
ORDER BY previous, dim, key"""
    return sql, params


def entity_list(f: Filters, period: Period, limit: int = LIST_LIMIT) -> Query:
    """The entities of ``period`` (never the previous one) matching ``f``, newest first, at most ``limit``.
    Columns: id, opened_at (epoch s), district, kind, subkind (subcategory / grade), state, major, text (the citizen's
    words / the description)."""
    src = source(f.source)
    inner, params = _entities(src, f, cells=bool(f.cell), before=False, extra=src.detail)
    params.update(since=period.start, end=period.end, limit=int(limit))
    conditions = [_cell_match(f, params)]
    if f.statuses:
        params["statuses"] = list(f.statuses)
        conditions.append("has({statuses:Array(String)}, state_now)")
    sql = f"""
SELECT id, toUInt32(opened) AS opened_at, district, kind, subkind, state_now AS state, major_now AS major, text
FROM ({inner}
)
WHERE {" AND ".join(conditions)}
ORDER BY opened_at DESC, id
LIMIT {{limit:UInt32}}"""
    return sql, params


# --- the runner --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """:func:`overview`'s rows by dimension. Each frame has the columns previous (0 the period, 1 the previous
    one), key, n, open (= n − done), done, major; ``places`` also dx, dy (NaN for districts); ``slots`` has
    ``slot`` (int) for key; ``totals`` has no key."""
    totals: pd.DataFrame
    places: pd.DataFrame
    kinds: pd.DataFrame
    slots: pd.DataFrame


COUNTS = ["n", "open", "done", "major"]


def split(frame: pd.DataFrame) -> Overview:
    """Split an :func:`overview` result by dimension (empty frames keep their columns)."""
    frame = frame.astype({"previous": int, "n": int, "done": int, "major": int})
    frame["open"] = frame["n"] - frame["done"]
    for column in ("dx", "dy"):
        frame[column] = frame[column].astype(float) if column in frame else float("nan")

    def part(dim: str, columns: tuple[str, ...] = ()) -> pd.DataFrame:
        return frame.loc[frame["dim"] == dim, ["previous", "key", *COUNTS, *columns]].reset_index(drop=True)

    slots = part("slot").rename(columns={"key": "slot"})
    return Overview(totals=part("total").drop(columns="key"), places=part("place", ("dx", "dy")),
                    kinds=part("kind"), slots=slots.astype({"slot": int}))


def load_overview(wh: Warehouse, f: Filters, period: Period, by: str = "district", grain: str = "day",
                  resolution: int = 8) -> Overview:
    return split(run(wh, overview(f, period, by, grain, resolution)))


def load_entities(wh: Warehouse, f: Filters, period: Period, limit: int = LIST_LIMIT) -> pd.DataFrame:
    return run(wh, entity_list(f, period, limit))
