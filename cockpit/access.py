"""Who may see and do what: pure rules, applied by ``cockpit.signin`` on the server for every request.

A screen's Dash components carry ids starting with the screen's name (``duty-queue``, ``wall-kpi-open``), so the
server can tell which screen a callback belongs to from its outputs alone and refuse it to a role that may not
open that screen; an id of no known screen is refused to everyone but admin (fail closed).
"""
from __future__ import annotations

import ipaddress
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


# --- the client's address ----------------------------------------------------------------------------------------

def networks(text: str) -> tuple:
    """``auth.trusted_proxies`` as networks (checked at start-up by config.settings)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip())


def client_address(peer: str, forwarded_for: str, trusted: tuple) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy — then the nearest address in
    ``X-Forwarded-For`` (read from the right) that is not a trusted proxy."""
    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not trusted or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: the proxy's own address, never a name the client chose
    return hops[0] if hops else peer


# --- every callback checked against its declared spec ------------------------------------------------------------

# The JSON types a property's value may have when the browser sends it. A property not listed is refused (400);
# tests/cockpit/test_access.py checks every callback of the app uses listed properties only.
_SCALAR = (str, int, float, bool, type(None))
PROPERTY_TYPES: dict[str, tuple] = {
    "n_clicks": (int, type(None)), "n_intervals": (int, type(None)),
    "value": (*_SCALAR, list), "search": (str, type(None)), "pathname": (str, type(None)),
    "date": (str, type(None)), "start_date": (str, type(None)), "end_date": (str, type(None)),
    "data": (dict, list, *_SCALAR), "clickData": (dict, type(None)), "selectedRows": (list, type(None)),
    "overlays": (list, type(None)), "bounds": (list, type(None)), "zoom": (int, float, type(None)),
    "id": (str,), "columns": (list, type(None)), "derived_virtual_data": (list, type(None)),
}
ROUTER_INPUT = ("_pages_location", "pathname")


class BadCall(ValueError):
    """A callback request that does not match the callback's declared spec (HTTP 400)."""


def _item_matches(declared: str, sent) -> bool:
    """Whether a sent input id is the declared one (a pattern-matching id: the same keys, the fixed values)."""
    if not declared.startswith("{"):
        return sent == declared
    pattern = json.loads(declared)
    return (isinstance(sent, dict) and set(sent) == set(pattern)
            and all(isinstance(v, list) or sent[k] == v for k, v in pattern.items()))


def _checked_value(prop: str, value) -> None:
    kinds = PROPERTY_TYPES.get(prop)
    if kinds is None:
        raise BadCall(f"property {prop!r} is not accepted")
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise BadCall(f"{prop}: a {type(value).__name__} is not accepted here")
    if isinstance(value, list) and prop == "value" and any(not isinstance(v, _SCALAR) for v in value):
        raise BadCall(f"{prop}: a list of plain values is expected")


def check_call(body, spec: dict) -> None:
    """Raise BadCall unless ``body``'s inputs and state are, position by position, the ones ``spec`` declares
    (``id`` and ``property``), each with a value of an accepted type."""
    if not isinstance(body, dict):
        raise BadCall("the body is not a JSON object")
    if not isinstance(body.get("changedPropIds", []), list) or not all(
            isinstance(p, str) for p in body.get("changedPropIds", [])):
        raise BadCall("changedPropIds is not a list of names")
    for field, declared in (("inputs", spec["inputs"]), ("state", spec["state"])):
        sent = body.get(field, [])
        if not isinstance(sent, list) or len(sent) != len(declared):
            raise BadCall(f"{field}: {len(declared)} expected")
        for want, got in zip(declared, sent):
            items = got if isinstance(got, list) and want["id"].startswith("{") else [got]
            for item in items:
                if (not isinstance(item, dict) or item.get("property") != want["property"]
                        or not _item_matches(want["id"], item.get("id"))):
                    raise BadCall(f"{field}: {want['id']}.{want['property']} expected")
                _checked_value(want["property"], item.get("value"))


def routed_paths(body: dict, spec: dict) -> list[str]:
    """The page paths a pages-routing callback asks for: the values at the router's declared positions."""
    return [str(body["inputs"][i].get("value") or "") for i, want in enumerate(spec["inputs"])
            if (want["id"], want["property"]) == ROUTER_INPUT]


# --- the endpoints the guard knows -------------------------------------------------------------------------------

DASH_RULES = ("", "<path:path>", "_dash-layout", "_dash-dependencies", "_dash-update-component", "_favicon.ico",
              "_dash-component-suites/<string:package_name>/<path:fingerprinted_path>")
OWN_RULES = ("/login", "/logout", "/healthz", "/api/alerts", "/api/alerts/<path:alert_id>/cap", "/assets/<path:filename>")


def unprotectable(environ) -> str | None:
    """Why Dash settings in ``environ`` would open a way past the guard, or None. Dash's MCP endpoint runs
    callbacks without the checks above (any value but ``false`` turns it on)."""
    mcp = environ.get("DASH_MCP_ENABLED")
    if mcp is not None and mcp.lower() != "false":
        return ("DASH_MCP_ENABLED: Dash's MCP endpoint runs callbacks past the cockpit's role checks; "
                "unset it (or set it to false)")
    return None


def known_rule(rule: str, prefix: str) -> bool:
    """Whether a Flask URL rule is one the guard protects (fail closed: Dash's ``/_mcp``, hot reload or any
    endpoint added later is refused until it is listed here)."""
    return rule in OWN_RULES or (rule.startswith(prefix) and rule[len(prefix):] in DASH_RULES)


def relative(path: str, prefix: str) -> str:
    """``path`` under Dash's URL prefix as the screens know it (``/c/duty`` → ``/duty``)."""
    return "/" + path[len(prefix):] if prefix != "/" and path.startswith(prefix) else path
