"""/district/<adcode> — 分析研判 · 区县: one district's work orders or incidents of a period by H3 cell, with the
filters, comparison, charts, table and CSV of /analysis. A click on a cell drills into it (``&cell=…``): the
figures then count that cell and the table lists its orders or incidents. The URL is the state
(cockpit/analysis_state.py): ``/district/440106?from=2026-11-17&to=2026-11-24&source=hotline&res=8&cell=…``."""
from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
from dash import Input, Output, State, callback, dcc, html, no_update

from cockpit import analysis_state as st
from cockpit import analysis_view as av
from cockpit.components import analysis as parts
from cockpit.components.freshness import as_of, freshness_badge
from cockpit.components.header import header
from cockpit.pages.analyst_controls import current_state, register_controls
from cockpit.runtime import current
from cockpit.signin import current_user
from domain.districts import city_boundaries
from layers import districts as dmap
from layers import grid
from layers.city_map import city_map, fit_on_load
from warehouse import analysis_queries as aq

dash.register_page(__name__, path_template="/district/<adcode>", title="区县分析 · 城市运行一网统管")

PREFIX = "district"
SELECTED = "#00f0ff"  # cyan: apart from every colour of the grid's ramp
fit_on_load(PREFIX)
register_controls(PREFIX, resolution=True)


def layout(adcode: str = "", **query) -> html.Div:
    s = current().settings
    now, tz = time.time(), s.city.timezone
    names = av.district_names(s.city.adcode)
    state, errors = st.parse(query, now=now, tz=tz, districts=names, district=adcode)
    if not state.district:
        return html.Div(className="analysis", children=[
            header("区县分析", current_user()), html.Div(parts.messages(errors[:1]), className="analysis-errors", role="alert"),
            dcc.Link("返回全市分析", href="/analysis", className="analysis-back")])
    boundaries = city_boundaries(s.city.adcode)
    own = [f for f in boundaries["features"] if f["properties"]["adcode"] == state.district]
    overlays = (("网格 (H3)", grid.grid_layer(PREFIX), True), ("选中网格", parts.selected_layer(PREFIX), True))
    return html.Div(className="analysis", children=[
        header(f"分析研判 · {names[state.district]}", current_user(),
               freshness_badge(PREFIX, 0, tz)),  # refreshed on demand, no timer
        html.Div(id=f"{PREFIX}-crumbs", className="analysis-crumbs"),
        html.Div(id=f"{PREFIX}-errors", className="analysis-errors", role="alert"),
        parts.filter_bar(PREFIX, state, now, tz, resolution=True),
        html.Div(id=f"{PREFIX}-kpis", className="kpi-row analysis-kpis"),
        *parts.body(PREFIX, "网格分布", "网格明细", city_map(
            PREFIX, s.city.adcode, overlays=overlays, tile_url=s.cockpit.tile_url,
            tile_attribution=s.cockpit.tile_attribution, interactive=True)),
        *parts.stores(PREFIX, "?" + urlencode(query, doseq=True), state.district, dmap.bounds({"features": own})),
    ])


OUTPUTS = [Output(f"{PREFIX}-errors", "children"), Output(f"{PREFIX}-crumbs", "children"),
           Output(f"{PREFIX}-kpis", "children"), Output(f"{PREFIX}-districts", "hideout"),
           Output(f"{PREFIX}-labels", "data"), Output(f"{PREFIX}-grid", "data"), Output(f"{PREFIX}-grid", "hideout"),
           Output(f"{PREFIX}-selected", "children"), Output(f"{PREFIX}-legend", "children"),
           Output(f"{PREFIX}-map-note", "children"), Output(f"{PREFIX}-series", "figure"),
           Output(f"{PREFIX}-series-note", "children"), Output(f"{PREFIX}-kinds", "figure"),
           Output(f"{PREFIX}-table", "columns"), Output(f"{PREFIX}-table", "data"),
           Output(f"{PREFIX}-table-title", "children"), Output(f"{PREFIX}-table-note", "children"),
           Output(f"{PREFIX}-fresh", "data")]


@callback(*OUTPUTS, Input(f"{PREFIX}-url", "search"), Input(f"{PREFIX}-refresh", "n_clicks"),
          State(f"{PREFIX}-district", "data"))
