"""The role rules (pure)."""
import pytest

from cockpit import access
from cockpit.users import ROLES


@pytest.mark.parametrize("output, ids", [
    ("wall-ticker.children", ["wall-ticker"]),
    ("..wall-kpi-open-value.children...wall-legend.children..", ["wall-kpi-open-value", "wall-legend"]),
    ('{"index":"A-1","type":"duty-act"}.n_clicks', ["duty-act"]),
    ('{"index":3}.n_clicks', ["3"]),
    ("{not json}.x", [""]),
    ("", [""]),
])
def test_output_ids_of_a_callback(output, ids):
    assert access.output_ids(output) == ids


def test_every_role_may_call_its_screens_callbacks_and_no_other():
    for role in ROLES:
        for screen, allowed in access.SCREENS.items():
            assert access.may_call(role, [f"{screen}-x"]) == (role in allowed or role == "admin"), (role, screen)


def test_unknown_ids_are_refused_to_all_but_admin_and_pages_ids_are_checked_by_path():
    assert [r for r in ROLES if access.may_call(r, ["nobody-x"])] == ["admin"]
    assert all(access.may_call(r, ["_pages_content", "_pages_store"]) for r in ROLES)
    assert not access.may_call("wall", ["wall-x", "duty-y"])  # one output of another screen is enough


@pytest.mark.parametrize("path, screen", [("/wall", "wall"), ("/district/440106", "district"),
                                          ("/analysis?from=2026-11-01", "analysis"), ("/", None), ("/walls", None)])
def test_screen_of_a_path(path, screen):
    assert access.screen_of(path) == screen


def test_home_screens_are_open_to_their_roles():
    assert all(access.may_open(role, access.HOME[role]) for role in ROLES)
    assert access.may_open("wall", "/no-such-page") and not access.may_open("wall", "/duty")
    assert access.may_act("duty", "alert") and not access.may_act("wall", "alert")
    assert not access.may_act("leader", "alert") and not access.may_act("admin", "unknown")


ROUTER = {"inputs": [{"id": "_pages_location", "property": "pathname"},
                     {"id": "_pages_location", "property": "search"}], "state": []}


def test_the_routed_path_is_read_at_the_routers_declared_position():
    body = {"inputs": [{"id": "_pages_location", "property": "pathname", "value": "/duty"},
                       {"id": "_pages_location", "property": "search", "value": "?a=1"}]}
    access.check_call(body, ROUTER)
    assert access.routed_paths(body, ROUTER) == ["/duty"]


@pytest.mark.parametrize("body, reason", [
    ({"inputs": [{"id": "zzz", "property": "pathname", "value": "/duty"},
                 {"id": "_pages_location", "property": "search", "value": ""}]}, "_pages_location.pathname expected"),
    ({"inputs": [{"id": "_pages_location", "property": "pathname", "value": "/wall"}]}, "2 expected"),
    ({"inputs": [{"id": "_pages_location", "property": "pathname", "value": ["/duty"]},
                 {"id": "_pages_location", "property": "search", "value": ""}]}, "a list is not accepted"),
    ({"inputs": [{"id": "_pages_location", "property": "pathname", "value": {"a": 1}}, "junk"]}, "a dict"),
    ({"inputs": "x"}, "2 expected"), ([1, 2], "not a JSON object"),
    ({"inputs": [], "changedPropIds": [{}]}, "changedPropIds"),
])
def test_a_call_that_differs_from_its_spec_is_refused(body, reason):
    with pytest.raises(access.BadCall, match=reason):
        access.check_call(body, ROUTER)


def test_values_are_checked_by_property():
    spec = {"inputs": [{"id": "duty-act-note", "property": "n_clicks"}],
            "state": [{"id": "duty-note", "property": "value"}]}
    good = {"inputs": [{"id": "duty-act-note", "property": "n_clicks", "value": 3}],
            "state": [{"id": "duty-note", "property": "value", "value": "已到场"}]}
    access.check_call(good, spec)
    for prop, bad in (("inputs", True), ("inputs", "3"), ("state", {"x": 1}), ("state", [[1]])):
        body = {**good, prop: [{**good[prop][0], "value": bad}]}
        with pytest.raises(access.BadCall):
            access.check_call(body, spec)
    with pytest.raises(access.BadCall, match="not accepted"):
        access.check_call({"inputs": [{"id": "x", "property": "srcDoc", "value": ""}], "state": []},
                          {"inputs": [{"id": "x", "property": "srcDoc"}], "state": []})


def test_pattern_matching_ids_match_their_fixed_keys():
    spec = {"inputs": [{"id": '{"index":["ALL"],"type":"duty-row"}', "property": "n_clicks"}], "state": []}
    access.check_call({"inputs": [[{"id": {"index": 1, "type": "duty-row"}, "property": "n_clicks", "value": 1},
                                   {"id": {"index": 2, "type": "duty-row"}, "property": "n_clicks", "value": None}]]},
                      spec)
    with pytest.raises(access.BadCall):
        access.check_call({"inputs": [[{"id": {"index": 1, "type": "brief-x"}, "property": "n_clicks", "value": 1}]]},
                          spec)


@pytest.mark.parametrize("peer, forwarded, client", [
    ("203.0.113.9", "10.9.9.9", "203.0.113.9"),  # not from a trusted proxy: the header is ignored
    ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", "198.51.100.7"),  # the nearest untrusted hop, not a forged one
    ("10.0.0.2", "", "10.0.0.2"), ("10.0.0.2", "not-an-ip", "10.0.0.2"),
])
def test_the_client_address_behind_trusted_proxies(peer, forwarded, client):
    assert access.client_address(peer, forwarded, access.networks("10.0.0.0/24")) == client
    assert access.client_address(peer, forwarded, ()) == peer


def test_only_known_endpoints_pass_the_guard():
    assert access.known_rule("/_dash-update-component", "/") and access.known_rule("/c/_dash-layout", "/c/")
    assert access.known_rule("/login", "/c/") and not access.known_rule("/_dash-layout", "/c/")
    assert not access.known_rule("/_mcp", "/") and not access.known_rule("/_reload-hash", "/")
    assert access.relative("/c/duty", "/c/") == "/duty" and access.relative("/duty", "/") == "/duty"

def test_dash_settings_that_would_open_a_way_past_the_guard():
    assert "DASH_MCP_ENABLED" in access.unprotectable({"DASH_MCP_ENABLED": "true"})
    assert access.unprotectable({"DASH_MCP_ENABLED": "1"}) and access.unprotectable({}) is None
    assert access.unprotectable({"DASH_MCP_ENABLED": "False"}) is None
