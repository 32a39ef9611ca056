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


def test_page_paths_of_the_routing_callback():
    body = {"inputs": [{"id": "_pages_location", "property": "pathname", "value": "/duty"},
                       {"id": "_pages_location", "property": "search", "value": "?a=1"}, "junk"]}
    assert access.page_paths(body) == ["/duty"]
    assert access.page_paths({}) == [] and access.page_paths({"inputs": [{"id": "x", "property": "pathname"}]}) == []
