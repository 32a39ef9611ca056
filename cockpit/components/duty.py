"""The duty screen's parts: the queue's columns, system items, an alert's detail, its marker and the tables of
its history and related events (text passed as text)."""
from __future__ import annotations

import dash_leaflet as dl
from dash import html

from alerts.lifecycle import SEVERITIES, SEVERITY_ZH, STATE_ZH
from cockpit import duty_view, job_view
from layers.palette import severity_color

QUEUE_COLUMNS = [
    {"field": "severity_zh", "headerName": "级别", "width": 90, "cellClassRules": {
        f"sev-cell sev-{s}": f"params.data.severity === '{s}'" for s in SEVERITIES}},
    {"field": "state_zh", "headerName": "状态", "width": 96},
    {"field": "rule", "headerName": "预警规则", "flex": 2, "minWidth": 150},
    {"field": "subject", "headerName": "对象", "flex": 2, "minWidth": 130},
    {"field": "district", "headerName": "区", "width": 96},
    {"field": "peak", "headerName": "峰值", "width": 90, "type": "numericColumn"},
    {"field": "first_seen", "headerName": "首次发现", "width": 120},
    {"field": "minutes", "headerName": "持续(分)", "width": 104, "type": "numericColumn"},
    {"field": "owner", "headerName": "承办", "flex": 1, "minWidth": 110},
]


def system_items(problems: list[dict], timezone: str, now: float) -> list:
    """A job in trouble heads the queue as a system item: alerting itself may be failing (预警计算中断)."""
    return [html.Div(className="system-item", children=[
        html.Span("系统", className="sev sev-red"), html.Span(job_view.describe(p, timezone, now), className="t-rule"),
        html.Span(job_view.detail(p), className="t-text")]) for p in problems]


def detail(alert: dict, names: dict[str, str]) -> list:
    """The alert's rule, text and facts."""
    sev = alert["severity"]
    facts = [("对象", f"{duty_view.SUBJECT_ZH.get(alert['subject_type'], '')} {duty_view.subject_label(alert)}"),
             ("所在区", names.get(alert["district_code"], "—")), ("状态", STATE_ZH[alert["state"]]),
             ("当前值 / 峰值", f"{alert['value']:g} / {alert['peak']:g}"),
             ("承办", " / ".join(x for x in (alert["department"], alert["person"]) if x) or "—"),
             ("已上报上级", f"{int(alert['escalations'])} 级" if alert["escalations"] else "—")]
    return [html.Div(className="duty-title", children=[html.Span(SEVERITY_ZH[sev], className=f"sev sev-{sev}"),
                                                       html.Span(alert["rule_name"])]),
            html.Div(alert["detail"], className="duty-text"),
            html.Dl(className="duty-facts", children=[x for k, v in facts for x in (html.Dt(k), html.Dd(v))])]


def marker(alert: dict, lon: float, lat: float) -> dl.CircleMarker:
    """The alert on the map, coloured by its severity, its subject on hover."""
    return dl.CircleMarker(center=[lat, lon], radius=12, color="#ffffff", weight=2, fillOpacity=0.9,
                           fillColor=severity_color(SEVERITIES.index(alert["severity"]) + 1), pane="pointPane",
                           children=dl.Tooltip(duty_view.subject_label(alert)))


def table(title: str, head: list[str], rows: list[list]) -> list:
    """A titled table of text cells; 暂无 when it has no rows."""
    body = [html.Tr([html.Td(str(cell)) for cell in row]) for row in rows] or [
        html.Tr(html.Td("暂无", colSpan=len(head), className="empty"))]
    return [html.Div(title, className="panel-title"),
            html.Table(className="duty-table", children=[html.Thead(html.Tr([html.Th(h) for h in head])),
                                                         html.Tbody(body)])]
