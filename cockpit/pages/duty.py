"""/duty — 值班研判: the alert queue, one alert's detail with its map context, recent events and history, and
the buttons that act on it through ``alerts.api.act`` (every action audited). Duty officers and admins only:
the sign-in guard refuses this page and its callbacks to other roles, and ``act`` checks the role again."""
from __future__ import annotations

import time

import dash
import dash_ag_grid as dag
import dash_leaflet as dl
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from alerts import api, store
from alerts.lifecycle import SEVERITIES, SEVERITY_ZH, STATE_ZH, InvalidTransition
from cockpit import access, duty_view, job_view
from cockpit.components import duty as parts
from cockpit.components.freshness import as_of, freshness_badge
from cockpit.components.header import header
from cockpit.components.table import GRID_THEME
from cockpit.runtime import current
from cockpit.signin import current_user
from layers import districts as dmap
from layers.city_map import city_map

dash.register_page(__name__, path="/duty", title="值班研判 · 城市运行一网统管")

MAX_ID = 256


def layout(alert: str = "", **_query) -> html.Div:
    s = current().settings
    selected = alert if 0 < len(alert) <= MAX_ID else None
    refresh_ms = int(s.cockpit.refresh_seconds * 1000)
    return html.Div(className="duty", children=[
        header("值班研判", current_user(), freshness_badge("duty", refresh_ms, s.city.timezone)),
        html.Div(className="duty-body", children=[
            html.Div(className="panel duty-queue", children=[
                html.Div(className="duty-filters", children=[
                    html.Div(["预警队列", html.Span(id="duty-count", className="panel-note")], className="panel-title"),
                    dcc.RadioItems(id="duty-view", options=[{"label": v, "value": k} for k, v in duty_view.VIEWS.items()],
                                   value="active", inline=True, className="duty-radio"),
                    dcc.Checklist(id="duty-severity", inline=True, className="duty-radio", value=[],
                                  options=[{"label": html.Span(SEVERITY_ZH[x], className=f"sev sev-{x}"), "value": x}
                                           for x in reversed(SEVERITIES)]),
                ]),
                html.Div(id="duty-system", className="duty-system", role="alert"),
                dag.AgGrid(id="duty-queue", columnDefs=parts.QUEUE_COLUMNS, rowData=[], getRowId="params.data.alert_id",
                           className="duty-grid", style={"height": "100%"},
                           defaultColDef={"sortable": True, "filter": True, "resizable": True},
                           dashGridOptions={"theme": {"function": GRID_THEME}, "rowHeight": 42,
                                            "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                             "enableClickSelection": True},
                                            "localeText": {"noRowsToShow": "暂无预警"}, "animateRows": False}),
            ]),
            html.Div(className="duty-side", children=[
                html.Div(className="panel duty-detail", children=[
                    html.Div(id="duty-detail", children=html.Div("请在左侧选择一条预警", className="empty")),
                    html.Div(className="duty-form", children=[
                        dcc.Input(id="duty-department", placeholder="承办部门（派发必填）", maxLength=128, debounce=False),
                        dcc.Input(id="duty-person", placeholder="承办人", maxLength=64),
                        dcc.Textarea(id="duty-note", placeholder="备注 / 处置说明", maxLength=2000),
                    ]),
                    html.Div(className="duty-actions", children=[
                        html.Button(label, id=f"duty-act-{action}", className=f"act act-{action}", disabled=True)
                        for action, label in duty_view.BUTTONS]),
                    html.Div(id="duty-message", className="duty-message", role="status"),
                ]),
                html.Div(className="panel duty-map", children=[
                    html.Div("位置", className="panel-title"),
                    html.Div(className="map-wrap", children=city_map(
                        "duty", s.city.adcode, overlays=(("预警位置", dl.LayerGroup(id="duty-marker"), True),),
                        tile_url=s.cockpit.tile_url, tile_attribution=s.cockpit.tile_attribution, interactive=True)),
                ]),
                html.Div(className="panel duty-lists", children=[
                    html.Div(id="duty-related"),
                    html.Div(id="duty-history"),
                ]),
            ]),
        ]),
        dcc.Store(id="duty-selected", data=selected),
        dcc.Store(id="duty-changed", data=0),
        dcc.Interval(id="duty-tick", interval=refresh_ms),
    ])


@callback(Output("duty-queue", "rowData"), Output("duty-count", "children"), Output("duty-system", "children"),
          Output("duty-fresh", "data"),
          Input("duty-tick", "n_intervals"), Input("duty-changed", "data"), Input("duty-view", "value"),
          Input("duty-severity", "value"))
