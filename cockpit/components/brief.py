"""The brief drawn for the page (``/brief``): a ``brief_view.Brief`` → its Dash tree. Text — the reporters'
descriptions and categories included — is always passed as text, never as markup."""
from __future__ import annotations

from dash import html

from cockpit import brief_view
from cockpit.components.kpi import kpi_tile
from cockpit.format import percent


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
    """A KPI tile with its changes under it."""
    changes = [html.Div([f"{d.against} ", html.Span(f"{d.arrow}{d.text}", className=f"delta delta-{d.tone}")],
                        className="brief-delta") for d in k["deltas"]]
    return kpi_tile(k["label"], k["unit"], value=k["value"], sub=k["sub"], help_text=k["help"],
                    tile_id=f"brief-kpi-{k['id']}", tile_class="brief-kpi", value_class="brief-value", extra=changes)


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
