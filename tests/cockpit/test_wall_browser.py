"""/wall in headless Chromium (Debian's), on both warehouse backends: the map, the legend and the numbers, worked out
by hand from a small fixed city; the freshness badge in the one state the data's age implies.

The screen reads ``time.time()``; the tests fix it (:func:`tests.helpers.freeze_screens`) at 10:00 on a Friday in
Guangzhou, so "today" and every window below are the same whenever they run."""
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.engine import evaluate
from alerts.rules import parse_rule
from cockpit import users
from cockpit.serve import WebServer
from ingest.consume import make_decoder
from ingest.direct import store_events
from streams.broker import free_port
from tests.helpers import Clock, freeze_screens, local_epoch, sign_in, store_directly
from warehouse import connect
from warehouse.migrations import migrate

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = Clock(local_epoch("2026-11-20 10:00:00"))  # 02:00 UTC; local midnight is ten hours before
SCREENS = ("cockpit/pages/wall.py", "cockpit/wall_view.py")
TIANHE, YUEXIU, HAIZHU = (113.3245, 23.1375), (113.2644, 23.1291), (113.3172, 23.0836)  # GCJ-02, inside each
CODES = {TIANHE: "440106", YUEXIU: "440104", HAIZHU: "440105"}
FRESH_BADGE = re.compile(r"^数据正常 · 最新事件 [34]\d秒前$")  # 30 s old when answered, counted on in the browser


def at(local: str) -> int:
    """Milliseconds of a Guangzhou wall-clock time, as the contract's ``ts``."""
    return local_epoch(local) * 1000


def order(event_id: str, order_id: str, local: str, status: str, place=TIANHE, **fields) -> dict:
    return {"event_id": event_id, "schema": "hotline.v1", "ts": at(local), "order_id": order_id, "status": status,
            "category": "城市管理", "subcategory": "占道经营", "district_code": CODES[place],
            "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"}, **fields}


def city() -> list[dict]:
    """Six work orders (now is 11-20 10:00):
    WO-A 天河 received 08:00 today, dispatched 08:05, due tomorrow          → received today, open
    WO-B 越秀 received 09:00 today                                         → received today, open
    WO-F 天河 received 09:59:30 today, urgent (30 s ago: the newest event)  → received today, open
    WO-C 天河 received 11-19 09:00, due 11-19 18:00, completed 17:00, visited satisfied
                                           → received yesterday before 10:00; due in the last 7 days, on time
    WO-D 海珠 received 11-18 10:00, due 11-19 10:00, never completed         → open, overdue, due, late
    WO-E 天河 received 11-17 10:00, due 11-18 10:00, completed 12:00, visited dissatisfied → due, late
    So: 今日受理 3 (A, B, F) against 1 yesterday by 10:00 (C) → ▲200.0%; 在办 4 (A, B, F, D), 超期 1 (D);
    按时办结率 1 of 3 due (C of C, D, E) = 33.3%; 满意率 1 of 2 answers (C of C, E) = 50.0%."""
    return [
        order("A1", "WO-A", "2026-11-20 08:00:00", "received", content="天河区：占道经营"),
        order("A2", "WO-A", "2026-11-20 08:05:00", "dispatched", department="城管局",
              deadline=at("2026-11-21 08:05:00")),
        order("B1", "WO-B", "2026-11-20 09:00:00", "received", YUEXIU, category="水电气", subcategory="路灯",
              content="越秀区：路灯不亮"),
        order("F1", "WO-F", "2026-11-20 09:59:30", "received", urgency="urgent", content="天河区：人行道塌陷"),
        order("C1", "WO-C", "2026-11-19 09:00:00", "received"),
        order("C2", "WO-C", "2026-11-19 09:10:00", "dispatched", department="城管局",
              deadline=at("2026-11-19 18:00:00")),
        order("C3", "WO-C", "2026-11-19 17:00:00", "completed", department="城管局"),
        order("C4", "WO-C", "2026-11-19 19:00:00", "visited", satisfaction="satisfied"),
        order("D1", "WO-D", "2026-11-18 10:00:00", "received", HAIZHU),
        order("D2", "WO-D", "2026-11-18 10:10:00", "dispatched", HAIZHU, department="城管局",
              deadline=at("2026-11-19 10:00:00")),
        order("E1", "WO-E", "2026-11-17 10:00:00", "received"),
        order("E2", "WO-E", "2026-11-17 10:10:00", "dispatched", department="城管局",
              deadline=at("2026-11-18 10:00:00")),
        order("E3", "WO-E", "2026-11-18 12:00:00", "completed", department="城管局"),
        order("E4", "WO-E", "2026-11-18 13:00:00", "visited", satisfaction="dissatisfied"),
    ]


