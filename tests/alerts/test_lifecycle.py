"""The alert lifecycle (alerts/lifecycle.py) as a pure state machine: every allowed path, every refused one (with
its message, and the alert left as it was), and replay of an audit log."""
import re
from dataclasses import astuple

import pytest

from alerts.lifecycle import (
    ACTION_ZH,
    ACTIVE,
    SEVERITIES,
    STATE_ZH,
    STATES,
    SYSTEM,
    TRANSITIONS,
    Action,
    Alert,
    InvalidTransition,
    apply,
    escalated,
    replay,
)

ID = "street-ponding:GZ-WL-001:1790000000"
T0 = 1_790_000_000.0


def act(action: str, minute: int = 0, actor: str = "张值班", **fields) -> Action:
    return Action(ID, action, actor, T0 + 60 * minute, **fields)


def opened(severity: str = "orange") -> Alert:
    return apply(None, Action(ID, "open", SYSTEM, T0, rule_id="street-ponding", severity=severity, note="最新读数"))


def in_state(state: str, severity: str = "orange") -> Alert:
    """An alert brought to ``state`` by the usual path."""
    path = {"open": [], "acknowledged": ["acknowledge"], "assigned": ["acknowledge", "assign"],
            "resolved": ["acknowledge", "assign", "resolve"], "closed": ["acknowledge", "assign", "resolve", "close"]}
    alert = opened(severity)
    for step in path[state]:
        alert = apply(alert, act(step, department="天河区排水所") if step == "assign" else act(step))
    assert alert.state == state
    return alert


# --- allowed paths ---------------------------------------------------------------------------------------------------

def test_open_raises_an_alert_with_the_rules_severity():
    assert opened("yellow") == Alert(ID, "street-ponding", "open", "yellow", 0, "", "")


def test_the_whole_path_open_acknowledge_assign_resolve_close():
    alert = opened()
    alert = apply(alert, act("acknowledge", 1))
    assert alert == Alert(ID, "street-ponding", "acknowledged", "orange")
    alert = apply(alert, act("assign", 2, department=" 天河区排水所 ", person=" 李工 "))
    assert alert == Alert(ID, "street-ponding", "assigned", "orange", 0, "天河区排水所", "李工")
    alert = apply(alert, act("resolve", 30, note="已抽排"))
    assert alert == Alert(ID, "street-ponding", "resolved", "orange", 0, "天河区排水所", "李工")
    alert = apply(alert, act("close", 40))
    assert alert == Alert(ID, "street-ponding", "closed", "orange", 0, "天河区排水所", "李工")


def test_an_assigned_alert_can_be_reassigned_to_another_department():
    alert = apply(in_state("assigned"), act("assign", 5, department="市水务局", person=""))
    assert (alert.state, alert.department, alert.person) == ("assigned", "市水务局", "")
    again = apply(alert, act("assign", 6, department="市水务局", person="王工"))
    assert (again.state, again.department, again.person) == ("assigned", "市水务局", "王工")


@pytest.mark.parametrize("state", ["open", "acknowledged"])
def test_an_alert_can_be_resolved_from_open_or_acknowledged_directly(state):
    assert apply(in_state(state), act("resolve")).state == "resolved"


@pytest.mark.parametrize("state", ACTIVE)
def test_escalation_climbs_blue_yellow_orange_red_then_notifies_the_next_level(state):
    alert = in_state(state, "blue")
    seen = []
    for _ in range(5):
        alert = apply(alert, act("escalate"))
        seen.append((alert.severity, alert.escalations, alert.state))
    assert seen == [("yellow", 0, state), ("orange", 0, state), ("red", 0, state), ("red", 1, state),
                    ("red", 2, state)]


def test_escalated_is_one_step_up():
    assert [escalated(Alert(ID, "r", "open", s)).severity for s in SEVERITIES] == ["yellow", "orange", "red", "red"]
    assert escalated(Alert(ID, "r", "open", "red", 3)).escalations == 4


