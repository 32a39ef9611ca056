"""What the analyst screens (``/analysis``, ``/district/<adcode>``) share: pure functions from the warehouse's
frames (warehouse/analysis_queries.py) to KPI cards, figures and table rows; the page parts built from them; and
the callbacks both pages wire the same way (filter bar → URL, CSV export). Text from events is passed as text."""
from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, replace

import dash_leaflet as dl
import h3
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update
from dash.dash_table.Format import Format, Scheme, Sign

from cockpit import analysis_state as st
from cockpit.format import change, format_count
from cockpit.runtime import current
from domain.contract import (
    EMERGENCY_STATUS_ZH,
    EMERGENCY_TYPE_ZH,
    HOTLINE_STATUS_ZH,
    LEVEL_ZH,
)
from domain.times import local, local_time
from layers import districts as dmap
from layers.city_map import city_map
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


# --- page parts ---------------------------------------------------------------------------------------------------

def filter_bar(prefix: str, state: st.ViewState, now: float, tz: str, *, resolution: bool = False) -> html.Div:
    """Dates (the last day included), source, category, status, comparison; the grid's resolution on the district
    page; refresh and export."""
    today = local(now, tz).date()
    first, last = st.picker_days(state)
    parts = [
        labelled("时间", dcc.DatePickerRange(
            id=f"{prefix}-dates", start_date=first, end_date=last,
            display_format="YYYY-MM-DD", first_day_of_week=1, max_date_allowed=today.isoformat(),
            minimum_nights=0, clearable=False, className="analysis-dates")),
        labelled("来源", dcc.Dropdown(id=f"{prefix}-source", value=state.source, clearable=False, searchable=False,
                                    options=options(st.SOURCE_ZH), className="analysis-select")),
        labelled("类别", dcc.Dropdown(id=f"{prefix}-category", value=state.category or None, placeholder="全部",
                                    options=options(st.CATEGORIES[state.source]), className="analysis-select")),
        labelled("状态", dcc.Dropdown(id=f"{prefix}-status", value=state.status or None, placeholder="全部",
                                    options=options(st.STATUSES[state.source]), className="analysis-select")),
    ]
    if resolution:
        parts.append(labelled("网格", dcc.Dropdown(
            id=f"{prefix}-res", value=state.resolution, clearable=False, searchable=False,
            options=[{"label": f"{r} 级（约 {h3.average_hexagon_area(r, unit='km^2'):.2g} 平方公里）", "value": r}
                     for r in st.RESOLUTIONS], className="analysis-select")))
    parts += [
        dcc.Checklist(id=f"{prefix}-compare", options=[{"label": "对比上期", "value": "1"}],
                      value=["1"] if state.compare else [], className="analysis-compare"),
        html.Div(className="analysis-actions", children=[
            html.Button("刷新", id=f"{prefix}-refresh", className="analysis-button"),
            html.Button("导出 CSV", id=f"{prefix}-export", className="analysis-button analysis-button-main",
                        title="下载下表所示的行与列（UTF-8，Excel 可直接打开）"),
        ]),
    ]
    return html.Div(parts, className="analysis-filters")


def labelled(label: str, control) -> html.Label:
    return html.Label([html.Span(label, className="analysis-filter-label"), control], className="analysis-filter")


def options(choices: dict[str, str]) -> list[dict]:
    return [{"label": label, "value": value} for value, label in choices.items()]


def body(prefix: str, map_title: str, table_title: str, overlays: tuple = ()) -> list:
    """The map (with ``overlays``), the trend and category charts, and the table of an analyst screen."""
    c = current().settings.cockpit
    return [
        html.Div(className="analysis-body", children=[
            panel(map_title, html.Div(className="map-wrap analysis-map", children=[
                city_map(prefix, current().settings.city.adcode, overlays=overlays, tile_url=c.tile_url,
                         tile_attribution=c.tile_attribution, interactive=True),
                html.Div(id=f"{prefix}-legend", className="legend"),
            ]), note_id=f"{prefix}-map-note"),
            html.Div(className="analysis-charts", children=[
                panel("趋势", graph(f"{prefix}-series"), note_id=f"{prefix}-series-note"),
                panel("类别构成", graph(f"{prefix}-kinds")),
            ]),
        ]),
        panel(table_title, data_table(prefix), title_id=f"{prefix}-table-title", note_id=f"{prefix}-table-note"),
    ]


