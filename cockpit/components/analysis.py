"""The analyst screens' parts (``/analysis``, ``/district/<adcode>``): the filter bar, the map, charts and table
panels, KPI tiles, messages and breadcrumbs, and the stores both pages keep. Text from events is passed as text."""
from __future__ import annotations

from dataclasses import replace

import dash_leaflet as dl
import h3
from dash import dash_table, dcc, html

from cockpit import analysis_state as st
from cockpit.analysis_view import empty_figure
from cockpit.components.kpi import kpi_tile
from cockpit.components.table import DATA_TABLE_STYLE
from domain.times import local


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


def body(prefix: str, map_title: str, table_title: str, the_map) -> list:
    """The map (layers.city_map.city_map), the trend and category charts, and the table of an analyst screen."""
    return [
        html.Div(className="analysis-body", children=[
            panel(map_title, html.Div(className="map-wrap analysis-map", children=[
                the_map,
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
        cell_selectable=False, tooltip_delay=300, tooltip_duration=None, **DATA_TABLE_STYLE)


def kpi_row(cards: list[dict]) -> list:
    """The KPI tiles of :func:`cockpit.analysis_view.kpi_cards`; the comparison coloured by its trend."""
    return [kpi_tile(c["label"], c["unit"], value=c["value"], sub=c["sub"], help_text=c["help"],
                     sub_class=f"analysis-trend-{c['trend']}" if c["trend"] else "") for c in cards]


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


def stores(prefix: str, search: str, district: str | None, bounds) -> list:
    """The page's URL (its query set from the layout's, so the first refresh reads it), the navigation target,
    the export, the district and the map's bounds."""
    return [dcc.Location(id=f"{prefix}-url", refresh=False, search=search),
            dcc.Location(id=f"{prefix}-nav", refresh="callback-nav"),
            dcc.Download(id=f"{prefix}-download"), dcc.Store(id=f"{prefix}-district", data=district),
            dcc.Store(id=f"{prefix}-fit", data=bounds)]


def selected_layer(prefix: str) -> dl.LayerGroup:
    return dl.LayerGroup(id=f"{prefix}-selected")
