"""An alert's lifecycle as a pure state machine: open → acknowledged → assigned → resolved → closed, plus
escalate (severity one step up, or the next level notified at red) and notes.

Every change is an :class:`Action`; :func:`apply` checks it against the current :class:`Alert` and returns the
alert after it, or raises :class:`InvalidTransition` (nothing changes). The audit log is the list of actions, so
``replay(actions)`` rebuilds the current state, exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

STATES = ("open", "acknowledged", "assigned", "resolved", "closed")
STATE_ZH = {"open": "待确认", "acknowledged": "已确认", "assigned": "已派发", "resolved": "已处置", "closed": "已关闭"}
SEVERITIES = ("blue", "yellow", "orange", "red")  # 四级 … 一级; red is the most severe
SEVERITY_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
ACTIVE = ("open", "acknowledged", "assigned")
SYSTEM = "system"

# action → states it may be taken from; its target state (None: stays where it is)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "open": ((), "open"),  # the evaluator raises an alert: from nothing
    "acknowledge": (("open",), "acknowledged"),
    "assign": (("acknowledged", "assigned"), "assigned"),
    "escalate": (ACTIVE, None),
    "note": (ACTIVE + ("resolved",), None),
    "resolve": (ACTIVE, "resolved"),
    "auto_resolve": (ACTIVE, "resolved"),
    "close": (("resolved",), "closed"),
}
ACTION_ZH = {"open": "触发", "acknowledge": "确认", "assign": "派发", "escalate": "升级", "note": "备注",
             "resolve": "处置完毕", "auto_resolve": "自动解除", "close": "关闭"}


class InvalidTransition(ValueError):
    """An action that the alert's state does not allow; the message says which and why."""


@dataclass(frozen=True)
class Alert:
    alert_id: str
    rule_id: str
    state: str
    severity: str
    escalations: int = 0  # levels notified above the duty officer
    department: str = ""
    person: str = ""


@dataclass(frozen=True)
class Action:
    alert_id: str
    action: str
    actor: str
    ts: float  # epoch seconds
    note: str = ""
    rule_id: str = ""  # open only
    severity: str = ""  # open only: the rule's severity
    department: str = ""  # assign only
    person: str = ""  # assign only


def apply(alert: Alert | None, action: Action) -> Alert:
    """The alert after ``action``; InvalidTransition when its state does not allow it."""
    if action.action not in TRANSITIONS:
        raise InvalidTransition(f"unknown action {action.action!r}; one of {', '.join(TRANSITIONS)}")
    allowed, target = TRANSITIONS[action.action]
    if action.action == "open":
        if alert is not None:
            raise InvalidTransition(f"alert {action.alert_id} is already raised")
        if action.severity not in SEVERITIES:
            raise InvalidTransition(f"severity {action.severity!r} is not one of {', '.join(SEVERITIES)}")
        return Alert(action.alert_id, action.rule_id, "open", action.severity)
    if alert is None:
        raise InvalidTransition(f"no alert {action.alert_id}")
    if alert.state not in allowed:
        zh = ACTION_ZH[action.action]
        raise InvalidTransition(f"alert {alert.alert_id} is {alert.state} ({STATE_ZH[alert.state]}): "
                                f"cannot {action.action} ({zh}); allowed from {', '.join(allowed)}")
    if action.action == "assign":
        if not action.department.strip():
            raise InvalidTransition(f"assign {alert.alert_id}: a department is required")
        return replace(alert, state="assigned", department=action.department.strip(), person=action.person.strip())
    if action.action == "note" and not action.note.strip():
        raise InvalidTransition(f"note on {alert.alert_id}: the note is empty")
    if action.action == "escalate":
        return escalated(alert)
    return replace(alert, state=target or alert.state)


def escalated(alert: Alert) -> Alert:
    """Severity one step up; at red, the next level is notified instead."""
    i = SEVERITIES.index(alert.severity)
    if i < len(SEVERITIES) - 1:
        return replace(alert, severity=SEVERITIES[i + 1])
    return replace(alert, escalations=alert.escalations + 1)


def replay(actions: list[Action]) -> dict[str, Alert]:
    """alert_id → the alert as its actions (in time order) leave it."""
    alerts: dict[str, Alert] = {}
    for action in actions:
        alerts[action.alert_id] = apply(alerts.get(action.alert_id), action)
    return alerts
