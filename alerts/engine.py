"""One evaluation cycle: every rule's query in the warehouse, then the alerts it raises, re-fires, resolves or
escalates.

- A subject whose condition holds and that has no active alert of the rule gets a new one (action ``open``);
  one that has gets its last-seen time, value and peak updated — never a second alert.
- An active alert whose condition has been clear for the rule's ``auto_resolve_minutes`` is resolved by the
  system (``auto_resolve``).
- A red or orange alert still unacknowledged ``escalate_after_minutes`` after it opened escalates by itself,
  once (``escalate`` by the system).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from alerts import store
from alerts.lifecycle import ACTIVE, SYSTEM, Action, Alert, apply, replay
from alerts.rules import Rule
from alerts.sql import condition
from warehouse import Warehouse, WarehouseError
from warehouse.queries import run

log = logging.getLogger(__name__)

RETRY_FIRST = 2.0  # seconds before the first retry of a skipped cycle


@dataclass
class Cycle:
    opened: int = 0
    refired: int = 0
    resolved: int = 0
    escalated: int = 0
    seconds: float = 0.0


def _worse(rule: Rule, a: float, b: float) -> float:
    """The more extreme of two values: the lower one for rules that watch a value falling below a limit."""
    return min(a, b) if rule.op in ("<", "<=") else max(a, b)


def _new(rule: Rule, row, now: float) -> dict:
    value = float(row.value)
    return {"alert_id": f"{rule.id}:{row.subject_id}:{int(now)}", "rule_id": rule.id, "rule_name": rule.name,
            "kind": rule.kind, "subject_type": rule.subject, "subject_id": row.subject_id,
            "subject_name": row.subject_name or "", "district_code": row.district_code or "",
            "lon": None if pd.isna(row.lon) else float(row.lon), "lat": None if pd.isna(row.lat) else float(row.lat),
            "state": "open", "severity": rule.severity, "escalations": 0, "auto_escalated": 0, "department": "",
            "person": "", "value": value, "peak": value, "detail": row.detail or "", "first_seen": store.utc(now),
            "last_seen": store.utc(now), "updated_at": store.utc(now)}


def _change(snapshot: dict, action: Action, logged: list, snapshots: list, **fields) -> None:
    """Apply a system action to a snapshot and queue both for writing."""
    after = apply(store.as_alert(snapshot), action)
    logged.append((action, snapshot["state"], after))
    snapshot.update(state=after.state, severity=after.severity, escalations=after.escalations,
                    updated_at=store.utc(action.ts), **fields)
    snapshots.append(snapshot)


_SUBJECT = ("subject_name", "district_code", "lon", "lat")


def _caught_up(wh: Warehouse, rules: dict[str, Rule], active: dict) -> list[dict]:
    """Snapshots brought up to their log, for alerts whose log is ahead (a cycle or an action cut off between
    its two writes: store.behind): each takes the state its log gives, and ``active`` is corrected to match. An
    alert logged but never snapshotted is rebuilt from its rule and log; its subject's details come with its next
    re-fire. Returns the snapshots to write."""
    trail = store.behind(wh)
    if trail.empty:
        return []
    known = {r["alert_id"]: r for r in store.current(wh).to_dict("records")}
    opened = {r.alert_id: r for r in trail.itertuples(index=False) if r.action == "open"}
    repaired = []
    for alert_id, alert in replay(store.as_actions(trail)).items():
        snapshot = known.get(alert_id) or _rebuilt(rules.get(alert.rule_id), alert, opened[alert_id])
        snapshot.update(state=alert.state, severity=alert.severity, escalations=alert.escalations,
                        department=alert.department, person=alert.person,
                        auto_escalated=int(any((a.action, a.actor) == ("escalate", SYSTEM)
                                               for a in trail.itertuples(index=False) if a.alert_id == alert_id)))
        key = (snapshot["rule_id"], snapshot["subject_id"])
        if alert.state in ACTIVE:
            active[key] = snapshot
        elif key in active and active[key]["alert_id"] == alert_id:
            del active[key]
        repaired.append(snapshot)
    log.warning("alerts brought up to their audit log: %s", ", ".join(s["alert_id"] for s in repaired),
                extra={"fields": {"alerts": len(repaired)}})
    return repaired


def _rebuilt(rule: Rule | None, alert: Alert, opened) -> dict:
    """A snapshot from an alert's rule and its logged opening (``alert_id`` is ``rule:subject:epoch``)."""
    at = pd.Timestamp(opened.ts).timestamp()
    subject = opened.alert_id[len(alert.rule_id) + 1:opened.alert_id.rindex(":")]
    return {"alert_id": opened.alert_id, "rule_id": alert.rule_id, "rule_name": rule.name if rule else alert.rule_id,
            "kind": rule.kind if rule else "", "subject_type": rule.subject if rule else "", "subject_id": subject,
            "subject_name": "", "district_code": "", "lon": None, "lat": None, "state": alert.state,
            "severity": alert.severity, "escalations": alert.escalations, "auto_escalated": 0, "department": "",
            "person": "", "value": 0.0, "peak": 0.0, "detail": opened.note, "first_seen": store.utc(at),
            "last_seen": store.utc(at), "updated_at": store.utc(at), "rebuilt": True}