def refresh(search, _clicks, district):
    """Everything the page shows, from the URL: one warehouse query, and the cell's list when one is selected."""
    rt = current()
    s = rt.settings
    now, tz = time.time(), s.city.timezone
    names = av.district_names(s.city.adcode)
    state, errors = st.parse_search(search, now=now, tz=tz, districts=names, district=district)
    if not state.district:
        return [parts.messages(errors)] + [no_update] * (len(OUTPUTS) - 1)
    filters, period, grain = st.filters(state), st.period(state, now), st.grain(state)
    o = aq.load_overview(rt.warehouse, filters, period, "cell", grain, state.resolution)
    listed = aq.load_entities(rt.warehouse, filters, period) if state.cell else None
    t, place = av.TERMS[state.source], names[state.district]
    cells = av.grid_cells(o)
    breaks = grid.grid_breaks(cells["n"], spread=True)
    anchor = dmap.city_anchors(s.city.adcode)[state.district]
    total = int(o.places.loc[o.places["previous"] == 0, "n"].sum())  # places cover the district, cell or not
    outline = av.cell_outline(state.cell, o)
    if listed is None:
        columns, rows = av.place_table(o, state.source, state.compare)
        title, note = f"{place}各网格明细 · {st.SOURCE_ZH[state.source]}", av.period_note(state, period, tz)
    else:
        columns, rows = av.entity_table(listed, state.source, names, tz)
        title = f"网格 {state.cell} 内的{t.entity} · 最新 {len(rows):,} 条"
        note = ("（仅列出最新 {:,} 条）".format(aq.LIST_LIMIT) if len(rows) >= aq.LIST_LIMIT else "") + \
            av.period_note(state, period, tz)
    return (parts.messages(errors), parts.crumbs(state, names), parts.kpi_row(av.kpi_cards(o, state.source, state.compare)),
            dmap.hideout({}, dmap.class_breaks(0), selected=state.district),
            dmap.labels({state.district: anchor}, {state.district: total}, t.unit),
            grid.hex_features(cells), grid.grid_hideout(breaks),
            [dl.Polygon(positions=outline, color=SELECTED, weight=5, fill=False, interactive=False)] if outline else [],
            dmap.legend(f"{t.n}（{state.resolution} 级网格）", grid.legend_items(breaks, t.unit)) +
            [html.Div(dmap.CRS_NOTE, className="legend-note")],
            "点击网格查看其中明细，再次点击取消" if not state.cell else f"已选网格 {state.cell}，再次点击取消",
            av.series_figure(o, period, grain, tz, state.source, state.compare),
            f"每{'小时' if grain == 'hour' else '日'}{t.opened}量", av.kinds_figure(o, state.source, state.compare),
            columns, rows, title, note, as_of(now, tz))


@callback(Output(f"{PREFIX}-url", "search", allow_duplicate=True), Input(f"{PREFIX}-grid", "n_clicks"),
          State(f"{PREFIX}-grid", "clickData"), State(f"{PREFIX}-url", "search"), State(f"{PREFIX}-district", "data"),
          prevent_initial_call=True)
def select_cell(_clicks, feature, search, district):
    """A cell clicked → drill into it; the selected cell clicked again → back to the district."""
    cell = ((feature or {}).get("properties") or {}).get("cell")
    state, _ = current_state(search, district)
    if not isinstance(cell, str) or not st.valid_cell(cell):  # client input
        return no_update
    return "?" + st.to_query(replace(state, cell="" if cell == state.cell else cell))


@callback(Output(f"{PREFIX}-nav", "href"), Input(f"{PREFIX}-districts", "n_clicks"),
          State(f"{PREFIX}-districts", "clickData"), State(f"{PREFIX}-url", "search"),
          State(f"{PREFIX}-district", "data"), prevent_initial_call=True)
def open_district(_clicks, feature, search, district):
    """Another district clicked on the map → its page, with the same filters."""
    code = ((feature or {}).get("properties") or {}).get("adcode")
    if code == district or code not in av.district_names(current().settings.city.adcode):  # client input
        return no_update
    state, _ = current_state(search, district)
    return st.href(replace(state, district=code, cell=""))