def refresh_queue(_n, _changed, view, severities):
    rt = current()
    s = rt.settings
    view = view if view in duty_view.VIEWS else "active"
    severities = [x for x in (severities or []) if x in SEVERITIES]
    now = time.time()
    rows = duty_view.queue(store.current(rt.warehouse), view, severities, _names(s.city.adcode),
                           s.city.timezone, now)
    red = sum(r["severity"] == "red" and r["state"] == "open" for r in rows)
    system = parts.system_items(job_view.problems(job_view.load(rt.warehouse, now), now), s.city.timezone, now)
    return (rows, f"共 {len(rows)} 条" + (f" · 红色待确认 {red} 条" if red else ""), system,
            as_of(now, s.city.timezone))


@callback(Output("duty-selected", "data"), Input("duty-queue", "selectedRows"), prevent_initial_call=True)
def select(rows):
    return rows[0]["alert_id"] if rows else no_update


@callback(Output("duty-detail", "children"), Output("duty-history", "children"), Output("duty-related", "children"),
          Output("duty-marker", "children"), Output("duty-map", "viewport"), Output("duty-districts", "hideout"),
          Output("duty-labels", "data"),
          *[Output(f"duty-act-{action}", "disabled") for action, _ in duty_view.BUTTONS],
          Input("duty-selected", "data"), Input("duty-changed", "data"), Input("duty-tick", "n_intervals"))
def show(alert_id, _changed, _n):
    rt = current()
    s = rt.settings
    alert, log = duty_view.load_alert(rt.warehouse, alert_id) if alert_id else (None, None)
    if alert is None:
        empty = html.Div("请在左侧选择一条预警", className="empty")
        return (empty, None, None, [], no_update, no_update, _names_only(s.city.adcode),
                *[True] * len(duty_view.BUTTONS))
    title, related = duty_view.related(rt.warehouse, alert, rt.files.rules.get(alert["rule_id"]), time.time(), s.city.timezone)
    allowed = duty_view.allowed_actions(alert["state"])
    marker, viewport = _place(alert, s.city.adcode)
    return (parts.detail(alert, _names(s.city.adcode)),
            parts.table("处置记录", ["时间", "操作人", "操作", "状态", "说明"],
                   [[h["time"], h["actor"], h["action"], h["change"], h["extra"]] for h in duty_view.history(log, s.city.timezone)]),
            parts.table(title, ["时间", "对象", "状态", "内容"], [[r["time"], r["what"], r["status"], r["text"]] for r in related]),
            marker, viewport,
            dmap.hideout({}, dmap.class_breaks(0), selected=alert["district_code"] or None),
            _names_only(s.city.adcode), *[action not in allowed for action, _ in duty_view.BUTTONS])


@callback(Output("duty-changed", "data"), Output("duty-message", "children"), Output("duty-note", "value"),
          *[Input(f"duty-act-{action}", "n_clicks") for action, _ in duty_view.BUTTONS],
          State("duty-selected", "data"), State("duty-department", "value"), State("duty-person", "value"),
          State("duty-note", "value"), State("duty-changed", "data"), prevent_initial_call=True)
def act(*args):
    alert_id, department, person, note, changed = args[-5:]
    action = str(ctx.triggered_id or "").removeprefix("duty-act-")
    user = current_user()
    if user is None or not access.may_act(user.role, "alert"):
        return no_update, html.Span("无权操作预警", className="msg-error"), no_update
    if not alert_id or action not in dict(duty_view.BUTTONS):
        return no_update, html.Span("请先选择一条预警", className="msg-error"), no_update
    try:
        after = api.act(current().warehouse, alert_id, action, user.name, note=note or "",
                        department=department or "", person=person or "")
    except InvalidTransition as e:
        return no_update, html.Span(f"未执行：{e}", className="msg-error"), no_update
    label = dict(duty_view.BUTTONS)[action]
    return (changed or 0) + 1, html.Span(f"已{label}，当前状态：{STATE_ZH[after['state']]}", className="msg-ok"), ""


def _names(adcode: str) -> dict[str, str]:
    return {code: name for code, (_, _, name) in dmap.city_anchors(adcode).items()}


def _names_only(adcode: str) -> dict:
    """District labels with names and no values: this map shows where, not how many."""
    doc = dmap.labels(dmap.city_anchors(adcode), {}, "")
    for feature in doc["features"]:
        feature["properties"]["value"] = ""
    return doc


def _place(alert: dict, adcode: str):
    """A marker at the alert's point (or its district's anchor) and the map view on it."""
    lon, lat = alert["lon"], alert["lat"]
    if lon is None or lat is None:
        anchor = dmap.city_anchors(adcode).get(alert["district_code"])
        if anchor is None:
            return [], no_update
        lon, lat = anchor[0], anchor[1]
    return [parts.marker(alert, lon, lat)], {"center": [lat, lon], "zoom": 12, "transition": "flyTo"}
