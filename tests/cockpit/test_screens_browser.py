"""Every screen in headless Chromium, signed in through the form as admin: each draws without a page or console
error, the header links the other screens, 退出 signs out; the wall also at 3840×2160."""
import secrets
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.engine import evaluate
from alerts.rules import load_rules
from cockpit import users
from cockpit.serve import WebServer
from domain.paths import ROOT
from streams.broker import free_port
from tests.helpers import simulated_events, store_directly

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT = 30000
SCREENS = {  # path → what says it is drawn
    "/wall": "#wall-kpi-received-value:text-matches('^[0-9]')",
    "/duty": "#duty-count:text-matches('共')",
    "/brief": "#brief-kpi-received .brief-value",
    "/analysis": "#analysis-table td",
    "/district/440106": "#district-table td",
    "/map": ".district-label-value",
}


@pytest.fixture
def cockpit(warehouse, settings_for):
    store_directly(warehouse, simulated_events(hours=6, orders_per_day=6000, seed=11))
    settings = settings_for(**{"cockpit.port": free_port()})
    evaluate(warehouse, load_rules(ROOT / settings.alerts.rules), time.time(), escalate_after_minutes=10)
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def test_admin_signs_in_through_the_form_and_walks_every_screen(cockpit, warehouse, chromium):
    password = secrets.token_urlsafe(12)
    users.put(warehouse, "zhang.san", "admin", password, display_name="张三")
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)

    page.goto(cockpit.url + "/duty")
    assert page.url.startswith(cockpit.url + "/login?next=")
    page.fill("input[name=username]", "zhang.san")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".signin-error")).to_have_text("用户名或密码错误")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(cockpit.url + "/duty")

    for path, drawn in SCREENS.items():
        page.goto(cockpit.url + path)
        expect(page.locator(drawn).first).to_be_visible(timeout=WAIT)
        if path != "/wall":
            expect(page.locator(".user-chip")).to_contain_text("张三")
    assert errors == [], errors
    page.locator(".logout-button").click()
    page.wait_for_url(cockpit.url + "/login")
    page.goto(cockpit.url + "/wall")
    assert "/login" in page.url
    page.close()


def test_the_wall_fills_a_4k_screen(cockpit, warehouse, chromium, request):
    page = chromium.new_page(viewport={"width": 3840, "height": 2160})
    users.put(warehouse, "wallpc", "wall", secrets.token_urlsafe(12))
    page.goto(f"{cockpit.url}/wall?kiosk={users.issue_token(warehouse, 'wallpc')}")
    expect(page.locator(SCREENS["/wall"])).to_be_visible(timeout=WAIT)
    size = page.locator("#wall-kpi-received-value").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 96  # 3.2 rem of 0.8vw: ~98 px at 3840 wide, legible from far off
    assert page.evaluate("document.documentElement.scrollHeight") <= 2160  # one screen, no scrolling
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-4k-{request.node.callspec.id}.png"))
    page.close()
