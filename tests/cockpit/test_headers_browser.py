"""The Content-Security-Policy in headless Chromium on both backends: signed in as admin, every screen draws under
it — a duty alert opened on its map, the brief exported, map tiles from the configured tile server on another
origin — with no console error and no ``securitypolicyviolation``; and the policy is enforced (an injected inline
script and ``eval`` are refused, and reported as a violation)."""
import struct
import time
import zlib

import pytest
from playwright.sync_api import expect

from alerts.engine import evaluate
from alerts.rules import load_rules
from cockpit.serve import WebServer
from domain.paths import ROOT
from streams.broker import free_port
from tests.cockpit.test_screens_browser import SCREENS
from tests.helpers import (
    other_origin,
    raise_incident_alert,
    sign_in,
    simulated_events,
    store_directly,
)

WAIT = 30000
REPORT = """document.addEventListener('securitypolicyviolation', e => window.cspViolation(
    [e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber, e.sample].join(' | ')));"""


def png() -> bytes:
    """A 1×1 blue PNG: a map tile."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x10\x30\x60")) + chunk(b"IEND", b""))


@pytest.fixture
def tile_server():
    """A tile server on another origin; the paths asked."""
    asked, tile = [], png()

    def respond(path: str) -> tuple[str, bytes]:
        asked.append(path)
        return "image/png", tile

    with other_origin(respond) as url:
        yield url, asked


@pytest.fixture
def cockpit(warehouse, settings_for, tile_server):
    store_directly(warehouse, simulated_events(hours=6, orders_per_day=6000, seed=11))
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.tile_url": tile_server[0] + "/gz/{z}/{x}/{y}.png",
                               "cockpit.tile_attribution": "测试瓦片"})
    evaluate(warehouse, load_rules(ROOT / settings.alerts.rules), time.time(), escalate_after_minutes=10)
    raise_incident_alert(warehouse)  # one alert for /duty at least
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def test_every_screen_draws_under_the_policy_without_an_error_or_a_violation(cockpit, warehouse, chromium,
                                                                           tile_server):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    page = context.new_page()
    errors, violations = [], []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.expose_function("cspViolation", lambda v: violations.append(v))
    page.add_init_script(REPORT)
    sign_in(page, cockpit.url, warehouse, "admin")

    for path, drawn in SCREENS.items():
        reply = page.goto(cockpit.url + path)
        assert "script-src 'self' 'sha256-" in reply.headers["content-security-policy"], path
        assert "unsafe-eval" not in reply.headers["content-security-policy"]
        expect(page.locator(drawn).first).to_be_visible(timeout=WAIT)
        if path == "/map":  # tiles from the tile server's origin
            expect(page.locator("img.leaflet-tile-loaded").first).to_be_attached(timeout=WAIT)
            assert tile_server[1] and all(p.startswith("/gz/") for p in tile_server[1])
        if path == "/duty":  # an alert opened: its detail, its marker flown to on the map, its history
            page.locator(".ag-center-cols-container .ag-row").first.click()
            expect(page.locator(".duty-title")).to_be_visible(timeout=WAIT)
            expect(page.locator("#duty-history td").first).to_be_visible(timeout=WAIT)
        if path == "/brief":  # the export: a download from the page's callback
            with page.expect_download(timeout=WAIT) as download:
                page.click("#brief-export")
            assert download.value.suggested_filename.endswith(".html")
    reply = page.goto(cockpit.url + "/login")
    assert "object-src 'none'" in reply.headers["content-security-policy"]
    expect(page.locator("input[name=username]")).to_be_visible()
    page.wait_for_timeout(500)  # a late violation report
    assert violations == [] and errors == [], violations + errors

    page.goto(cockpit.url + "/wall")
    expect(page.locator(SCREENS["/wall"])).to_be_visible(timeout=WAIT)
    ran = page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
                                   document.head.appendChild(s); return window.injected === 1; }""")
    page.evaluate("() => { setTimeout('window.evaluated = 1', 0); }")  # a string timer is eval
    page.wait_for_timeout(500)
    assert (ran, page.evaluate("window.evaluated === 1")) == (False, False)
    assert any(v.startswith("script-src-elem | inline") for v in violations), violations
    assert any(v.startswith("script-src | eval") for v in violations), violations
    context.close()
