"""/wall in headless Chromium (Debian's), on both warehouse backends: the map, the legend and the numbers."""
import re
import secrets
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.engine import evaluate
from alerts.rules import parse_rule
from cockpit import users, wall_view
from cockpit.runtime import load_files
from cockpit.serve import WebServer
from ingest.consume import make_decoder
from ingest.direct import store_events
from streams.broker import free_port
from tests.helpers import sign_in, simulated_events, store_directly

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def iso(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - seconds_ago))


SENSORS = [  # two air stations an hour ago and a level II incident
    {"event_id": "AQ1", "schema": "ecology.v1", "ts": iso(3600), "station_id": "GZ-AQ-001", "station_type": "air",
     "readings": {"pm25": 130.0, "pm10": 160.0, "o3": 90.0}},
    {"event_id": "AQ2", "schema": "ecology.v1", "ts": iso(3600), "station_id": "GZ-AQ-002", "station_type": "air",
     "readings": {"pm25": 150.0, "pm10": 180.0, "o3": 70.0}},
    {"event_id": "INC-9.1", "schema": "emergency.v1", "ts": iso(1200), "incident_id": "INC-9", "type": "flood",
     "level": "II", "status": "reported", "district_code": "440106", "description": "河涌漫堤",
     "location": {"lon": 113.3245, "lat": 23.1375}},
]


@pytest.fixture
def wall(warehouse, settings_for):
    store_directly(warehouse, simulated_events(hours=30, orders_per_day=8000, seed=5))
    settings = settings_for()
    assert store_events(warehouse, make_decoder(settings), SENSORS) == len(SENSORS)
    rule = parse_rule({"id": "major", "name": "重大突发事件", "kind": "incident", "severity": "red", "levels": ["II"]})
    assert evaluate(warehouse, [rule], time.time(), escalate_after_minutes=60).opened == 1
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.refresh_seconds": 2.0})
    server = WebServer(settings, warehouse).start()
    yield server, settings
    server.stop()


def digits(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_wall_shows_the_map_legend_and_the_warehouse_numbers(wall, warehouse, chromium, request):
    server, settings = wall
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    users.put(warehouse, "wallpc", "wall", secrets.token_urlsafe(12))
    page.goto(f"{server.url}/wall?kiosk={users.issue_token(warehouse, 'wallpc')}")  # as a wall PC signs in
    assert page.url == server.url + "/wall"  # the token has left the address bar
    page.wait_for_function("() => /^[0-9]/.test((document.querySelector('#wall-kpi-received-value') || {}).textContent)",
                           timeout=30000)

    assert page.locator(".leaflet-container").count() == 1
    page.wait_for_function("() => document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length === 11", timeout=15000)
    labels = page.locator(".district-label-name").all_text_contents()
    assert sorted(labels) == sorted(["荔湾区", "越秀区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区",
                                     "南沙区", "从化区", "增城区"])
    assert "在办工单" in page.locator("#wall-legend").inner_text()
    assert "GCJ-02" in page.locator("#wall-legend").inner_text()
    assert page.locator(".ticker li").count() >= 1

    registry = load_files(settings).stations
    data = wall_view.load(warehouse, time.time(), settings.city.timezone)
    judged = wall_view.station_layer_data(data, registry, settings.map.station_silent_intervals, settings.city.timezone)
    expected = wall_view.kpis(data, judged["features"])
    shown = {tile: page.locator(f"#wall-kpi-{tile}-value").inner_text() for tile in expected}
    for tile in ("received", "open"):
        assert digits(shown[tile]) == expected[tile]["value"], tile
    assert shown["on_time"] == f"{expected['on_time']['value'] * 100:.1f}"
    assert shown["incidents"] == "1" and "Ⅱ级 1" in page.inner_text("#wall-kpi-incidents-sub")
    # by hand from DOMAIN.md (2026 edition): mean PM2.5 140 → 150 + (200 − 150) / (150 − 115) × (140 − 115) = 185.7 → 186
    assert shown["aqi"] == "186" and "中度污染" in page.inner_text("#wall-kpi-aqi-sub")
    assert page.locator("#wall-kpi-aqi-value").evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"
    assert shown["alerts"] == "1" and "红 1" in page.inner_text("#wall-kpi-alerts-sub")
    assert shown["stations"] == str(expected["stations"]["value"]) and expected["stations"]["value"] >= 2  # 2 air
    assert page.locator(".alert-ticker .alert-red").count() == 1
    assert "重大突发事件" in page.inner_text(".alert-ticker")
    assert page.locator(".station-square").count() == sum(s.family == "ecology" for s in registry)
    # the browser's watchdog (assets/watchdog.js) writes the badge on its own 1 s tick
    expect(page.locator("#wall-freshness")).to_have_text(re.compile("^数据(正常|延迟|中断) · "), timeout=5000)
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-{request.node.callspec.id}.png"))
    page.close()


def test_wall_renders_user_text_as_text(warehouse, settings_for, chromium):
    hostile = "<img src=x onerror=\"document.body.dataset.pwned=1\">'; DROP TABLE hotline_events; --"
    events = simulated_events(hours=1, seed=9)
    first = next(e for e in events if e["status"] == "received")
    first["content"] = hostile
    first["ts"] = events[-1]["ts"]  # the newest order, so it is in the ticker
    store_directly(warehouse, [first])
    settings = settings_for(**{"cockpit.port": free_port()})
    server = WebServer(settings, warehouse).start()
    try:
        page = chromium.new_page()
        sign_in(page, server.url, warehouse, "wall", then="/wall")
        page.wait_for_selector(".ticker .t-text", timeout=30000)
        assert page.locator(".ticker .t-text").first.inner_text() == hostile
        assert page.evaluate("document.body.dataset.pwned") is None
        page.close()
    finally:
        server.stop()


def test_unknown_address_gets_the_404_page(wall, chromium, warehouse):
    server, _ = wall
    page = chromium.new_page()
    sign_in(page, server.url, warehouse, "duty", then="/no-such-screen")
    page.wait_for_selector(".not-found", timeout=15000)
    assert "页面不存在" in page.inner_text(".not-found")
    page.close()
