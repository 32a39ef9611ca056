"""/brief — 领导驾驶舱: a decision summary of a day or a week (``/brief?day=2026-03-10``, ``/brief?week=2026-W11``).
The URL is the state: the picker rewrites it and the page is drawn again. Everything shown comes from one
``brief_view.Brief``; the export button downloads the same brief as a self-contained HTML file."""
from __future__ import annotations

import time

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from cockpit import brief_export, brief_view
from cockpit.components.freshness import as_of, freshness_badge
from cockpit.components.header import header
from cockpit.format import percent
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


# --- drawing the brief (text is always passed as text, never as markup) -------------------------------------------

def content(brief: brief_view.Brief) -> list:
    return [
        html.Div(className="brief-title", children=[
            html.H1(brief.title), html.Div(brief.period, className="brief-period"),
            html.Div(f"{brief.as_of} · {brief.compared}", className="brief-meta"),
        ]),
        html.Div([kpi_card(k) for k in brief.kpis], className="brief-kpis"),
        section("综合研判", [html.P(s) for s in brief.summary], "brief-summary", note="由统计数据自动生成"),
        html.Div(className="brief-grid", children=[
            section("诉求类别 TOP5", share_rows(brief.categories, "暂无受理"), note="受理件数 · 占比"),
            section("受理热点区 TOP5", share_rows(brief.districts, "暂无受理"), note="受理件数 · 占比"),
            section("热点网格", cell_rows(brief.cells), note="H3 网格（约 0.7 平方公里）"),
            section("突发事件", incident_block(brief), note="新发件数（分级以统计期末为准）"),
        ]),
        section("各区红黑榜", ranking_table(brief.ranking), "brief-ranking",
                note="按按时办结率排序，相同时比较满意率"),
        section("指标口径", html.Ul([html.Li(n) for n in brief.notes]), "brief-notes"),
    ]


def section(title: str, body, extra_class: str = "", note: str = "") -> html.Div:
    heading = [title, html.Span(note, className="panel-note")] if note else [title]
    return html.Div(className=f"panel brief-panel {extra_class}".strip(),
                    children=[html.Div(heading, className="panel-title"), html.Div(body)])


def kpi_card(k: dict) -> html.Div:
    return html.Div(id=f"brief-kpi-{k['id']}", className="kpi brief-kpi", title=k["help"], children=[
        html.Div(k["label"], className="kpi-label"),
        html.Div([html.Span(k["value"], className="brief-value"), html.Span(k["unit"], className="kpi-unit")],
                 className="kpi-value"),
        html.Div(k["sub"], className="kpi-sub"),
        *[html.Div([f"{d.against} ", html.Span(f"{d.arrow}{d.text}", className=f"delta delta-{d.tone}")],
                   className="brief-delta") for d in k["deltas"]],
    ])


def share_rows(rows: list[dict], empty: str) -> list:
    if not rows:
        return [html.Div(empty, className="empty")]
    return [html.Div(className="rank-row brief-rank-row", children=[
        html.Span(str(i), className="rank-no"), html.Span(r["name"], title=r["name"]),
        html.Div(html.Div(className="rank-bar", style={"width": f"{r['bar'] * 100:.1f}%"})),
        html.Span(f"{r['value']:,}", className="rank-value"),
        html.Span(percent(r["share"]), className="rank-value brief-share"),
    ]) for i, r in enumerate(rows, 1)]


def cell_rows(cells: list[dict]) -> list:
    if not cells:
        return [html.Div("暂无带位置的受理工单", className="empty")]
    return [html.Div(className="brief-cell", children=[
        html.Span(str(i), className="rank-no"), html.Span(c["district"], className="brief-cell-district"),
        html.Span(f"{c['category']}为主", className="brief-cell-category"),
        html.Span(f"{c['value']:,} 件", className="rank-value"),
        html.Span(c["cell"], className="brief-cell-id"),
    ]) for i, c in enumerate(cells, 1)]


def incident_block(brief: brief_view.Brief) -> list:
    levels = html.Div([level_tile(lv) for lv in brief.levels], className="brief-levels")
    if not brief.major:
        return [levels, html.Div("期内无在处置或新发的重大及以上（Ⅰ、Ⅱ级）事件", className="empty")]
    return [levels, html.Div("重大及以上事件", className="brief-subtitle"),
            html.Ul([major_item(m) for m in brief.major], className="brief-major")]


def level_tile(lv: dict) -> html.Div:
    return html.Div(className=f"brief-level brief-level-{lv['colour']}", children=[
        html.Div(lv["label"], className="brief-level-label"),
        html.Div(f"{lv['count']:,}", className="brief-level-count"),
        html.Div(lv["name"], className="brief-level-name")])


def major_item(m: dict) -> html.Li:
    return html.Li(className=f"brief-major-{m['colour']}", children=[
        html.Div([html.Span(m["grade"], className=f"brief-chip brief-chip-{m['colour']}"),
                  html.Span(m["time"], className="t-time"), html.Span(m["district"], className="t-district"),
                  html.Span(m["type"]), html.Span(m["status"], className="brief-open" if m["open"] else "muted"),
                  html.Span(f"伤亡 {m['casualties']}", className="muted")]),
        html.Div(m["description"], className="t-text", title=m["description"]) if m["description"] else None,
    ])


def ranking_table(rows: list[dict]) -> html.Table:
    head = ["排名", "区", "按时办结率", "到期件数", "满意率", "回访件数", "受理件数"]
    return html.Table(className="brief-table", children=[
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody([html.Tr(className=f"brief-tag-{'red' if r['tag'] == '红榜' else 'black' if r['tag'] else 'none'}",
                            children=[
            html.Td("—" if r["rank"] is None else str(r["rank"])),
            html.Td([r["name"], html.Span(r["tag"], className="brief-tag") if r["tag"] else None]),
            html.Td(percent(r["on_time"])), html.Td(f"{r['due']:,}"),
            html.Td(percent(r["satisfaction"])), html.Td(f"{r['rated']:,}"),
            html.Td(f"{r['received']:,}")]) for r in rows]),
    ])
