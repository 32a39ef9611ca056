"""The one way people change alerts (the duty screen calls it): check the action against the alert's state,
append it to the audit log, write the new snapshot. An invalid action raises and changes nothing. What people
typed (note, department, person) is made plain text here, where it enters (``alerts.text``)."""
from __future__ import annotations

import time

from alerts import store
from alerts.lifecycle import Action, InvalidTransition, apply
from alerts.text import plain_text
from warehouse import Warehouse

MANUAL = ("acknowledge", "assign", "escalate", "note", "resolve", "close")
LIMITS = {"actor": 64, "note": 2000, "department": 128, "person": 64}


def act(wh: Warehouse, alert_id: str, action: str, actor: str, *, note: str = "", department: str = "",
        person: str = "", now: float | None = None) -> dict:
    """Take ``action`` on an alert as ``actor``; returns the new snapshot. InvalidTransition (a ValueError) when
    the input or the alert's state does not allow it. Control and format characters are dropped from the note
    (its line breaks kept), the department and the person before they are checked and stored."""
    if action not in MANUAL:
        raise InvalidTransition(f"{action!r} is not an action people take; one of {', '.join(MANUAL)}")
    fields = {"note": plain_text(note, newlines=True).strip(),
              "department": plain_text(department, newlines=False).strip(),
              "person": plain_text(person, newlines=False).strip()}
    actor = actor.strip()
    if not actor:
        raise InvalidTransition("who takes the action must be named")
    for name, value in (("actor", actor), *fields.items()):
        if len(value) > LIMITS[name]:
            raise InvalidTransition(f"{name} is longer than {LIMITS[name]} characters")
    found = store.current(wh, alert_id=alert_id).to_dict("records")
    if not found:
        raise InvalidTransition(f"no alert {alert_id!r}")
    snapshot, before = found[0], found[0]["state"]
    now = time.time() if now is None else now
    step = Action(alert_id, action, actor, now, **fields)
    after = apply(store.as_alert(snapshot), step)
    snapshot.update(state=after.state, severity=after.severity, escalations=after.escalations,
                    department=after.department, person=after.person, updated_at=store.utc(now))
    store.write(wh, [(step, before, after)], [snapshot])
    return snapshot
