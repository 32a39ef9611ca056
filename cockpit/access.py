"""Who may see and do what: pure rules, applied by ``cockpit.signin`` on the server for every request.

A screen's Dash components carry ids starting with the screen's name (``duty-queue``, ``wall-kpi-open``), so the
server can tell which screen a callback belongs to from its outputs alone and refuse it to a role that may not
open that screen; an id of no known screen is refused to everyone but admin (fail closed).
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from cockpit.users import ROLES

EVERYONE = ROLES
SCREENS = {  # the first path segment (and component id prefix) → the roles that may open it
    "wall": EVERYONE,
    "map": EVERYONE,
    "duty": ("duty", "admin"),
    "brief": ("leader", "admin"),
    "analysis": ("analyst", "leader", "admin"),
    "district": ("analyst", "leader", "admin"),
}
ACTIONS = {"alert": ("duty", "admin")}  # state-changing calls
HOME = {"wall": "/wall", "duty": "/duty", "leader": "/brief", "analyst": "/analysis", "admin": "/wall"}
SHARED_IDS = ("_pages_",)  # Dash pages' own components: checked by the path they load, not by id


def screen_of(path: str) -> str | None:
    """The screen a path belongs to (``/district/440106`` → ``district``), or None."""
    first = urlsplit(path).path.strip("/").split("/", 1)[0]
    return first if first in SCREENS else None


def may_open(role: str, path: str) -> bool:
    """Whether ``role`` may load the page at ``path``; paths of no screen (``/``, 404s) are open to every role."""
    screen = screen_of(path)
    return screen is None or role in SCREENS[screen]


def may_call(role: str, output_ids: list[str]) -> bool:
    """Whether ``role`` may run a callback with these output component ids."""
    for cid in output_ids:
        if cid.startswith(SHARED_IDS):
            continue
        screen = cid.split("-", 1)[0]
        if role != "admin" and (screen not in SCREENS or role not in SCREENS[screen]):
            return False
    return True


def may_act(role: str, action: str) -> bool:
    return role in ACTIONS.get(action, ())


def output_ids(output: str) -> list[str]:
    """Component ids of a Dash callback's ``output`` field: ``id.prop``, or ``..id.prop...id.prop..`` for
    several; a pattern-matching id is JSON, its ``type`` (or else first value) names the component."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    ids = []
    for part in parts:
        cid = part.rsplit(".", 1)[0]
        if cid.startswith("{"):
            try:
                value = json.loads(cid)
            except ValueError:
                value = {}
            cid = str(value.get("type", next(iter(value.values()), ""))) if isinstance(value, dict) else ""
        ids.append(cid)
    return ids


def page_paths(body: dict) -> list[str]:
    """The page paths a Dash pages' routing callback asks for (its ``pathname`` inputs)."""
    return [str(i.get("value") or "") for i in body.get("inputs", []) if isinstance(i, dict)
            and str(i.get("id", "")).startswith("_pages_") and i.get("property") == "pathname"]
