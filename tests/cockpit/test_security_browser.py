"""Issue 14's probes in headless Chromium against a real server over loopback: a copied session cookie is dead
after 退出, and a page on another origin cannot lock a duty officer's browser out of sign-in."""
import http.server
import secrets
import threading

import pytest

from cockpit import users
from cockpit.serve import WebServer
from streams.broker import free_port
from tests.helpers import sign_in


@pytest.fixture
def cockpit(warehouse, settings_for):
    server = WebServer(settings_for(**{"cockpit.port": free_port()}), warehouse).start()
    yield server
    server.stop()


@pytest.fixture
def hostile_site(cockpit):
    """A page on another origin with six images pointing at the cockpit's kiosk sign-in."""
    images = "".join(f'<img src="{cockpit.url}/wall?kiosk=x{i}">' for i in range(6))

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"<!doctype html><html><body>{images}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}/"  # another origin (host differs from 127.0.0.1)
    server.shutdown()


def test_a_copied_cookie_is_dead_after_signing_out(cockpit, warehouse, chromium):
    leader = chromium.new_context(viewport={"width": 1600, "height": 900})
    page = leader.new_page()
    sign_in(page, cockpit.url, warehouse, "leader", then="/brief")
    page.wait_for_selector("#brief-content", timeout=30000)
    copied = leader.cookies()
    session = next(c for c in copied if c["name"] == "cockpit_session")
    assert session["expires"] > 0 and session["expires"] - __import__("time").time() < 12.1 * 3600
    page.click(".logout-button")
    page.wait_for_url(cockpit.url + "/login")
    thief = chromium.new_context()
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto(cockpit.url + "/brief")
    assert "/login" in stolen.url
    leader.close()
    thief.close()


def test_another_sites_images_cannot_lock_the_officer_out_of_sign_in(cockpit, warehouse, chromium, hostile_site):
    password = secrets.token_urlsafe(12)
    users.put(warehouse, "duty.zhou", "duty", password)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(hostile_site)
    page.wait_for_load_state("networkidle")
    page.goto(cockpit.url + "/login")
    page.fill("input[name=username]", "duty.zhou")
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == cockpit.url + "/duty", page.content()[:1000]
    context.close()
