"""The brief as one self-contained HTML file (inline CSS, no scripts, no external resources), laid out for A4 on
white. Every piece of text — the reporter's descriptions and categories included — goes through ``html.escape``."""
from __future__ import annotations

from html import escape

from cockpit.brief_view import Brief, Delta, Period
from cockpit.format import percent

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #111; font-size: 10.5pt; line-height: 1.55;
       font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif; }
main { max-width: 186mm; margin: 0 auto; padding: 6mm 0; }
h1 { font-size: 18pt; margin: 0; letter-spacing: 0.1em; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; border-left: 3pt solid #1763a8; padding-left: 2mm; }
.period { font-size: 13pt; font-weight: 700; margin: 1mm 0; }
.meta, .sub, .note, .cell-id { color: #555; font-size: 9pt; }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; }
.kpi { border: 1px solid #bbb; border-radius: 2mm; padding: 2mm 3mm; break-inside: avoid; }
.kpi .label { color: #444; }
.kpi .value { font-size: 20pt; font-weight: 700; font-variant-numeric: tabular-nums; }
.kpi .unit { font-size: 10pt; color: #555; margin-left: 1mm; font-weight: 400; }
.delta { font-size: 9pt; }
.tone-better { color: #0a7a3e; } .tone-worse { color: #c62828; } .tone-neutral { color: #1763a8; }
.tone-same, .tone-none { color: #555; }
.summary p { margin: 0 0 1.5mm; text-indent: 2em; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; break-inside: auto; }
th, td { border-bottom: 1px solid #ccc; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
td.num, th.num { text-align: right; }
tr { break-inside: avoid; }
.major th:not(:last-child), .major td:not(:last-child) { white-space: nowrap; }
.tag { padding: 0 1.5mm; border-radius: 1mm; font-size: 8.5pt; }
.tag-red-list { background: #b71c1c; color: #fff; } .tag-black-list { background: #111; color: #fff; }
.sev { display: inline-block; width: 2.5mm; height: 2.5mm; border-radius: 50%; margin-right: 1mm; }
.sev-red { background: #ff3b3b; } .sev-orange { background: #ff8c1a; } .sev-yellow { background: #ffd400; }
.sev-blue { background: #2f7bff; } .sev-grey { background: #999; }
.empty { color: #777; }
footer ul { padding-left: 5mm; color: #444; font-size: 9pt; }
"""
TAGS = {"红榜": "tag-red-list", "黑榜": "tag-black-list"}


def e(value) -> str:
    return escape(str(value), quote=True)


def delta_text(d: Delta) -> str:
    return f"{d.against} {d.arrow}{d.text}" if d.arrow else f"{d.against} {d.text}"


def _kpis(brief: Brief) -> str:
    cards = []
    for k in brief.kpis:
        deltas = "".join(f'<div class="delta tone-{e(d.tone)}">{e(delta_text(d))}</div>' for d in k["deltas"])
        cards.append(f'<div class="kpi" title="{e(k["help"])}"><div class="label">{e(k["label"])}</div>'
                     f'<div class="value">{e(k["value"])}<span class="unit">{e(k["unit"])}</span></div>'
                     f'<div class="sub">{e(k["sub"])}</div>{deltas}</div>')
    return f'<section class="kpis">{"".join(cards)}</section>'


def _table(head: list[str], rows: list[list[str]], numeric: set[int], empty: str, css_class: str = "") -> str:
    """A table of already escaped cells; columns in ``numeric`` are right-aligned."""
    if not rows:
        return f'<p class="empty">{e(empty)}</p>'
    align = [' class="num"' if i in numeric else "" for i in range(len(head))]
    header = "".join(f"<th{align[i]}>{e(h)}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f"<td{align[i]}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    table = f' class="{css_class}"' if css_class else ""
    return f"<table{table}><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _shares(title: str, rows: list[dict], empty: str) -> str:
    table = _table(["排名", "名称", "件数", "占比"], [[str(i), e(r["name"]), f"{r['value']:,}", percent(r["share"])]
                                             for i, r in enumerate(rows, 1)], {0, 2, 3}, empty)
    return f"<div><h2>{e(title)}</h2>{table}</div>"


def _cells(brief: Brief) -> str:
    rows = [[e(c["district"]), e(c["category"]), f"{c['value']:,}", f'<span class="cell-id">{e(c["cell"])}</span>']
            for c in brief.cells]
    return f'<h2>热点网格</h2>{_table(["所在区", "主要诉求", "件数", "网格编号（H3）"], rows, {2}, "暂无带位置的受理工单")}'


def _ranking(brief: Brief) -> str:
    rows = []
    for r in brief.ranking:
        tag = f'<span class="tag {TAGS[r["tag"]]}">{e(r["tag"])}</span>' if r["tag"] else ""
        rows.append(["—" if r["rank"] is None else str(r["rank"]), e(r["name"]) + " " + tag,
                     percent(r["on_time"]), f"{r['due']:,}", percent(r["satisfaction"]), f"{r['rated']:,}",
                     f"{r['received']:,}"])
    head = ["排名", "区", "按时办结率", "到期件数", "满意率", "回访件数", "受理件数"]
    return f"<section><h2>各区红黑榜</h2>{_table(head, rows, {0, 2, 3, 4, 5, 6}, '暂无区县数据')}</section>"


def _incidents(brief: Brief) -> str:
    levels = "　".join(f'<span class="sev sev-{e(lv["colour"])}"></span>{e(lv["label"])}（{e(lv["name"])}）'
                      f'{lv["count"]:,} 起' for lv in brief.levels)
    rows = [[e(m["time"]), f'<span class="sev sev-{e(m["colour"])}"></span>{e(m["grade"])}', e(m["district"]),
             e(m["type"]), e(m["status"]), e(m["casualties"]), e(m["description"])] for m in brief.major]
    table = _table(["报告时间", "分级", "区", "类型", "状态", "伤亡", "情况"], rows, set(),
                   "期内无在处置或新发的重大及以上（Ⅰ、Ⅱ级）事件", "major")
    return f"<section><h2>突发事件</h2><p>新发：{levels}</p><h2>重大及以上事件</h2>{table}</section>"


def to_html(brief: Brief, generated: str) -> str:
    """The whole brief as an HTML document; ``generated`` is the local time of the export."""
    summary = "".join(f"<p>{e(s)}</p>" for s in brief.summary)
    notes = "".join(f"<li>{e(n)}</li>" for n in brief.notes)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{e(brief.title)} · {e(brief.period)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header><h1>{e(brief.title)}</h1><p class="period">{e(brief.period)}</p>
<p class="meta">{e(brief.as_of)} · {e(brief.compared)} · 导出于 {e(generated)}</p></header>
{_kpis(brief)}
<section class="summary"><h2>综合研判</h2>{summary}</section>
<section class="columns">{_shares("诉求类别 TOP5", brief.categories, "暂无受理")}
{_shares("受理热点区 TOP5", brief.districts, "暂无受理")}</section>
<section>{_cells(brief)}</section>
{_ranking(brief)}
{_incidents(brief)}
<footer><h2>指标口径</h2><ul>{notes}</ul></footer>
</main>
</body>
</html>
"""


def filename(period: Period) -> str:
    """brief-2026-03-10.html, brief-2026-W11.html (ASCII: every browser keeps it)."""
    return f"brief-{period.key}.html"
