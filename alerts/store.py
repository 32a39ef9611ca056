"""Alerts in the warehouse: snapshots (``alerts``, newest version wins) and the audit log (``alert_actions``).

The only module of ``alerts/`` that reads or writes tables. A change is written as its action first, then the
snapshot: a crash in between leaves the log ahead of the snapshot, never behind it, and the log rebuilds it
(:func:`behind` finds such alerts; the next evaluation cycle brings their snapshots up to their log).
"""
from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from alerts.lifecycle import ACTIVE, Action, Alert
from warehouse import Warehouse
from warehouse.queries import run

SNAPSHOT = ("alert_id", "rule_id", "rule_name", "kind", "subject_type", "subject_id", "subject_name",
            "district_code", "lon", "lat", "state", "severity", "escalations", "auto_escalated", "department",
            "person", "value", "peak", "detail", "first_seen", "last_seen", "updated_at", "version")
ACTION = ("alert_id", "seq", "ts", "actor", "action", "from_state", "to_state", "severity", "note", "department",
          "person", "rule_id")


def utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)


def version() -> int:
    """A version that grows with every write of this process (nanoseconds, made strictly increasing)."""
    global _last
    _last = max(time.time_ns(), _last + 1)
    return _last


_last = 0


def current(wh: Warehouse, *, active_only: bool = False, alert_id: str | None = None) -> pd.DataFrame:
    """The newest snapshot of each alert (columns ``SNAPSHOT``), newest first; only open / acknowledged /
    assigned ones with ``active_only``; one alert with ``alert_id``."""
    where, params = [], {}
    if alert_id is not None:
        where.append("alert_id = {id:String}")
        params["id"] = alert_id
    sql = f"""
SELECT {", ".join(SNAPSHOT)}
FROM (
    SELECT * FROM alerts {"WHERE " + " AND ".join(where) if where else ""}
    ORDER BY alert_id, version DESC
    LIMIT 1 BY alert_id
)
{"WHERE has({active:Array(String)}, state)" if active_only else ""}
ORDER BY last_seen DESC, alert_id"""
    if active_only:
        params["active"] = list(ACTIVE)
    df = run(wh, (sql, params))
    for column in ("lon", "lat"):  # NULL, not NaN, when written back
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df


def actions(wh: Warehouse, alert_id: str | None = None) -> pd.DataFrame:
    """The audit log (columns ``ACTION``) in the order it was written, of one alert or of all."""
    where = "WHERE alert_id = {id:String}" if alert_id is not None else ""
    sql = f"SELECT {', '.join(ACTION)} FROM alert_actions {where} ORDER BY seq, alert_id"
    return run(wh, (sql, {"id": alert_id} if alert_id is not None else {}))


def behind(wh: Warehouse) -> pd.DataFrame:
    """The whole audit log (columns ``ACTION``, in order) of each alert whose log is ahead of its newest snapshot:
    an action logged after it (``seq`` and ``version`` come from the same growing clock), or no snapshot at all."""
    logged = run(wh, ("SELECT alert_id, max(seq) AS seq FROM alert_actions GROUP BY alert_id", {}))
    kept = run(wh, ("SELECT alert_id, max(version) AS version FROM alerts GROUP BY alert_id", {}))
    newest = dict(zip(kept["alert_id"], kept["version"]))
    ids = [a for a, seq in zip(logged["alert_id"], logged["seq"]) if seq > newest.get(a, -1)]
    if not ids:
        return run(wh, (f"SELECT {', '.join(ACTION)} FROM alert_actions LIMIT 0", {}))
    sql = f"SELECT {', '.join(ACTION)} FROM alert_actions WHERE has({{ids:Array(String)}}, alert_id) ORDER BY seq"
    return run(wh, (sql, {"ids": ids}))


def as_actions(log: pd.DataFrame) -> list[Action]:
    """Audit-log rows as lifecycle actions (for :func:`alerts.lifecycle.replay`)."""
    return [Action(r.alert_id, r.action, r.actor, pd.Timestamp(r.ts).timestamp(), note=r.note, rule_id=r.rule_id,
                   severity=r.severity, department=r.department, person=r.person)
            for r in log.itertuples(index=False)]


def as_alert(row) -> Alert:
    """A snapshot row (a mapping or a DataFrame row) as the lifecycle's Alert."""
    return Alert(row["alert_id"], row["rule_id"], row["state"], row["severity"], int(row["escalations"]),
                 row["department"], row["person"])


def write(wh: Warehouse, logged: list[tuple[Action, str, Alert]], snapshots: list[dict]) -> None:
    """Append the actions — (action, the state before, the alert after) each — then the new snapshots."""
    if logged:
        rows = [{"alert_id": a.alert_id, "seq": version(), "ts": utc(a.ts), "actor": a.actor, "action": a.action,
                 "from_state": before, "to_state": after.state, "severity": after.severity, "note": a.note,
                 "department": a.department, "person": a.person, "rule_id": after.rule_id}
                for a, before, after in logged]
        wh.insert_columns("alert_actions", {c: [r[c] for r in rows] for c in ACTION})
    if snapshots:
        for s in snapshots:
            s["version"] = version()
        wh.insert_columns("alerts", {c: [s[c] for s in snapshots] for c in SNAPSHOT})
