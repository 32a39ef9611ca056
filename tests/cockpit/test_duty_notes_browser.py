"""/duty in headless Chromium on both backends: a note typed with a right-to-left override (U+202E), zero-width
joiners and an escape character is stored as plain text and the audit history shows it in the order it was
typed — each character to the right of the one before — not reversed."""
import pytest
from playwright.sync_api import expect

from alerts import store
from cockpit.serve import WebServer
from streams.broker import free_port
from tests.helpers import raise_incident_alert, sign_in

WAIT = 30000
TYPED = "现场\u202e水排已\u202c\u200d道路\u200b恢复\x1b通行\n请复核"
STORED = "现场水排已道路恢复通行\n请复核"
LEFT_EDGES = """td => { const text = td.firstChild, range = document.createRange(), edges = [];
    for (let i = 0; i < text.length; i++) { range.setStart(text, i); range.setEnd(text, i + 1);
        edges.push(range.getBoundingClientRect().left); }
    return edges; }"""


@pytest.fixture
def cockpit(warehouse, settings_for):
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.refresh_seconds": 2.0})
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def test_a_note_with_a_right_to_left_override_reads_in_order_in_the_history(cockpit, warehouse, chromium):
    alert_id = raise_incident_alert(warehouse)
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, cockpit.url, warehouse, "duty", then="/duty")
    page.locator(f".ag-center-cols-container .ag-row[row-id='{alert_id}']").click()
    expect(page.locator(".duty-title")).to_contain_text("特别重大突发事件", timeout=WAIT)
    page.fill("#duty-note", TYPED)
    page.click("#duty-act-note")
    expect(page.locator("#duty-message")).to_contain_text("已添加备注", timeout=WAIT)

    assert store.actions(warehouse, alert_id)["note"].tolist()[-1] == STORED
    cell = page.locator("#duty-history td", has_text="请复核")
    expect(cell).to_have_count(1, timeout=WAIT)
    assert cell.text_content() == STORED
    first_line = cell.evaluate(LEFT_EDGES)[:STORED.index("\n")]
    assert first_line == sorted(first_line) and len(set(first_line)) == len(first_line), first_line
    assert errors == []
    page.close()
