"""/wall — 一屏统览: the command-centre wall. No controls; refreshes itself; shows when data is stale."""
from __future__ import annotations

import time

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from cockpit import job_view, wall_view
from cockpit.components import wall as parts
from cockpit.components.freshness import answer, freshness, freshness_badge
from cockpit.components.kpi import kpi_tile
from cockpit.format import format_count, format_percent
from cockpit.runtime import current
from domain.districts import city_boundaries
from layers import districts as dmap
from layers import stations
from layers.city_map import city_map

dash.register_page(__name__, path="/wall", title="一屏统览 · 城市运行一网统管")

TILES = (  # id, label, unit, help, formatter
    ("received", "今日受理", "件", "今日（本地时间 0 时起）受理的 12345 工单数", format_count),
    ("open", "在办工单", "件", "已受理、尚未办结的工单（近 30 日有动态）；其下为超过办理时限仍未办结的件数", format_count),
    ("on_time", "按时办结率", "%", "本项目定义（国家未发布统一公式）：时限在统计期内到期的工单中，于时限前办结的比例",
     format_percent),
    ("satisfaction", "满意率", "%", "本项目定义：（满意 + 基本满意）÷ 有满意度答复的回访工单", format_percent),
    ("incidents", "在办突发事件", "起", "近 7 日有动态、尚未结束的突发事件，按分级（突发事件应对法）", format_count),
    ("aqi", "城市 AQI", "", "全市空气质量站近两小时读数的各污染物均值计算的实时 AQI（HJ 633）；PM2.5、PM10 以小时浓度套用 24 小时分指数", format_count),
    ("stations", "告警站点", "个", "当前处于橙色或红色状态的监测站点（超警戒、超保证、积水超警、低压、强降水、噪声超标、AQI>150）",
     format_count),
    ("alerts", "活动预警", "条", "待确认、已确认、已派发的预警", format_count),
)
MAP_UNIT = "件"


def layout(**_query) -> html.Div:
    s = current().settings
    refresh_ms = int(s.cockpit.refresh_seconds * 1000)
    return html.Div(className="wall", children=[
        html.Div(className="wall-header", children=[
            html.Div([f"{city_name(s.city.adcode)}城市运行一网统管", html.Small("一屏统览")], className="brand"),
            html.Div(className="header-right", children=[
                html.Div(id="wall-clock", className="clock"),
                html.Div(id="wall-jobs", className="job-alarms", role="alert"),
                *freshness_badge("wall", refresh_ms, s.city.timezone),
            ]),
        ]),
        html.Div(className="kpi-row", children=[kpi_tile(label, unit, help_text=help_text, tile_id=f"wall-kpi-{i}")
                                                 for i, label, unit, help_text, _ in TILES]),
        html.Div(className="wall-body", children=[
            html.Div(className="side side-3", children=[
                parts.panel("受理趋势", dcc.Graph(id="wall-trend", className="graph", config={"displayModeBar": False},
                                        style={"height": "100%"}), note="每小时受理量 · 近 24 小时"),
                parts.panel("今日诉求分类", html.Div(id="wall-categories", className="ranking"), note="受理件数"),
                parts.panel("各区今日受理排行", html.Div(id="wall-ranking", className="ranking")),
            ]),
            html.Div(className="panel", children=[
                html.Div(["各区在办工单", html.Span("12345 热线 · 监测站点 · 实时", className="panel-note")],
                         className="panel-title"),
                html.Div(className="map-wrap", children=[
                    city_map("wall", s.city.adcode, overlays=(("监测站点", stations.station_layer("wall"), True),),
                             tile_url=s.cockpit.tile_url, tile_attribution=s.cockpit.tile_attribution),
                ]),
                html.Div(id="wall-legend", className="legend"),  # under the map, in one row: it covers no district
            ]),
            html.Div(className="side side-alerts", children=[
                parts.panel("预警动态", html.Ul(id="wall-alerts", className="ticker alert-ticker"), note="按级别"),
                parts.panel("最新工单", html.Ul(id="wall-ticker", className="ticker")),
            ]),
        ]),
        dcc.Store(id="wall-tz", data=s.city.timezone),
        dcc.Store(id="wall-viewport"),
        dcc.Interval(id="wall-tick", interval=refresh_ms),
        dcc.Interval(id="wall-clock-tick", interval=1000),
    ])