SENSORS = [  # two air stations an hour ago and a level II incident 20 minutes ago
    {"event_id": "AQ1", "schema": "ecology.v1", "ts": at("2026-11-20 09:00:00"), "station_id": "GZ-AQ-001",
     "station_type": "air", "readings": {"pm25": 130.0, "pm10": 160.0, "o3": 90.0}},
    {"event_id": "AQ2", "schema": "ecology.v1", "ts": at("2026-11-20 09:00:00"), "station_id": "GZ-AQ-002",
     "station_type": "air", "readings": {"pm25": 150.0, "pm10": 180.0, "o3": 70.0}},
    {"event_id": "INC-9.1", "schema": "emergency.v1", "ts": at("2026-11-20 09:40:00"), "incident_id": "INC-9",
     "type": "flood", "level": "II", "status": "reported", "district_code": "440106", "description": "河涌漫堤",
     "location": {"lon": 113.3245, "lat": 23.1375}},
]


def serve(warehouse, settings_for, monkeypatch, **overrides) -> WebServer:
    """The cockpit on ``warehouse`` with its wall at NOW (2 s refresh)."""
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.refresh_seconds": 2.0, **overrides})
    server = WebServer(settings, warehouse).start()
    freeze_screens(monkeypatch, NOW, *SCREENS)
    return server


@pytest.fixture
def wall(warehouse, settings_for, monkeypatch):
    store_directly(warehouse, city(), NOW)
    assert store_events(warehouse, make_decoder(settings_for(), clock=NOW), SENSORS) == len(SENSORS)
    rule = parse_rule({"id": "major", "name": "重大突发事件", "kind": "incident", "severity": "red", "levels": ["II"]})
    assert evaluate(warehouse, [rule], NOW(), escalate_after_minutes=60).opened == 1
    server = serve(warehouse, settings_for, monkeypatch)
    yield server
    server.stop()


def texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_wall_shows_the_map_legend_and_the_warehouse_numbers(wall, warehouse, chromium, request):
    server = wall
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

    shown = {tile: page.locator(f"#wall-kpi-{tile}-value").inner_text()
             for tile in ("received", "open", "on_time", "satisfaction", "incidents", "aqi", "stations", "alerts")}
    sub = lambda tile: page.inner_text(f"#wall-kpi-{tile}-sub")  # noqa: E731
    # every number by hand from city() and SENSORS (see their docstrings)
    assert shown["received"] == "3" and sub("received") == "较昨日同时段 ▲200.0%"
    assert shown["open"] == "4" and sub("open") == "其中超期 1 件"
    assert shown["on_time"] == "33.3" and sub("on_time") == "近7日到期 3 件，按时 1 件"
    assert shown["satisfaction"] == "50.0" and sub("satisfaction") == "近7日回访 2 件"
    assert shown["incidents"] == "1" and "Ⅱ级 1" in sub("incidents")
    # by hand from DOMAIN.md (2026 edition): mean PM2.5 140 → 150 + (200 − 150) / (150 − 115) × (140 − 115) = 185.7 → 186
    assert shown["aqi"] == "186" and "中度污染" in sub("aqi")
    assert page.locator("#wall-kpi-aqi-value").evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"
    # each air station on its own: PM2.5 130 → 150 + 50 / 35 × 15 = 171.4 → 172, PM2.5 150 → 200: both 中度污染 (> 150)
    assert shown["stations"] == "2" and sub("stations").startswith("中度污染 2")
    assert shown["alerts"] == "1" and "红 1" in sub("alerts")
    # the newest orders of the last three hours, newest first, at Guangzhou's time; the urgent one marked
    assert texts(page, "#wall-ticker li .t-time") == ["09:59:30", "09:00:00", "08:00:00"]
    assert texts(page, "#wall-ticker li .t-district") == ["天河区", "越秀区", "天河区"]
    assert texts(page, "#wall-ticker li .t-text") == ["天河区：人行道塌陷", "越秀区：路灯不亮", "天河区：占道经营"]
    assert page.locator("#wall-ticker li").first.locator(".t-urgent").inner_text() == "紧急"
    assert page.locator("#wall-ticker li .t-urgent").count() == 1
    # today's orders by district: 天河 2 (A, F), 越秀 1 (B)
    assert [(r.locator("span").nth(1).inner_text(), r.locator(".rank-value").inner_text())
            for r in page.locator("#wall-ranking .rank-row").all()] == [("天河区", "2"), ("越秀区", "1")]
    assert page.locator(".alert-ticker .alert-red").count() == 1
    assert "重大突发事件" in page.inner_text(".alert-ticker")
    assert page.inner_text(".alert-ticker .alert-red .t-time") == "10:00"  # raised at NOW, Guangzhou time
    # the configured air and noise stations, counted from config/stations.yaml's lines
    ecology = sum("family: ecology" in line for line in (Path(__file__).resolve().parents[2] / "config" /
                                                         "stations.yaml").read_text(encoding="utf-8").splitlines())
    assert ecology >= 2 and page.locator(".station-square").count() == ecology
    # the newest event is 30 s old at NOW: the browser's watchdog (assets/watchdog.js) writes 数据正常 on its 1 s tick
    expect(page.locator("#wall-freshness")).to_have_text(FRESH_BADGE, timeout=10000)
    expect(page.locator("#wall-freshness")).to_have_class("badge badge-ok")
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-{request.node.callspec.id}.png"))
    page.close()