@pytest.mark.parametrize("state", [*ACTIVE, "resolved"])
def test_a_note_changes_nothing_but_is_allowed_until_closed(state):
    alert = in_state(state)
    before = astuple(alert)
    after = apply(alert, act("note", note="现场水深 20 厘米"))
    assert astuple(after) == astuple(alert) == before


@pytest.mark.parametrize("state", ACTIVE)
def test_auto_resolve_resolves_from_every_active_state(state):
    alert = in_state(state)
    after = apply(alert, Action(ID, "auto_resolve", SYSTEM, T0 + 3600, note="条件已解除 30 分钟，自动解除"))
    assert after == Alert(ID, alert.rule_id, "resolved", alert.severity, alert.escalations, alert.department,
                          alert.person)


@pytest.mark.parametrize("state, action", [("open", "acknowledge"), ("acknowledged", "assign"), ("assigned", "escalate"),
                                           ("assigned", "resolve"), ("resolved", "close"), ("open", "auto_resolve")])
def test_an_allowed_action_leaves_the_alert_it_was_given_as_it_was(state, action):
    alert = in_state(state)
    before = astuple(alert)
    after = apply(alert, act(action, department="市水务局", note="x"))
    assert astuple(alert) == before and astuple(after) != before


def test_every_action_is_listed_with_its_states():
    assert set(TRANSITIONS) == {"open", "acknowledge", "assign", "escalate", "note", "resolve", "auto_resolve",
                                "close"}
    for action, (allowed, target) in TRANSITIONS.items():
        assert set(allowed) <= set(STATES) and (target is None or target in STATES), action


# --- refused transitions ---------------------------------------------------------------------------------------------

def refused(alert: Alert | None, action: Action, message: str) -> None:
    """The action raises with exactly ``message`` and the alert is unchanged: its fields are read before the call
    (a copy of the values, not the same object) and compared after it."""
    before = None if alert is None else astuple(alert)
    with pytest.raises(InvalidTransition, match=f"^{re.escape(message)}$"):
        apply(alert, action)
    assert (None if alert is None else astuple(alert)) == before


@pytest.mark.parametrize("state, action, allowed", [
    ("open", "close", "resolved"),
    ("open", "assign", "acknowledged, assigned"),
    ("acknowledged", "acknowledge", "open"),
    ("assigned", "acknowledge", "open"),
    ("acknowledged", "close", "resolved"),
    ("assigned", "close", "resolved"),
    ("resolved", "acknowledge", "open"),
    ("resolved", "assign", "acknowledged, assigned"),
    ("resolved", "escalate", "open, acknowledged, assigned"),
    ("resolved", "resolve", "open, acknowledged, assigned"),
    ("resolved", "auto_resolve", "open, acknowledged, assigned"),
])
def test_an_action_the_state_does_not_allow_is_refused_with_the_states(state, action, allowed):
    alert = in_state(state)
    refused(alert, act(action, department="市水务局", note="x"),
            f"alert {ID} is {state} ({STATE_ZH[state]}): cannot {action} ({ACTION_ZH[action]}); allowed from {allowed}")


@pytest.mark.parametrize("action, zh, allowed", [
    ("acknowledge", "确认", "open"),
    ("assign", "派发", "acknowledged, assigned"),
    ("escalate", "升级", "open, acknowledged, assigned"),
    ("note", "备注", "open, acknowledged, assigned, resolved"),
    ("resolve", "处置完毕", "open, acknowledged, assigned"),
    ("auto_resolve", "自动解除", "open, acknowledged, assigned"),
    ("close", "关闭", "resolved"),
])
def test_nothing_can_be_done_to_a_closed_alert(action, zh, allowed):
    refused(in_state("closed"), act(action, department="市水务局", note="再看看"),
            f"alert {ID} is closed (已关闭): cannot {action} ({zh}); allowed from {allowed}")


def test_acknowledging_twice_is_refused():
    alert = apply(opened(), act("acknowledge", 1))
    refused(alert, act("acknowledge", 2, actor="另一位值班员"),
            f"alert {ID} is acknowledged (已确认): cannot acknowledge (确认); allowed from open")


