"""/duty in headless Chromium on both backends: two duty officers on two screens; one acknowledges, assigns and
resolves an alert, the other sees each change within a refresh; the audit log holds every step; a wall user's
call of the same action is refused by the server."""
import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts import store
from alerts.engine import evaluate
from alerts.lifecycle import replay
from alerts.rules import parse_rule
from cockpit.app import create_app
from cockpit.serve import WebServer
from ingest.consume import make_decoder
from ingest.direct import store_events
from streams.broker import free_port
from tests.helpers import csrf_header, sign_in, signed_in_client

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT = 30000
HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">河涌漫堤'


def incident(n: int, level: str, district: str, lon: float, lat: float, ago_s: float, text: str) -> dict:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - ago_s))
    return {"event_id": f"INC-{n}.1", "schema": "emergency.v1", "ts": ts, "incident_id": f"INC-{n}", "type": "flood",
            "level": level, "status": "reported", "district_code": district, "description": text,
            "location": {"lon": lon, "lat": lat}}


@pytest.fixture
def duty(warehouse, settings_for):
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.refresh_seconds": 2.0})
    store_events(warehouse, make_decoder(settings), [
        incident(1, "I", "440106", 113.3245, 23.1375, 900, HOSTILE),
        incident(2, "II", "440112", 113.4590, 23.1060, 600, "黄埔区化工园区泄漏")])
    rules = [parse_rule({"id": "major-red", "name": "特别重大突发事件", "kind": "incident", "severity": "red",
                         "levels": ["I"]}),
             parse_rule({"id": "major-orange", "name": "重大突发事件", "kind": "incident", "severity": "orange",
                         "levels": ["II"]})]
    assert evaluate(warehouse, rules, time.time(), escalate_after_minutes=60).opened == 2
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def open_duty(chromium, server, warehouse, name: str):
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server.url, warehouse, "duty", then="/duty", name=name)
    expect(page.locator(".ag-center-cols-container .ag-row")).to_have_count(2, timeout=WAIT)
    return page, errors


def state_of(page, alert_id: str):
    return page.locator(f".ag-center-cols-container .ag-row[row-id='{alert_id}'] [col-id=state_zh]")


def test_two_duty_officers_see_each_others_actions_and_the_log_records_them(duty, warehouse, chromium, request):
    officer, errors = open_duty(chromium, duty, warehouse, "duty")
    colleague, _ = open_duty(chromium, duty, warehouse, "colleague")
    alert_id = store.current(warehouse).set_index("subject_id").loc["INC-1", "alert_id"]
    rows = officer.locator(".ag-center-cols-container .ag-row")
    expect(rows.first.locator("[col-id=severity_zh]")).to_have_text("红色")  # the most severe first

    rows.first.click()
    expect(officer.locator(".duty-title")).to_contain_text("特别重大突发事件", timeout=WAIT)
    assert officer.locator(".duty-text").inner_text() == HOSTILE  # the citizen's words as text
    assert officer.evaluate("document.body.dataset.pwned") is None
    expect(officer.locator("#duty-act-acknowledge")).to_be_enabled()
    expect(officer.locator("#duty-act-close")).to_be_disabled()
    expect(officer.locator("#duty-related")).to_contain_text("接报")
    expect(officer.locator("#duty-marker path, .leaflet-pane path.leaflet-interactive").first).to_be_visible()

    officer.click("#duty-act-acknowledge")
    expect(officer.locator("#duty-message")).to_contain_text("已确认", timeout=WAIT)
    expect(state_of(colleague, alert_id)).to_have_text("已确认", timeout=WAIT)  # the other screen, within a refresh

    officer.click("#duty-act-assign")  # no department: refused by the API, nothing changes
    expect(officer.locator("#duty-message")).to_contain_text("未执行", timeout=WAIT)
    officer.fill("#duty-department", "天河区应急管理局")
    officer.fill("#duty-person", "李工")
    officer.click("#duty-act-assign")
    expect(officer.locator("#duty-message")).to_contain_text("已派发", timeout=WAIT)
    officer.fill("#duty-note", "现场已排水，道路恢复通行")
    officer.click("#duty-act-resolve")
    expect(officer.locator("#duty-message")).to_contain_text("已处置", timeout=WAIT)
    expect(officer.locator("#duty-act-acknowledge")).to_be_disabled()
    expect(officer.locator("#duty-act-close")).to_be_enabled()
    expect(officer.locator("#duty-history")).to_contain_text("现场已排水")
    expect(state_of(colleague, alert_id)).to_have_count(0, timeout=WAIT)  # resolved: out of the active queue

    ARTIFACTS.mkdir(exist_ok=True)
    officer.screenshot(path=str(ARTIFACTS / f"duty-{request.node.callspec.id}.png"))
    log = store.actions(warehouse, alert_id)
    assert [(a, who) for a, who in zip(log["action"], log["actor"])] == [
        ("open", "system"), ("acknowledge", "duty"), ("assign", "duty"), ("resolve", "duty")]
    assert log["department"].tolist()[2] == "天河区应急管理局" and log["note"].tolist()[3] == "现场已排水，道路恢复通行"
    assert replay(store.as_actions(store.actions(warehouse)))[alert_id].state == "resolved"
    assert errors == []
    officer.close()
    colleague.close()


def test_a_wall_user_calling_a_duty_action_is_refused_by_the_server(duty, warehouse, settings_for):
    server = create_app(settings_for(), warehouse).server
    alert_id = store.current(warehouse)["alert_id"].tolist()[0]
    body = {"output": "..duty-changed.data...duty-message.children...duty-note.value..",
            "outputs": [{"id": "duty-changed", "property": "data"}, {"id": "duty-message", "property": "children"},
                        {"id": "duty-note", "property": "value"}],
            "inputs": [{"id": "duty-act-acknowledge", "property": "n_clicks", "value": 1}],
            "state": [{"id": "duty-selected", "property": "data", "value": alert_id}],
            "changedPropIds": ["duty-act-acknowledge.n_clicks"]}
    for role in ("wall", "leader", "analyst"):
        client = signed_in_client(server, warehouse, role)
        reply = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json",
                            headers=csrf_header(client))
        assert reply.status_code == 403, role
    assert store.actions(warehouse, alert_id)["action"].tolist() == ["open"]  # nothing happened