def panel(title, body, *, note_id: str | None = None, title_id: str | None = None) -> html.Div:
    heading = [html.Span(title, id=title_id) if title_id else title]
    if note_id:
        heading.append(html.Span(id=note_id, className="panel-note"))
    return html.Div(className="panel analysis-panel", children=[html.Div(heading, className="panel-title"), body])


def graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, className="analysis-graph", config={"displayModeBar": False},
                     figure=empty_figure("加载中…"))


def data_table(prefix: str) -> dash_table.DataTable:
    """The table (sortable, paged); what it shows is what the CSV holds. Cells are plain text."""
    return dash_table.DataTable(
        id=f"{prefix}-table", columns=[], data=[], sort_action="native", page_action="native", page_size=15,
        style_as_list_view=True, cell_selectable=False,
        style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "#0f2340", "color": "#e6f1ff", "fontWeight": 600, "fontSize": "1.05rem",
                      "borderBottom": f"2px solid {GRID_LINE}"},
        style_cell={"backgroundColor": "#0b1628", "color": "#e6f1ff", "fontSize": "1.05rem", "padding": "0.45rem",
                    "border": "none", "borderBottom": "1px solid #13294a", "fontFamily": "inherit",
                    "textAlign": "left", "maxWidth": "28rem", "overflow": "hidden", "textOverflow": "ellipsis"},
        style_cell_conditional=[{"if": {"column_type": "numeric"}, "textAlign": "right",
                                 "fontVariantNumeric": "tabular-nums"}],
        style_data_conditional=[{"if": {"filter_query": "{change} > 0", "column_id": "change"}, "color": "#ff8c1a"},
                                {"if": {"filter_query": "{change} < 0", "column_id": "change"}, "color": "#2bd47d"}],
        tooltip_delay=300, tooltip_duration=None)


def kpi_row(cards: list[dict]) -> list:
    """KPI cards with the wall's look; the comparison arrow coloured by its trend."""
    return [html.Div(className="kpi", title=c["help"], children=[
        html.Div(c["label"], className="kpi-label"),
        html.Div([html.Span(c["value"]), html.Span(c["unit"], className="kpi-unit")], className="kpi-value"),
        html.Div(c["sub"], className=f"kpi-sub analysis-trend-{c['trend']}" if c["trend"] else "kpi-sub"),
    ]) for c in cards]


def messages(errors: list[str], limit: int = 5) -> list:
    """The page's messages as text, at most ``limit`` of them and a count of the rest."""
    shown = errors if len(errors) <= limit else [*errors[:limit - 1], f"另有 {len(errors) - limit + 1} 个参数无效，已忽略"]
    return [html.Div(e, className="analysis-error") for e in shown]


def crumbs(state: st.ViewState, names: dict[str, str]) -> list:
    """全市 › 区 › 网格, each a link to its level with the same filters."""
    parts = [dcc.Link("全市", href=st.href(replace(state, district="", cell="")))]
    if state.district:
        parts += [html.Span("›", className="crumb-sep"), dcc.Link(names.get(state.district, state.district),
                                                                  href=st.href(replace(state, cell="")))]
    if state.cell:
        parts += [html.Span("›", className="crumb-sep"), html.Span(f"网格 {state.cell}")]
    return parts


