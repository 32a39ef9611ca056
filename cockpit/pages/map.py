"""/map — 全域态势: the city map with every layer — district choropleth of a chosen metric, work orders and
incidents, the H3 grid or its heat view, stations — a layer control, legends for what is shown, and a side panel
for the selected district or event. URL: ``/map?metric=aqi&district=440106``."""
from __future__ import annotations

import time

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from cockpit import map_view
from cockpit.components.freshness import as_of, freshness_badge
from cockpit.components.header import header
from cockpit.runtime import current
from cockpit.signin import current_user
from domain.districts import city_boundaries
from layers import districts as dmap
from layers import grid, points, stations
from layers.city_map import city_map, fit_on_load

dash.register_page(__name__, path="/map", title="全域态势 · 城市运行一网统管")

fit_on_load("map")
LAYERS = {"events": "工单与突发事件", "grid": "网格 (H3)", "heat": "热力", "stations": "监测站点"}


def metrics() -> dict[str, dmap.Metric]:
    """The metrics on offer: per-capita ones only when population is configured."""
    have_population = bool(current().files.population)
    return {k: m for k, m in dmap.METRICS.items() if k != "orders_per_10k" or have_population}


def layout(metric: str = "open_orders", district: str = "", **_query) -> html.Div:
    s = current().settings
    offered = metrics()
    metric = metric if metric in offered else "open_orders"  # URL input: only known values pass
    district = district if district in dmap.city_anchors(s.city.adcode) else None
    overlays = (
        (LAYERS["events"], points.points_layer("map"), True),
        (LAYERS["grid"], grid.grid_layer("map"), False),
        (LAYERS["heat"], grid.grid_layer("map-heat"), False),
        (LAYERS["stations"], stations.station_layer("map"), True),
    )
    refresh_ms = int(s.cockpit.refresh_seconds * 1000)
    return html.Div(className="mapscreen", children=[
        header("全域态势", current_user(), freshness_badge("map", refresh_ms, s.city.timezone)),
        html.Div(className="map-body", children=[
            html.Div(className="panel", children=[
                html.Div(className="map-wrap", children=[
                    city_map("map", s.city.adcode, overlays=overlays, tile_url=s.cockpit.tile_url,
                             tile_attribution=s.cockpit.tile_attribution, interactive=True),
                ]),
            ]),
            html.Div(className="map-side", children=[
                html.Div(className="panel", children=[
                    html.Div("区县指标", className="panel-title"),
                    dcc.RadioItems(id="map-metric", className="metric-choice", value=metric,
                                   options=[{"label": m.title, "value": k} for k, m in offered.items()]),
                ]),
                html.Div(className="panel", children=[html.Div("选中", className="panel-title"),
                                                      html.Div(id="map-info", className="info",
                                                               children="点击区县或事件查看详情")]),
                html.Div(className="panel", children=[
                    html.Div("网格指标", className="panel-title"),
                    dcc.RadioItems(id="map-grid-value", className="metric-choice", value="n",
                                   options=[{"label": "工单数", "value": "n"}, {"label": "超期在办占比", "value": "rate"}]),
                ]),
                html.Div(className="panel", children=[html.Div("图例", className="panel-title"),
                                                      html.Div(id="map-events-note", className="legend-note",
                                                               role="status"),
                                                      html.Div(id="map-legends", className="legends")]),
            ]),
        ]),
        dcc.Store(id="map-selected", data=district),
        dcc.Store(id="map-fit", data=dmap.bounds(city_boundaries(s.city.adcode))),
        dcc.Store(id="map-districts-legend"),
        dcc.Store(id="map-grid-legend"),
        dcc.Interval(id="map-tick", interval=refresh_ms),
    ])


def _box(bounds):
    """The viewport the browser reports (client input: the city's region when it is not a box) cut to the
    city's region; None when it lies outside."""
    region = map_view.region_box(current().settings.city.adcode)
    return map_view.clamp_box(points.viewport_box(bounds, region), region)


@callback(Output("map-districts", "hideout"), Output("map-labels", "data"), Output("map-districts-legend", "data"),
          Output("map-fresh", "data"), Input("map-tick", "n_intervals"), Input("map-metric", "value"), Input("map-selected", "data"))
def refresh_districts(_n, metric, selected):
    rt = current()
    s = rt.settings
    offered = metrics()
    metric = metric if metric in offered else "open_orders"
    now = time.time()
    data = map_view.load_districts(rt.warehouse, now)
    values = dmap.metric_values(metric, data.states, data.incidents, data.ecology,
                                rt.files.population)
    breaks, colors = dmap.metric_scale(metric, values)
    m = offered[metric]
    labels = dmap.labels(dmap.city_anchors(s.city.adcode), values, m.unit, m.decimals,
                         default=None if metric in ("aqi", "orders_per_10k", "overdue_rate") else 0)
    legend = {"title": m.title, "items": dmap.legend_items(breaks, m.unit, colors)}
    return (dmap.hideout(values, breaks, selected, colors, dmap.tips(m.title, labels)), labels, legend,
            as_of(now, s.city.timezone))


@callback(Output("map-events", "data"), Output("map-events-note", "children"), Input("map-tick", "n_intervals"),
          Input("map-map", "bounds"), Input("map-map", "zoom"))