@pytest.mark.parametrize("department", ["", "   "])
def test_assigning_without_a_department_is_refused(department):
    refused(in_state("acknowledged"), act("assign", department=department, person="李工"),
            f"assign {ID}: a department is required")
    refused(in_state("assigned"), act("assign", department=department), f"assign {ID}: a department is required")


@pytest.mark.parametrize("note", ["", "  \n "])
def test_an_empty_note_is_refused(note):
    refused(in_state("acknowledged"), act("note", note=note), f"note on {ID}: the note is empty")


@pytest.mark.parametrize("name", ["reopen", "delete", "", "Acknowledge"])
def test_an_unknown_action_is_refused(name):
    refused(in_state("open"), act(name),
            f"unknown action {name!r}; one of open, acknowledge, assign, escalate, note, resolve, auto_resolve, close")


@pytest.mark.parametrize("state", STATES)
def test_opening_an_alert_that_exists_is_refused(state):
    refused(in_state(state), Action(ID, "open", SYSTEM, T0, rule_id="street-ponding", severity="orange"),
            f"alert {ID} is already raised")


def test_opening_with_an_unknown_severity_is_refused():
    refused(None, Action(ID, "open", SYSTEM, T0, rule_id="r", severity="purple"),
            "severity 'purple' is not one of blue, yellow, orange, red")
    refused(None, Action(ID, "open", SYSTEM, T0, rule_id="r"), "severity '' is not one of blue, yellow, orange, red")


@pytest.mark.parametrize("action", ["acknowledge", "note", "resolve", "close"])
def test_an_action_on_no_alert_is_refused(action):
    refused(None, act(action, note="x"), f"no alert {ID}")


def test_invalid_transition_is_a_value_error():
    assert issubclass(InvalidTransition, ValueError)


# --- replay ----------------------------------------------------------------------------------------------------------

OTHER = "major-incident:INC-1:1790000300"


def log() -> list[Action]:
    return [
        Action(ID, "open", SYSTEM, T0, rule_id="street-ponding", severity="orange"),
        Action(OTHER, "open", SYSTEM, T0 + 300, rule_id="major-incident", severity="red"),
        Action(ID, "escalate", SYSTEM, T0 + 600, note="10 分钟未确认，自动升级"),
        Action(ID, "acknowledge", "张值班", T0 + 700),
        Action(OTHER, "escalate", SYSTEM, T0 + 900),
        Action(ID, "assign", "张值班", T0 + 800, department="天河区排水所", person="李工"),
        Action(ID, "note", "李工", T0 + 1200, note="到场"),
        Action(OTHER, "acknowledge", "王值班", T0 + 1000),
        Action(ID, "assign", "张值班", T0 + 1300, department="市水务局"),
        Action(OTHER, "auto_resolve", SYSTEM, T0 + 4000),
        Action(OTHER, "close", "王值班", T0 + 4100),
        Action(ID, "escalate", "张值班", T0 + 1400),
        Action(ID, "resolve", "李工", T0 + 3000, note="已抽排"),
    ]


def test_replay_equals_applying_each_action_in_turn():
    expected: dict[str, Alert] = {}
    for action in log():
        expected[action.alert_id] = apply(expected.get(action.alert_id), action)
    assert replay(log()) == expected
    assert replay(log()) == {
        ID: Alert(ID, "street-ponding", "resolved", "red", 1, "市水务局", ""),
        OTHER: Alert(OTHER, "major-incident", "closed", "red", 1, "", ""),
    }


def test_replay_of_every_prefix_gives_the_state_after_that_action():
    state: dict[str, Alert] = {}
    actions = log()
    for n, action in enumerate(actions, start=1):
        state[action.alert_id] = apply(state.get(action.alert_id), action)
        assert replay(actions[:n]) == state


def test_replay_of_nothing_is_no_alerts():
    assert replay([]) == {}


def test_replay_of_a_log_with_an_invalid_step_raises():
    actions = log()
    actions.insert(4, Action(ID, "close", "张值班", T0 + 750))
    with pytest.raises(InvalidTransition, match="cannot close"):
        replay(actions)
