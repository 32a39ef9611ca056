"""Issue 14's probes in headless Chromium against a real server over loopback: a copied session cookie is dead
after 退出, and a page on another origin cannot lock a duty officer's browser out of sign-in."""
import secrets

import pytest

from cockpit import users
from cockpit.serve import WebServer
from streams.broker import free_port
from tests.helpers import other_origin, sign_in


@pytest.fixture
def cockpit(warehouse, settings_for):
    server = WebServer(settings_for(**{"cockpit.port": free_port()}), warehouse).start()
    yield server
    server.stop()


@pytest.fixture
def hostile_site(cockpit):
    """A page on another origin with six images pointing at the cockpit's kiosk sign-in."""
    images = "".join(f'<img src="{cockpit.url}/wall?kiosk=x{i}">' for i in range(6))
    with other_origin(lambda _: ("text/html", f"<!doctype html><html><body>{images}</body></html>".encode())) as url:
        yield url + "/"


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
