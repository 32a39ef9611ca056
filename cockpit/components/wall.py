"""The wall's parts: panels, the job alarms in its header, the station legend, the ranking bars and the two
tickers, from the plain values of cockpit.wall_view (text passed as text)."""
from __future__ import annotations

from dash import html

from cockpit import job_view
from layers import districts as dmap
from layers import palette, stations


def panel(title: str, body, note: str = "") -> html.Div:
    heading = [title, html.Span(note, className="panel-note")] if note else [title]
    return html.Div(className="panel", children=[html.Div(heading, className="panel-title"), body])


def job_alarms(problems: list[dict], timezone: str, now: float) -> list:
    """A red chip per job in trouble (预警计算中断 12:03 起), its detail on hover; none when all run."""
    return [html.Span(job_view.describe(p, timezone, now), className="job-alarm", title=job_view.detail(p))
            for p in problems]


def station_legend() -> list:
    """The station colours that matter from 5 m: red, orange, normal and offline (the map page has them all)."""
    wanted = (palette.SEVERITY[4][0], palette.SEVERITY[3][0], palette.OK, palette.SILENT)
    items = [(colour, label.split(" · ")[0] + (" 等" if " · " in label else ""))
             for colour, label in stations.legend_items() if colour in wanted]
    return dmap.legend("监测站点", items)


def alert_rows(items: list[dict]) -> list:
    if not items:
        return [html.Li("暂无活动预警", className="empty")]
    return [html.Li(className=f"alert-item alert-{it['severity']}", children=[
        html.Div([html.Span(it["severity_zh"], className=f"sev sev-{it['severity']}"),
                  html.Span(it["time"], className="t-time"), html.Span(it["district"], className="t-district")]),
        html.Div(f"{it['rule']} · {it['subject']}", className="t-text", title=f"{it['rule']} · {it['subject']}")])
        for it in items]


def ranking_rows(rows: list[tuple[str, int, float]], empty_text: str) -> list:
    if not rows:
        return [html.Div(empty_text, className="empty")]
    return [html.Div(className="rank-row", children=[
        html.Span(str(i), className="rank-no"), html.Span(name),
        html.Div(html.Div(className="rank-bar", style={"width": f"{share * 100:.1f}%"})),
        html.Span(f"{value:,}", className="rank-value")]) for i, (name, value, share) in enumerate(rows, 1)]


def ticker_rows(items: list[dict]) -> list:
    if not items:
        return [html.Li("暂无新工单", className="empty")]
    return [html.Li([html.Div([html.Span(it["time"], className="t-time"),
                               html.Span(it["district"], className="t-district"),
                               html.Span(it["category"], className="t-category"),
                               html.Span("紧急", className="t-urgent") if it["urgent"] else None]),
                     html.Div(it["text"], className="t-text", title=it["text"])]) for it in items]
