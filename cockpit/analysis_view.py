"""The analyst screens' numbers (``/analysis``, ``/district/<adcode>``): pure functions from the warehouse's frames
(warehouse/analysis_queries.py) to KPI cards, figures, table columns and rows, and the map's values. Their parts
are in components/analysis.py, the controls both pages wire in pages/analyst_controls.py. Text from events is
passed as text."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import h3
import pandas as pd
import plotly.graph_objects as go
from dash.dash_table.Format import Format, Scheme, Sign

from cockpit import analysis_state as st
from cockpit.format import change, format_count
from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    HOTLINE_STATUS_ZH,
    LEVEL_ZH,
)
from domain.times import local, local_time
from layers import districts as dmap
from warehouse.analysis_queries import GRAINS, Overview, Period

ACCENT, MUTED, GRID_LINE = "#39c5ff", "#8aa4c4", "#17365c"
UNLOCATED = "未定位"
TOP_KINDS = 10


@dataclass(frozen=True)
class Terms:
    """The words of a source."""
    unit: str
    n: str
    open: str
    done: str
    rate: str
    major: str
    entity: str
    opened: str


TERMS = {
    "hotline": Terms("件", "受理工单", "在办", "已办结", "办结率", "紧急工单", "工单", "受理"),
    "emergency": Terms("起", "接报事件", "处置中", "已结案", "结案率", "重大及以上", "事件", "接报"),
}
STATUS_ZH = {"hotline": HOTLINE_STATUS_ZH, "emergency": EMERGENCY_STATUS_ZH}


def plain(text) -> str:
    """Text for a plotly label: plotly reads a few HTML tags and entities in labels, so < > & become their
    full-width forms."""
    return str(text).replace("<", "＜").replace(">", "＞").replace("&", "＆")


def kind_label(source: str, kind: str) -> str:
    return (EMERGENCY_TYPE_ZH.get(kind, kind) if source == "emergency" else kind) or "未分类"


def district_names(adcode: str) -> dict[str, str]:
    """adcode → name of the city's districts, in the boundaries' order."""
    return {code: name for code, (_, _, name) in dmap.city_anchors(adcode).items()}


# --- numbers ------------------------------------------------------------------------------------------------------

def period_counts(o: Overview, previous: int) -> dict[str, int]:
    """n, open, done, major of one period (zeros when it had none)."""
    rows = o.totals[o.totals["previous"] == previous]
    return {c: int(rows[c].sum()) for c in ("n", "open", "done", "major")}


def rate(done: int, n: int) -> float | None:
    return done / n * 100 if n else None


def kpi_cards(o: Overview, source: str, compare: bool) -> list[dict]:
    """Per KPI: label, value (text), unit, sub (the comparison or a note), trend, help."""
    t = TERMS[source]
    now, before = period_counts(o, 0), period_counts(o, 1)
    rates = rate(now["done"], now["n"]), rate(before["done"], before["n"])
    cards = [("n", t.n, t.unit, f"统计期内{t.opened}的{t.entity}；同一{t.entity}的重复消息只计一次"),
             ("open", t.open, t.unit, f"期末（当前时段为此刻）尚未办结的{t.entity}"),
             ("done", t.done, t.unit, f"期末已办结的{t.entity}"),
             ("rate", t.rate, "%", f"本项目定义：统计期内{t.opened}的{t.entity}中，期末已办结的比例"),
             ("major", t.major, t.unit,
              "紧急程度为“紧急”的工单" if source == "hotline" else "期末定级为Ⅰ级（特别重大）或Ⅱ级（重大）的事件")]
    out = []
    for key, label, unit, help_text in cards:
        if key == "rate":
            value = "—" if rates[0] is None else f"{rates[0]:.1f}"
            shown_before = "—" if rates[1] is None else f"{rates[1]:.1f}%"
            text, trend = change(*rates, points=True)
        else:
            value, shown_before = format_count(now[key]), format_count(before[key])
            text, trend = change(now[key], before[key])
        sub = f"上期 {shown_before} · {text}" if compare else ""
        out.append({"key": key, "label": label, "value": value, "unit": unit, "sub": sub,
                    "trend": trend if compare else "", "help": help_text})
    return out


# --- charts -------------------------------------------------------------------------------------------------------

def slot_labels(period: Period, grain: str, tz: str) -> list[str]:
    """Labels of the period's slots in local time: '11-23' by the day (with the hour if the period does not start
    at midnight), '11-23 08时' by the hour."""
    step = GRAINS[grain]
    count = max(1, math.ceil((period.end - period.start) / step))
    starts = [local(period.start + i * step, tz) for i in range(count)]
    hourly = grain == "hour" or any(s.time() != dt.time(0) for s in starts)
    return [s.strftime("%m-%d %H时" if hourly else "%m-%d") for s in starts]


def _layout(fig: go.Figure, **extra) -> go.Figure:
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, font={"size": 14, "color": "#c9d8ee"},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.15}, **extra)
    return fig


def empty_figure(text: str = "暂无数据") -> go.Figure:
    fig = _layout(go.Figure(), xaxis={"visible": False}, yaxis={"visible": False})
    fig.add_annotation(text=text, showarrow=False, font={"size": 18, "color": MUTED}, x=0.5, y=0.5,
                       xref="paper", yref="paper")
    return fig


def series_figure(o: Overview, period: Period, grain: str, tz: str, source: str, compare: bool) -> go.Figure:
    """Entities opened per slot: bars for the period, a dotted line for the previous one at the same offsets."""
    if o.slots.empty:
        return empty_figure()
    labels = slot_labels(period, grain, tz)

    def values(previous: int) -> list[int]:
        rows = o.slots[o.slots["previous"] == previous]
        by_slot = dict(zip(rows["slot"].astype(int), rows["n"].astype(int)))
        return [by_slot.get(i, 0) for i in range(len(labels))]

    unit = TERMS[source].unit
    traces = [go.Bar(x=labels, y=values(0), name="本期", marker_color=ACCENT,
                     hovertemplate=f"%{{x}}<br>本期 %{{y:,}} {unit}<extra></extra>")]
    if compare:
        traces.append(go.Scatter(x=labels, y=values(1), name="上期（同位置）", mode="lines+markers",
                                 line={"color": MUTED, "width": 2, "dash": "dot"},
                                 hovertemplate=f"上期同位置 %{{y:,}} {unit}<extra></extra>"))
    return _layout(go.Figure(traces), bargap=0.25, hovermode="x unified",
                   xaxis={"showgrid": False, "type": "category", "nticks": 12, "automargin": True},
                   yaxis={"gridcolor": GRID_LINE, "rangemode": "tozero", "automargin": True})


def kinds_figure(o: Overview, source: str, compare: bool) -> go.Figure:
    """Entities by category (incident type), largest first, at most :data:`TOP_KINDS`."""
    now = o.kinds[o.kinds["previous"] == 0].sort_values(["n", "key"], ascending=[False, True]).head(TOP_KINDS)
    if now.empty:
        return empty_figure()
    keys = list(now["key"])[::-1]  # the largest at the top
    labels = [plain(kind_label(source, k)) for k in keys]
    unit = TERMS[source].unit
    before = o.kinds[o.kinds["previous"] == 1].set_index("key")["n"]
    traces = [go.Bar(y=labels, x=list(now["n"])[::-1], orientation="h", name="本期", marker_color=ACCENT,
                     hovertemplate=f"%{{y}}：%{{x:,}} {unit}<extra>本期</extra>")]
    if compare:
        traces.insert(0, go.Bar(y=labels, x=[int(before.get(k, 0)) for k in keys], orientation="h", name="上期",
                                marker_color="#3a5578", hovertemplate=f"%{{y}}：%{{x:,}} {unit}<extra>上期</extra>"))
    return _layout(go.Figure(traces), barmode="group", bargap=0.25,
                   xaxis={"gridcolor": GRID_LINE, "rangemode": "tozero"}, yaxis={"automargin": True})


# --- tables -------------------------------------------------------------------------------------------------------

def _count(column_id: str, name: str) -> dict:
    return {"id": column_id, "name": name, "type": "numeric", "format": Format().group(True)}


def _decimal(column_id: str, name: str, signed: bool = False) -> dict:
    fmt = Format(precision=1, scheme=Scheme.fixed, sign=Sign.positive if signed else Sign.default)
    return {"id": column_id, "name": name, "type": "numeric", "format": fmt}


def place_table(o: Overview, source: str, compare: bool, names: dict[str, str] | None = None) -> tuple[list, list]:
    """(columns, rows) of the places: the city's districts (``names``: every district, even without entities) or
    the cells of a district (``names`` None: only cells with entities), largest first. Rows carry ``place`` (the
    adcode or the H3 cell) for clicks; it is not a column."""
    t = TERMS[source]
    columns = [{"id": "name", "name": "区" if names is not None else "网格（H3）"}, _count("n", t.n),
               _count("open", t.open), _count("done", t.done), _decimal("rate", f"{t.rate}（%）"),
               _count("major", t.major)]
    if compare:
        columns += [_count("before", f"上期{t.n}"), _decimal("change", "环比（%）", signed=True)]
    now = o.places[o.places["previous"] == 0].set_index("key")
    before = o.places[o.places["previous"] == 1].set_index("key")["n"]
    keys = list(names) if names is not None else []
    keys += [k for k in list(now.index) + (list(before.index) if compare else []) if k not in keys]
    rows = []
    for key in dict.fromkeys(keys):
        counts = now.loc[key] if key in now.index else None
        n, previous = int(counts["n"]) if counts is not None else 0, int(before.get(key, 0))
        row = {"place": key, "name": _place_name(key, names), "n": n,
               "open": int(counts["open"]) if counts is not None else 0,
               "done": int(counts["done"]) if counts is not None else 0,
               "rate": None if not n else round(int(counts["done"]) / n * 100, 1),
               "major": int(counts["major"]) if counts is not None else 0}
        if compare:
            row.update(before=previous, change=round((n - previous) / previous * 100, 1) if previous else None)
        rows.append(row)
    rows.sort(key=lambda r: (-r["n"], r["place"] in ("", "0"), r["name"]))
    return columns, rows


def _place_name(key: str, names: dict[str, str] | None) -> str:
    if key in ("", "0"):
        return UNLOCATED
    if names is not None:
        return names.get(key, key)
    return h3.int_to_str(int(key))


def entity_table(frame: pd.DataFrame, source: str, names: dict[str, str], tz: str) -> tuple[list, list]:
    """(columns, rows) of an entity list (analysis_queries.entity_list), newest first."""
    t = TERMS[source]
    columns = [{"id": "id", "name": f"{t.entity}编号"}, {"id": "opened", "name": f"{t.opened}时间"},
               {"id": "district", "name": "区"}, {"id": "kind", "name": "类别" if source == "hotline" else "类型"},
               {"id": "subkind", "name": "子类" if source == "hotline" else "级别"}, {"id": "state", "name": "期末状态"},
               {"id": "major", "name": "紧急" if source == "hotline" else "重大及以上"},
               {"id": "text", "name": "诉求内容" if source == "hotline" else "事件描述"}]
    rows = [{"id": r.id, "opened": local_time(int(r.opened_at), tz), "district": names.get(r.district, UNLOCATED),
             "kind": kind_label(source, r.kind),
             "subkind": LEVEL_ZH.get(r.subkind, "待定级") if source == "emergency" else r.subkind,
             "state": STATUS_ZH[source].get(r.state, r.state), "major": "是" if int(r.major) else "",
             "text": r.text} for r in frame.itertuples(index=False)]
    return columns, rows


# --- the map ------------------------------------------------------------------------------------------------------

def district_values(o: Overview) -> dict[str, float]:
    """adcode → entities of the period, for the choropleth."""
    rows = o.places[(o.places["previous"] == 0) & (o.places["key"] != "")]
    return {k: float(n) for k, n in zip(rows["key"], rows["n"])}


def grid_cells(o: Overview) -> pd.DataFrame:
    """The period's located cells as layers.grid.hex_features reads them: cell (int), n, dx, dy."""
    rows = o.places[(o.places["previous"] == 0) & (o.places["key"] != "0")]
    return pd.DataFrame({"cell": [int(k) for k in rows["key"]], "n": list(rows["n"]), "dx": list(rows["dx"]),
                         "dy": list(rows["dy"])})


def cell_outline(cell: str, o: Overview) -> list[list[float]]:
    """Leaflet positions of a cell's boundary in the map's CRS: shifted by the offset of its own row, or of the
    district's cells on average (the offset varies by metres across a district)."""
    if not cell:
        return []
    rows = o.places[(o.places["key"] != "0") & o.places["dx"].notna()]
    own = rows[rows["key"] == str(h3.str_to_int(cell))]
    source = own if not own.empty else rows
    dx, dy = (float(source[c].mean()) if not source.empty else 0.0 for c in ("dx", "dy"))
    return [[round(lat + dy, 6), round(lng + dx, 6)] for lat, lng in h3.cell_to_boundary(cell)]


def period_note(state: st.ViewState, period: Period, tz: str) -> str:
    last = local_time(period.end, tz) if period.end < state.end.timestamp() else \
        (state.end - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    note = f"{state.start:%Y-%m-%d %H:%M} 至 {last}"
    if state.compare:
        note += f" · 上期 {local_time(period.since, tz)} 起等长时段"
    return note + " · 状态取期末（当前时段为此刻）"