def evaluate(wh: Warehouse, rules: list[Rule], now: float, *, escalate_after_minutes: float) -> Cycle:
    """One cycle. The rules' queries run first; the active alerts are read only after them, just before the
    decisions are written, so that an action a person takes meanwhile is kept rather than overwritten."""
    started = time.perf_counter()
    cycle = Cycle()
    results = [(rule, run(wh, condition(rule, int(now)))) for rule in rules]
    active = {(r["rule_id"], r["subject_id"]): r for r in store.current(wh, active_only=True).to_dict("records")}
    logged: list[tuple[Action, str, Alert]] = []
    snapshots = _caught_up(wh, {rule.id: rule for rule in rules}, active)
    for rule, firing in results:
        seen = set()
        for row in firing.itertuples(index=False):
            seen.add(row.subject_id)
            snapshot = active.get((rule.id, row.subject_id))
            if snapshot is None:
                snapshot = _new(rule, row, now)
                action = Action(snapshot["alert_id"], "open", SYSTEM, now, note=snapshot["detail"], rule_id=rule.id,
                                severity=rule.severity)
                logged.append((action, "", apply(None, action)))
                snapshots.append(snapshot)
                active[(rule.id, row.subject_id)] = snapshot
                cycle.opened += 1
            else:
                if snapshot.pop("rebuilt", False):  # its subject's details were not logged: take them now
                    fresh = _new(rule, row, now)
                    snapshot.update({k: fresh[k] for k in _SUBJECT}, peak=float(row.value))
                snapshot.update(value=float(row.value), peak=_worse(rule, snapshot["peak"], float(row.value)),
                                detail=row.detail or "", last_seen=store.utc(now), updated_at=store.utc(now))
                snapshots.append(snapshot)
                cycle.refired += 1
        for (rule_id, subject), snapshot in list(active.items()):
            clear_for = now - pd.Timestamp(snapshot["last_seen"]).timestamp()
            if rule_id == rule.id and subject not in seen and clear_for >= rule.auto_resolve_minutes * 60:
                note = f"条件已解除 {clear_for / 60:.0f} 分钟，自动解除"
                _change(snapshot, Action(snapshot["alert_id"], "auto_resolve", SYSTEM, now, note=note), logged,
                        snapshots)
                del active[(rule_id, subject)]
                cycle.resolved += 1
    for snapshot in active.values():
        waited = now - pd.Timestamp(snapshot["first_seen"]).timestamp()
        if (snapshot["state"] == "open" and snapshot["severity"] in ("red", "orange")
                and not snapshot["auto_escalated"] and waited >= escalate_after_minutes * 60):
            note = f"{waited / 60:.0f} 分钟未确认，自动升级"
            _change(snapshot, Action(snapshot["alert_id"], "escalate", SYSTEM, now, note=note), logged, snapshots,
                    auto_escalated=1)
            cycle.escalated += 1
    store.write(wh, logged, list({id(s): s for s in snapshots}.values()))
    cycle.seconds = time.perf_counter() - started
    return cycle


def run_alerts(settings, warehouse: Warehouse, rules: list[Rule], stop: threading.Event, *, delay: float = 0.0,
               report: Callable[[Exception | None], None] | None = None, clock: Callable[[], float] = time.time,
               ) -> None:
    """Evaluate every ``alerts.interval_seconds`` until ``stop``, the first time after ``delay`` seconds.

    A cycle the warehouse cannot run (unreachable, restarting, a query refused) is skipped and logged, and the
    next one tried sooner — after 2 s, doubling up to the interval — until one succeeds; the rules look at
    windows ending at the time of evaluation, so that cycle catches up on what the skipped ones would have
    seen. ``report`` is told after every cycle: None when it succeeded, else the error.
    """
    a = settings.alerts
    failures = 0
    while not stop.wait(delay):
        try:
            cycle = evaluate(warehouse, rules, clock(), escalate_after_minutes=a.escalate_after_minutes)
        except WarehouseError as e:
            failures += 1
            delay = min(a.interval_seconds, RETRY_FIRST * 2 ** (failures - 1))
            log.warning("alert cycle skipped: %s", e, extra={"fields": {
                "job": "alerts", "attempt": failures, "error": type(e).__name__, "retry_in_s": delay}})
            if report:
                report(e)
            continue
        failures, delay = 0, a.interval_seconds
        log.info("alerts evaluated", extra={"fields": {
            "opened": cycle.opened, "refired": cycle.refired, "resolved": cycle.resolved,
            "escalated": cycle.escalated, "ms": round(cycle.seconds * 1000)}})
        if report:
            report(None)