def refresh_events(_n, bounds, zoom):
    rt = current()
    s = rt.settings
    events = map_view.load_events(rt.warehouse, time.time(), s.map.event_hours, _box(bounds), map_view.zoom_of(zoom))
    return points.event_features(events.orders, events.incidents, s.city.timezone), map_view.events_note(events)


@callback(Output("map-stations", "data"), Input("map-tick", "n_intervals"))
def refresh_stations(_n):
    rt = current()
    s = rt.settings
    water, ecology = map_view.load_stations_latest(rt.warehouse, time.time())
    return stations.station_features(rt.files.stations, water, ecology, time.time(),
                                     silent_intervals=s.map.station_silent_intervals, timezone=s.city.timezone)


@callback(Output("map-grid", "data"), Output("map-grid", "hideout"), Output("map-heat-grid", "data"),
          Output("map-heat-grid", "hideout"), Output("map-grid-legend", "data"),
          Input("map-tick", "n_intervals"), Input("map-map", "bounds"), Input("map-map", "zoom"),
          Input("map-layers", "overlays"), Input("map-grid-value", "value"))
def refresh_grid(_n, bounds, zoom, shown, value):
    """Work orders per H3 cell (the configured resolution, or the zoom's) and, finer, the heat view; only
    for the views that are shown."""
    rt = current()
    s = rt.settings
    value = "rate" if value == "rate" else "n"
    shown = set(shown or [])
    box = _box(bounds)
    resolution = s.map.grid_resolution or grid.resolution_for_zoom(map_view.zoom_of(zoom))
    out, legend = [], {}
    for layer, res, heat in (("grid", resolution, False), ("heat", min(resolution + 1, 10), True)):
        if LAYERS[layer] not in shown:
            out += [no_update, no_update]
            continue
        cells = map_view.load_grid(rt.warehouse, time.time(), s.map.event_hours, box, res)
        breaks = grid.grid_breaks(cells[value] if not cells.empty else [], rate=value == "rate", spread=True)
        out += [grid.hex_features(cells, value=value), grid.grid_hideout(breaks, heat=heat)]
        legend[layer] = grid.legend_items(breaks, "%" if value == "rate" else "件", heat=heat)
    return *out, legend


@callback(Output("map-legends", "children"), Input("map-layers", "overlays"), Input("map-districts-legend", "data"),
          Input("map-grid-legend", "data"))
def legends(shown, district_legend, grid_legend):
    """One legend per layer that is shown, the district choropleth first."""
    shown = set(shown or [])
    blocks = []
    if "区县" in shown and district_legend:
        blocks.append(dmap.legend(district_legend["title"], district_legend["items"]))
    if LAYERS["events"] in shown:
        blocks.append(dmap.legend(LAYERS["events"], points.legend_items()))
    for layer in ("grid", "heat"):
        if LAYERS[layer] in shown and grid_legend and grid_legend.get(layer):
            blocks.append(dmap.legend(LAYERS[layer], grid_legend[layer]))
    if LAYERS["stations"] in shown:
        blocks.append(dmap.legend(LAYERS["stations"], stations.legend_items()))
    blocks.append([html.Div(dmap.CRS_NOTE, className="legend-note")])
    return [html.Div(block, className="legend-block") for block in blocks]


@callback(Output("map-selected", "data"), Input("map-districts", "n_clicks"), State("map-districts", "clickData"),
          State("map-selected", "data"), prevent_initial_call=True)
def select_district(_clicks, feature, selected):
    """Click a district to select it (the input drill-downs use), click it again to clear."""
    code = ((feature or {}).get("properties") or {}).get("adcode")
    if code not in dmap.city_anchors(current().settings.city.adcode):  # client input
        return no_update
    return None if code == selected else code


@callback(Output("map-info", "children"), Output("map-map", "viewport"), Input("map-selected", "data"),
          Input("map-events", "n_clicks"), State("map-events", "clickData"), State("map-map", "zoom"))
def show_info(selected, _clicks, event, zoom):
    """The selected district's metrics, or the clicked event's timeline; a clicked cluster zooms in."""
    rt = current()
    s = rt.settings
    anchors = dmap.city_anchors(s.city.adcode)
    names = {code: name for code, (_, _, name) in anchors.items()}
    if ctx.triggered_id == "map-events" and event:
        props, (lon, lat) = event.get("properties") or {}, (event.get("geometry") or {}).get("coordinates", [0, 0])
        if props.get("n", 1) > 1:
            return no_update, {"center": [lat, lon], "zoom": map_view.zoom_of(zoom) + 2, "transition": "flyTo"}
        kind, event_id = props.get("kind"), props.get("id")
        if kind not in points.KINDS or not isinstance(event_id, str) or len(event_id) > 64:  # client input
            return no_update, no_update
        return info_lines(map_view.load_detail(rt.warehouse, kind, event_id, names, s.city.timezone)), no_update
    if not selected:
        return "点击区县或事件查看详情", no_update
    data = map_view.load_districts(rt.warehouse, time.time())
    pop = rt.files.population
    offered = metrics()
    values = {k: dmap.metric_values(k, data.states, data.incidents, data.ecology, pop) for k in offered}
    titles = {k: (m.title, m.unit, m.decimals) for k, m in offered.items()}
    return info_lines(map_view.district_summary(selected, names[selected], values, titles)), no_update


def info_lines(lines: list[str]) -> list:
    return [html.Div(line, className="info-title" if i == 0 else "info-line") for i, line in enumerate(lines)]
