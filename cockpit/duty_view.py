"""The duty screen's data and pure helpers: the alert queue as grid rows, the actions an alert's state allows,
its audit history and the recent events of its subject."""
from __future__ import annotations

import pandas as pd

from alerts import store
from alerts.api import MANUAL
from alerts.lifecycle import (
    ACTION_ZH,
    ACTIVE,
    SEVERITIES,
    SEVERITY_ZH,
    STATE_ZH,
    TRANSITIONS,
)
from alerts.rules import Rule
from domain.contract import EMERGENCY_STATUS_ZH, EMERGENCY_TYPE_ZH, HOTLINE_STATUS_ZH
from domain.times import epoch, local_time
from warehouse import Warehouse
from warehouse import duty_queries as dq
from warehouse.queries import run

VIEWS = {"active": "处理中", "recent": "近 24 小时全部"}
SUBJECT_ZH = {"station": "站点", "district": "区", "department": "部门", "incident": "事件"}
RELATED_HOURS = 24
BUTTONS = (("acknowledge", "确认"), ("assign", "派发"), ("escalate", "升级"), ("resolve", "处置完毕"),
           ("close", "关闭"), ("note", "添加备注"))
assert {a for a, _ in BUTTONS} == set(MANUAL)


def queue(snapshots: pd.DataFrame, view: str, severities: list[str], names: dict[str, str], tz: str,
          now: float) -> list[dict]:
    """Grid rows, most urgent first: active before the rest, then by severity, then oldest first."""
    if snapshots.empty:
        return []
    rows = []
    for a in snapshots.to_dict("records"):
        active = a["state"] in ACTIVE
        if view == "active" and not active:
            continue
        if view == "recent" and not active and epoch(a["last_seen"]) < now - 86400:
            continue
        if severities and a["severity"] not in severities:
            continue
        first = epoch(a["first_seen"])
        rows.append({
            "alert_id": a["alert_id"], "severity": a["severity"], "severity_zh": SEVERITY_ZH[a["severity"]],
            "state": a["state"], "state_zh": STATE_ZH[a["state"]], "rule": a["rule_name"],
            "subject": subject_label(a), "district": names.get(a["district_code"], ""),
            "value": _number(a["value"]), "peak": _number(a["peak"]),
            "first_seen": local_time(first, tz, "%m-%d %H:%M"), "minutes": int(max(0, now - first) // 60),
            "owner": " / ".join(x for x in (a["department"], a["person"]) if x),
            "escalations": int(a["escalations"]), "_rank": (not active, -SEVERITIES.index(a["severity"]), first),
        })
    rows.sort(key=lambda r: r["_rank"])
    for r in rows:
        del r["_rank"]
    return rows


def subject_label(alert: dict) -> str:
    """What an alert watches, in words: an incident by its type and id, others by name."""
    name = alert["subject_name"] or alert["subject_id"]
    if alert["subject_type"] == "incident":
        return f"{EMERGENCY_TYPE_ZH.get(name, name)} {alert['subject_id']}"
    return name


def allowed_actions(state: str) -> set[str]:
    """The people's actions the lifecycle allows from ``state``."""
    return {a for a in MANUAL if state in TRANSITIONS[a][0]}


def history(actions: pd.DataFrame, tz: str) -> list[dict]:
    """The audit log of one alert, oldest first, in words."""
    out = []
    for a in actions.to_dict("records"):
        change = (f"{STATE_ZH.get(a['from_state'], a['from_state'] or '—')} → {STATE_ZH.get(a['to_state'], a['to_state'])}"
                  if a["from_state"] != a["to_state"] else STATE_ZH.get(a["to_state"], a["to_state"]))
        extra = " / ".join(x for x in (a["department"], a["person"], a["note"]) if x)
        out.append({"time": local_time(a["ts"], tz, "%m-%d %H:%M:%S"), "actor": a["actor"],
                    "action": ACTION_ZH.get(a["action"], a["action"]), "change": change,
                    "severity": SEVERITY_ZH.get(a["severity"], ""), "extra": extra})
    return out


def related(wh: Warehouse, alert: dict, rule: Rule | None, now: float, tz: str) -> tuple[str, list[dict]]:
    """(title, rows of time, what, status, text) of the alert subject's recent events."""
    since = int(now) - RELATED_HOURS * 3600
    kind, key = alert["subject_type"], alert["subject_id"]
    if kind == "station" and rule is not None and rule.source in dq.READINGS:
        title, query = f"站点最近读数（{rule.metric}）", dq.station_readings(rule.source, rule.metric, key, since)
    elif kind == "incident":
        title, query = "事件进展", dq.incident_events(key)
    elif kind == "department":
        title, query = "该部门最近工单动态", dq.department_orders(key, since)
    elif kind == "district":
        title, query = "该区最近工单动态", dq.district_orders(alert["district_code"] or key, since)
    else:
        return "相关事件", []
    statuses = {**HOTLINE_STATUS_ZH, **EMERGENCY_STATUS_ZH}
    rows = [{"time": local_time(r["ts"], tz, "%m-%d %H:%M"), "what": r["what"],
             "status": statuses.get(r["status"], r["status"]), "text": r["text"]} for r in run(wh, query).to_dict("records")]
    return title, rows


def load_alert(wh: Warehouse, alert_id: str) -> tuple[dict | None, pd.DataFrame]:
    """One alert's snapshot (None if unknown) and its audit log."""
    found = store.current(wh, alert_id=alert_id).to_dict("records")
    return (found[0] if found else None), store.actions(wh, alert_id)


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)
