"""The brief's written summary: 3–5 short Chinese sentences made only from the numbers passed in — every figure
is one of them, formatted as the page shows it; what is missing is said to be missing (暂无数据), never guessed.

Inputs are those of cockpit.brief_view: ``Numbers`` of the period and the previous one, lists of
``{"name", "value", "share"}`` (categories, districts), ranking rows (``name``, ``on_time``, ``satisfaction``,
``rank``) and major incident rows (``district``, ``type``, ``grade``, ``status``, ``open``).
"""
from __future__ import annotations

from cockpit.format import percent
from domain.contract import LEVEL_GRADE_ZH
from warehouse.brief_queries import Numbers

GRADE_NAMES = (*LEVEL_GRADE_ZH.items(), ("", "未定级"))
LISTED = 3  # entries named per list


def count_change(current: int, previous: int | None, against: str, unit: str = "") -> str:
    """'较前一日上升 12.5%' ('增加 2 起' with a unit); '' when there is nothing to compare with."""
    if previous is None:
        return ""
    if current == previous:
        return f"与{against}持平"
    if unit:
        return f"较{against}{'增加' if current > previous else '减少'} {abs(current - previous):,} {unit}"
    if not previous:
        return f"{against}为 0"
    return f"较{against}{'上升' if current > previous else '下降'} {abs(current - previous) / previous * 100:.1f}%"


def rate_change(current: float | None, previous: float | None, against: str) -> str:
    """'较前一日提高 1.2 个百分点'; '' when either rate is missing."""
    if current is None or previous is None:
        return ""
    points = round((current - previous) * 100, 1)
    if points == 0:
        return f"与{against}持平"
    return f"较{against}{'提高' if points > 0 else '降低'} {abs(points):.1f} 个百分点"


def _joined(parts: list[str]) -> str:
    """A、B和C."""
    return parts[0] if len(parts) == 1 else "、".join(parts[:-1]) + "和" + parts[-1]


def volume(label: str, now: Numbers, before: Numbers | None, against: str) -> str:
    if not now.received and not now.completed:
        earlier = f"（{against}受理 {before.received:,} 件）" if before and before.received else ""
        return f"{label}，全市暂无 12345 热线工单受理和办结数据{earlier}。"
    change = count_change(now.received, before.received if before else None, against)
    return (f"{label}，全市受理 12345 热线工单 {now.received:,} 件、办结 {now.completed:,} 件"
            + (f"，受理量{change}" if change else "") + "。")


def rates(now: Numbers, before: Numbers | None, against: str) -> str:
    on_time = _rate("按时办结率", now.on_time_rate, before.on_time_rate if before else None, against,
                    f"到期 {now.due:,} 件，按时办结 {now.due_on_time:,} 件", "统计期内无到期工单")
    satisfaction = _rate("满意率", now.satisfaction_rate, before.satisfaction_rate if before else None, against,
                         f"有效回访 {now.rated:,} 件", "统计期内无有效回访")
    overdue = f"统计期末超期在办工单 {now.overdue_open:,} 件" if now.overdue_open else "统计期末无超期在办工单"
    return f"{on_time}；{satisfaction}；{overdue}。"


def _rate(label: str, value: float | None, before: float | None, against: str, detail: str, missing: str) -> str:
    """One rate with its counts and its change, or why there is none."""
    if value is None:
        return f"{label}暂无数据（{missing}）"
    change = rate_change(value, before, against)
    return f"{label} {percent(value)}（{detail}）" + (f"，{change}" if change else "")


def hotspots(categories: list[dict], districts: list[dict]) -> str:
    """'' when nothing was received."""
    parts = []
    if categories:
        parts.append("诉求最集中的类别是" + _joined([f"{c['name']}（{c['value']:,} 件，占 {percent(c['share'])}）"
                                                  for c in categories[:LISTED]]))
    if districts:
        parts.append("受理量最多的区是" + _joined([f"{d['name']}（{d['value']:,} 件）" for d in districts[:LISTED]]))
    return "；".join(parts) + "。" if parts else ""


def _extremes(rows: list[dict], key: str, title: str) -> str:
    rated = [r for r in rows if r[key] is not None]
    if not rated:
        return ""
    best, worst = max(rated, key=lambda r: r[key]), min(reversed(rated), key=lambda r: r[key])
    if len(rated) == 1:
        return f"仅{best['name']}有{title}数据（{percent(best[key])}）"
    if percent(best[key]) == percent(worst[key]):
        return f"有{title}数据的 {len(rated)} 个区均为 {percent(best[key])}"
    return f"{title}以{best['name']}最高（{percent(best[key])}），{worst['name']}最低（{percent(worst[key])}）"


def ranking(rows: list[dict]) -> str:
    """'' when no district had an order due. Ties keep the ranking's order (best first)."""
    ranked = [r for r in rows if r.get("rank")]
    parts = [p for p in (_extremes(ranked, "on_time", "按时办结率"), _extremes(ranked, "satisfaction", "满意率")) if p]
    return "各区中，" + "；".join(parts) + "。" if parts else ""


def incidents(now: Numbers, before: Numbers | None, against: str, major: list[dict]) -> str:
    if now.incidents_total:
        grades = "、".join(f"{name} {now.incidents[g]:,} 起" for g, name in GRADE_NAMES if now.incidents.get(g))
        change = count_change(now.incidents_total, before.incidents_total if before else None, against, "起")
        text = f"统计期内新发突发事件 {now.incidents_total:,} 起（{grades}）" + (f"，{change}" if change else "")
    else:
        text = "统计期内无新发突发事件记录"
    if not major:
        return text + "；期内无在处置或新发的重大及以上（Ⅰ、Ⅱ级）事件。"
    listed = [f"{m['district']}{m['type']}（{m['grade']}，{m['status']}）" for m in major[:LISTED]]
    more = f"等 {len(major):,} 起" if len(major) > LISTED else ""
    return text + f"；期内在处置或新发的重大及以上事件：{_joined(listed)}{more}。"


def summary(label: str, now: Numbers, before: Numbers | None, against: str, categories: list[dict],
            districts: list[dict], ranking_rows: list[dict], major: list[dict]) -> list[str]:
    """The brief's sentences for the period ``label`` compared with ``against`` (the previous period)."""
    sentences = [volume(label, now, before, against), rates(now, before, against), hotspots(categories, districts),
                 ranking(ranking_rows), incidents(now, before, against, major)]
    return [s for s in sentences if s]