@pytest.mark.parametrize("newest, text, level", [
    ("2026-11-20 09:55:00", "数据延迟 · 最新事件 5分钟前", "warn"),  # 300 s: past the 120 s of warn, before 600 s
    ("2026-11-20 09:40:00", "数据中断 · 最新事件 20分钟前", "alarm"),  # 1200 s: past the 600 s of alarm
])
def test_the_wall_badge_says_how_old_the_newest_event_is(warehouse, settings_for, monkeypatch, chromium, newest,
                                                          text, level):
    store_directly(warehouse, [order("Z1", "WO-Z", newest, "received", content="最后一件")], NOW)
    server = serve(warehouse, settings_for, monkeypatch, **{"cockpit.stale_warn_seconds": 120,
                                                           "cockpit.stale_alarm_seconds": 600})
    try:
        page = chromium.new_page()
        sign_in(page, server.url, warehouse, "wall", then="/wall")
        expect(page.locator("#wall-freshness")).to_have_text(text, timeout=30000)
        expect(page.locator("#wall-freshness")).to_have_class(f"badge badge-{level}")
        assert page.locator("#wall-kpi-received-value").inner_text() == "1"
        page.close()
    finally:
        server.stop()


def test_the_wall_badge_says_the_warehouse_is_gone_when_it_cannot_be_reached(server_warehouse, settings_for,
                                                                              monkeypatch, chromium):
    """On the ClickHouse server (an embedded chDB cannot be cut off): the wall reads through a TCP proxy the test
    closes; the badge turns from 数据正常 to the fault state and the page keeps its last numbers."""
    from tests.cockpit.test_freshness_browser import Proxy

    proxy = Proxy(("127.0.0.1", 9000)).open()
    url = f"clickhouse://default:@127.0.0.1:{proxy.port}/{server_warehouse.database}"
    warehouse = connect(url)
    migrate(warehouse)
    store_directly(warehouse, city(), NOW)
    server = serve(warehouse, settings_for, monkeypatch, **{"warehouse.url": url})
    try:
        page = chromium.new_page()
        sign_in(page, server.url, warehouse, "wall", then="/wall")
        expect(page.locator("#wall-freshness")).to_have_text(FRESH_BADGE, timeout=30000)
        expect(page.locator("#wall-kpi-received-value")).to_have_text("3")
        proxy.close()
        expect(page.locator("#wall-freshness")).to_have_text(
            re.compile(r"^数据中断 · 数据仓库无法连接 · 最后更新 \d\d:\d\d:\d\d$"), timeout=30000)
        expect(page.locator("#wall-freshness")).to_have_class("badge badge-alarm")
        assert page.locator("#wall-kpi-received-value").inner_text() == "3"  # the last numbers stay, marked stale
        page.close()
    finally:
        server.stop()
        proxy.close()
        warehouse.close()


def test_wall_renders_user_text_as_text(warehouse, settings_for, monkeypatch, chromium):
    hostile = "<img src=x onerror=\"document.body.dataset.pwned=1\">'; DROP TABLE hotline_events; --"
    store_directly(warehouse, [order("H1", "WO-H", "2026-11-20 09:58:00", "received", content=hostile)], NOW)
    server = serve(warehouse, settings_for, monkeypatch)
    try:
        page = chromium.new_page()
        sign_in(page, server.url, warehouse, "wall", then="/wall")
        page.wait_for_selector("#wall-ticker .t-text", timeout=30000)
        assert texts(page, "#wall-ticker .t-text") == [hostile]
        assert page.evaluate("document.body.dataset.pwned") is None
        page.close()
    finally:
        server.stop()


def test_unknown_address_gets_the_404_page(wall, chromium, warehouse):
    page = chromium.new_page()
    sign_in(page, wall.url, warehouse, "duty", then="/no-such-screen")
    page.wait_for_selector(".not-found", timeout=15000)
    assert "页面不存在" in page.inner_text(".not-found")
    page.close()