def city_name(adcode: str) -> str:
    return city_boundaries(adcode).get("name", "")


clientside_callback(
    dash.ClientsideFunction(namespace="cockpit", function_name="clock"),
    Output("wall-clock", "children"), Input("wall-clock-tick", "n_intervals"), State("wall-tz", "data"),
)


clientside_callback(
    "function(_tz) { return window.innerWidth; }",
    Output("wall-viewport", "data"), Input("wall-tz", "data"),
)


@callback(
    [Output(f"wall-kpi-{i}-value", "children") for i, *_ in TILES]
    + [Output(f"wall-kpi-{i}-value", "style") for i, *_ in TILES]
    + [Output(f"wall-kpi-{i}-sub", "children") for i, *_ in TILES]
    + [Output(f"wall-kpi-{i}", "className") for i, *_ in TILES]
    + [Output("wall-districts", "hideout"), Output("wall-labels", "data"), Output("wall-stations", "data"),
       Output("wall-legend", "children"), Output("wall-trend", "figure"), Output("wall-categories", "children"),
       Output("wall-ranking", "children"), Output("wall-alerts", "children"), Output("wall-ticker", "children"),
       Output("wall-jobs", "children"), Output("wall-fresh", "data")],
    Input("wall-tick", "n_intervals"), Input("wall-viewport", "data"),  # an input: the first refresh waits for it
)
def refresh(_n, viewport_width):
    rt = current()
    s = rt.settings
    data = wall_view.load(rt.warehouse, time.time(), s.city.timezone, s.cockpit.slow_refresh_seconds)
    station_layer = wall_view.station_layer_data(data, rt.files.stations,
                                                 s.map.station_silent_intervals, s.city.timezone)
    tiles = wall_view.kpis(data, station_layer["features"])
    anchors = dmap.city_anchors(s.city.adcode)
    names = {code: name for code, (_, _, name) in anchors.items()}
    open_by_district = wall_view.per_district(data.states, "open_orders")
    breaks = dmap.class_breaks(max(open_by_district.values(), default=0))
    labels = dmap.labels(anchors, open_by_district, MAP_UNIT)
    newest_event, newest_ingest = wall_view.newest(data)
    level, text = freshness(newest_event, newest_ingest, data.now, s.cockpit.stale_warn_seconds,
                            s.cockpit.stale_alarm_seconds, wall_view.ingest_lag(data), s.cockpit.lag_warn_messages,
                            s.cockpit.lag_alarm_messages)
    return (
        [fmt(tiles[i]["value"]) for i, *_, fmt in TILES]
        + [{"color": tiles[i]["colour"]} if tiles[i]["colour"] else {} for i, *_ in TILES]
        + [tiles[i]["sub"] for i, *_ in TILES]
        + [f"kpi kpi-{tiles[i]['level']}" if tiles[i]["level"] else "kpi" for i, *_ in TILES]
        + [dmap.hideout(open_by_district, breaks, tips=dmap.tips("在办工单", labels)), labels,
           station_layer,
           dmap.legend("在办工单", dmap.legend_items(breaks, MAP_UNIT)) + parts.station_legend()
           + [html.Div(dmap.CRS_NOTE, className="legend-note")],
           wall_view.trend_figure(data, s.city.timezone, wall_view.font_px(viewport_width)),
           parts.ranking_rows(wall_view.ranking(wall_view.category_counts(data), top=6), "今日暂无受理"),
           parts.ranking_rows(wall_view.ranking(wall_view.named(wall_view.per_district(data.today, "received"), names),
                                          top=8), "今日暂无受理"),
           parts.alert_rows(wall_view.alert_ticker(data.alerts, names, s.city.timezone)),
           parts.ticker_rows(wall_view.ticker(data, names, s.city.timezone)),
           parts.job_alarms(job_view.problems(data.jobs, data.now), s.city.timezone, data.now),
           answer(level, text, None if newest_event is None else data.now - newest_event)]
    )
