"""/analysis — 分析研判 · 全市: a period's work orders or incidents by district, filtered, against the previous
period, with trend and category charts, a table and its CSV. The URL is the state (cockpit/analysis_state.py):
``/analysis?from=2026-11-17&to=2026-11-24&source=hotline&status=open&compare=1``. A click on a district opens
``/district/<adcode>`` with the same filters."""
from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, html, no_update

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
from layers.city_map import city_map, fit_on_load
from warehouse import analysis_queries as aq

dash.register_page(__name__, path="/analysis", title="分析研判 · 城市运行一网统管")

PREFIX = "analysis"
fit_on_load(PREFIX)
register_controls(PREFIX)


def layout(**query) -> html.Div:
    s = current().settings
    now, tz = time.time(), s.city.timezone
    state, _ = st.parse(query, now=now, tz=tz, districts=av.district_names(s.city.adcode))
    return html.Div(className="analysis", children=[
        header("分析研判", current_user(), freshness_badge(PREFIX, 0, tz)),  # refreshed on demand, no timer
        html.Div(id=f"{PREFIX}-crumbs", className="analysis-crumbs"),
        html.Div(id=f"{PREFIX}-errors", className="analysis-errors", role="alert"),
        parts.filter_bar(PREFIX, state, now, tz),
        html.Div(id=f"{PREFIX}-kpis", className="kpi-row analysis-kpis"),
        *parts.body(PREFIX, "各区分布", "各区明细", city_map(
            PREFIX, s.city.adcode, tile_url=s.cockpit.tile_url, tile_attribution=s.cockpit.tile_attribution,
            interactive=True)),
        *parts.stores(PREFIX, "?" + urlencode(query, doseq=True), None,
                   dmap.bounds(city_boundaries(s.city.adcode))),
    ])


OUTPUTS = [Output(f"{PREFIX}-errors", "children"), Output(f"{PREFIX}-crumbs", "children"),
           Output(f"{PREFIX}-kpis", "children"), Output(f"{PREFIX}-districts", "hideout"),
           Output(f"{PREFIX}-labels", "data"), Output(f"{PREFIX}-legend", "children"),
           Output(f"{PREFIX}-map-note", "children"), Output(f"{PREFIX}-series", "figure"),
           Output(f"{PREFIX}-series-note", "children"), Output(f"{PREFIX}-kinds", "figure"),
           Output(f"{PREFIX}-table", "columns"), Output(f"{PREFIX}-table", "data"),
           Output(f"{PREFIX}-table-title", "children"), Output(f"{PREFIX}-table-note", "children"),
           Output(f"{PREFIX}-fresh", "data")]


@callback(*OUTPUTS, Input(f"{PREFIX}-url", "search"), Input(f"{PREFIX}-refresh", "n_clicks"))
def refresh(search, _clicks):
    """Everything the page shows, from the URL: one warehouse query."""
    rt = current()
    s = rt.settings
    now, tz = time.time(), s.city.timezone
    names = av.district_names(s.city.adcode)
    state, errors = st.parse_search(search, now=now, tz=tz, districts=names)
    period, grain = st.period(state, now), st.grain(state)
    o = aq.load_overview(rt.warehouse, st.filters(state), period, "district", grain)
    t = av.TERMS[state.source]
    values = av.district_values(o)
    breaks = dmap.class_breaks(max(values.values(), default=0))
    labels = dmap.labels(dmap.city_anchors(s.city.adcode), values, t.unit)
    columns, rows = av.place_table(o, state.source, state.compare, names)
    return (parts.messages(errors), parts.crumbs(state, names), parts.kpi_row(av.kpi_cards(o, state.source, state.compare)),
            dmap.hideout(values, breaks, tips=dmap.tips(t.n, labels)), labels,
            dmap.legend(t.n, dmap.legend_items(breaks, t.unit)) + [html.Div(dmap.CRS_NOTE, className="legend-note")],
            f"{st.SOURCE_ZH[state.source]} · 点击区县查看网格",
            av.series_figure(o, period, grain, tz, state.source, state.compare),
            f"每{'小时' if grain == 'hour' else '日'}{t.opened}量", av.kinds_figure(o, state.source, state.compare),
            columns, rows, f"各区明细 · {st.SOURCE_ZH[state.source]}", av.period_note(state, period, tz),
            as_of(now, tz))


@callback(Output(f"{PREFIX}-nav", "href"), Input(f"{PREFIX}-districts", "n_clicks"),
          State(f"{PREFIX}-districts", "clickData"), State(f"{PREFIX}-url", "search"), prevent_initial_call=True)
def open_district(_clicks, feature, search):
    """A district clicked on the map → its page, with the same filters."""
    code = ((feature or {}).get("properties") or {}).get("adcode")
    if code not in av.district_names(current().settings.city.adcode):  # client input
        return no_update
    state, _ = current_state(search, None)
    return st.href(replace(state, district=code))