def period_note(state: st.ViewState, period: Period, tz: str) -> str:
    last = local_time(period.end, tz) if period.end < state.end.timestamp() else \
        (state.end - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    note = f"{state.start:%Y-%m-%d %H:%M} 至 {last}"
    if state.compare:
        note += f" · 上期 {local_time(period.since, tz)} 起等长时段"
    return note + " · 状态取期末（当前时段为此刻）"


# --- callbacks both pages wire ------------------------------------------------------------------------------------

def register_controls(prefix: str, *, resolution: bool = False) -> None:
    """Source → its categories and statuses; the filter bar → the URL (which the page's refresh reads); the
    export button → the table as CSV. Call once at import of the page."""
    @callback(Output(f"{prefix}-category", "options"), Output(f"{prefix}-category", "value"),
              Output(f"{prefix}-status", "options"), Output(f"{prefix}-status", "value"),
              Input(f"{prefix}-source", "value"), State(f"{prefix}-category", "value"),
              State(f"{prefix}-status", "value"), prevent_initial_call=True)
    def source_choices(source, category, status):
        source = source if source in st.SOURCE_ZH else "hotline"
        categories, statuses = st.CATEGORIES[source], st.STATUSES[source]
        return (options(categories), category if category in categories else None,
                options(statuses), status if status in statuses else None)

    inputs = [Input(f"{prefix}-dates", "start_date"), Input(f"{prefix}-dates", "end_date"),
              Input(f"{prefix}-source", "value"), Input(f"{prefix}-category", "value"),
              Input(f"{prefix}-status", "value"), Input(f"{prefix}-compare", "value")]
    if resolution:
        inputs.append(Input(f"{prefix}-res", "value"))

    @callback(Output(f"{prefix}-url", "search"), *inputs, State(f"{prefix}-url", "search"),
              State(f"{prefix}-district", "data"), prevent_initial_call=True)
    def push_url(first, last, source, category, status, compare, *rest):
        *res, search, district = rest
        state, tz = current_state(search, district)
        state = st.with_filters(st.with_dates(state, first, last, tz), source, category, status, compare)
        if res and res[0] in st.RESOLUTIONS and res[0] != state.resolution:
            state = replace(state, resolution=res[0], cell="")  # the selected cell is of another size
        return "?" + st.to_query(state)

    @callback(Output(f"{prefix}-download", "data"), Input(f"{prefix}-export", "n_clicks"),
              State(f"{prefix}-table", "derived_virtual_data"), State(f"{prefix}-table", "data"),
              State(f"{prefix}-table", "columns"), State(f"{prefix}-url", "search"),
              State(f"{prefix}-district", "data"), prevent_initial_call=True)
    def export(_clicks, shown, data, columns, search, district):
        state, _ = current_state(search, district)
        names = district_names(current().settings.city.adcode)
        place = state.cell or names.get(state.district, "全市")
        return dcc.send_bytes(st.to_csv(columns, shown if shown is not None else data), st.csv_filename(state, place),
                              type="text/csv")


def current_state(search: str | None, district: str | None) -> tuple[st.ViewState, str]:
    """(the state of a page's URL, the city's time zone); errors are the refresh's to show."""
    s = current().settings
    state, _ = st.parse_search(search, now=time.time(), tz=s.city.timezone,
                               districts=district_names(s.city.adcode), district=district)
    return state, s.city.timezone


def stores(prefix: str, search: str, district: str | None, bounds) -> list:
    """The page's URL (its query set from the layout's, so the first refresh reads it), the navigation target,
    the export, the district and the map's bounds."""
    return [dcc.Location(id=f"{prefix}-url", refresh=False, search=search),
            dcc.Location(id=f"{prefix}-nav", refresh="callback-nav"),
            dcc.Download(id=f"{prefix}-download"), dcc.Store(id=f"{prefix}-district", data=district),
            dcc.Store(id=f"{prefix}-fit", data=bounds)]


def selected_layer(prefix: str) -> dl.LayerGroup:
    return dl.LayerGroup(id=f"{prefix}-selected")


def no_updates(count: int) -> list:
    return [no_update] * count
