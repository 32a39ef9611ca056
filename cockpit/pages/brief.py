"""/brief — 领导驾驶舱: a decision summary of a day or a week (``/brief?day=2026-03-10``, ``/brief?week=2026-W11``).
The URL is the state: the picker rewrites it and the page is drawn again. Everything shown comes from one
``brief_view.Brief``; the export button downloads the same brief as a self-contained HTML file."""
from __future__ import annotations

import time

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from cockpit import brief_export, brief_view
from cockpit.components.brief import content
from cockpit.components.freshness import as_of, freshness_badge
from cockpit.components.header import header
from cockpit.recent import Recent
from cockpit.runtime import current
from cockpit.signin import current_user
from domain.districts import city_boundaries
from domain.times import local_time
from layers import districts as dmap
from warehouse.brief_queries import load_brief

dash.register_page(__name__, path="/brief", title="领导驾驶舱 · 城市运行一网统管")

REFRESH_MS = 5 * 60 * 1000  # a running period is drawn again every 5 minutes
BRIEFS = Recent()


def layout(day=None, week=None, **_query) -> html.Div:
    now, tz = time.time(), current().settings.city.timezone
    period, error = brief_view.parse_period(day, week, now=now, tz=tz)
    running = period.bounds(tz)[1] > now
    return html.Div(className="brief", children=[
        header("领导驾驶舱", current_user(), freshness_badge("brief", REFRESH_MS if running else 0, tz)),
        controls(period, now, tz),
        html.Div(error, id="brief-message", className="brief-message", role="alert") if error else None,
        dcc.Loading(html.Div(id="brief-content", className="brief-content"), type="dot", color="#39c5ff"),
        dcc.Store(id="brief-period", data={"kind": period.kind, "key": period.key}),
        dcc.Location(id="brief-url", refresh="callback-nav"),
        dcc.Download(id="brief-download"),
        dcc.Interval(id="brief-tick", interval=REFRESH_MS, disabled=not running),
    ])


def controls(period: brief_view.Period, now: float, tz: str) -> html.Div:
    """Day or week, a date (any day of the week for a week), the previous and next period, export and print."""
    earlier, later = brief_view.neighbours(period, now, tz)
    return html.Div(className="brief-controls", children=[
        dcc.RadioItems(id="brief-kind", className="metric-choice brief-kind", value=period.kind, inline=True,
                       options=[{"label": "按日", "value": "day"}, {"label": "按周", "value": "week"}]),
        dcc.DatePickerSingle(id="brief-date", date=period.first.isoformat(), display_format="YYYY-MM-DD",
                             max_date_allowed=brief_view.local_today(now, tz).isoformat(), first_day_of_week=1,
                             clearable=False, className="brief-date"),
        dcc.Link("‹ 上一期", href=f"/brief{earlier}", className="brief-step", id="brief-earlier"),
        (dcc.Link("下一期 ›", href=f"/brief{later}", className="brief-step", id="brief-later") if later
         else html.Span("下一期 ›", className="brief-step brief-step-off", id="brief-later")),
        html.Div(className="brief-actions", children=[
            html.Button("导出 HTML", id="brief-export", className="brief-button", title="下载可离线查看、打印的简报文件"),
            html.Button("打印", id="brief-print", className="brief-button"),
        ]),
    ])


def city_name() -> str:
    return city_boundaries(current().settings.city.adcode).get("name", "")


def make_brief(stored) -> tuple[brief_view.Brief, brief_view.Period]:
    """The brief of the period in the page's store (client data: parsed again, bad values give today)."""
    rt = current()
    s = rt.settings
    now, tz = time.time(), s.city.timezone
    period = brief_view.stored_period(stored, now, tz)
    start, end = period.bounds(tz)
    # a finished period changes only by late events: kept an hour; a running one recomputed in the background
    ttl = 3600.0 if end <= now else s.cockpit.slow_refresh_seconds
    data = BRIEFS.get((rt.warehouse.url, start, end), lambda: load_brief(rt.warehouse, start, end, tz, time.time()), ttl)
    names = {code: name for code, (_, _, name) in dmap.city_anchors(s.city.adcode).items()}
    return brief_view.build(data, period, names, city_name(), tz), period


@callback(Output("brief-url", "search"), Input("brief-kind", "value"), Input("brief-date", "date"),
          prevent_initial_call=True)
def choose(kind, date):
    return brief_view.picker_query(kind, date, time.time(), current().settings.city.timezone)


@callback(Output("brief-content", "children"), Output("brief-fresh", "data"), Input("brief-period", "data"),
          Input("brief-tick", "n_intervals"))
def render(stored, _n):
    brief, _ = make_brief(stored)  # a warehouse outage: cockpit.errors says so on the badge, the brief shown stays
    return content(brief), as_of(time.time(), current().settings.city.timezone)


@callback(Output("brief-download", "data"), Input("brief-export", "n_clicks"), State("brief-period", "data"),
          prevent_initial_call=True)
def export(_clicks, stored):
    brief, period = make_brief(stored)
    generated = local_time(time.time(), current().settings.city.timezone)
    return dcc.send_string(brief_export.to_html(brief, generated), brief_export.filename(period), type="text/html")


clientside_callback(
    "function(n) { if (n) { window.print(); } return window.dash_clientside.no_update; }",
    Output("brief-print", "title"), Input("brief-print", "n_clicks"), prevent_initial_call=True,
)
