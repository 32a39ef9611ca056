"""/brief in headless Chromium on both backends: a leader opens a past day and reads the right numbers and the
right comparisons with the day before and the same day last week; other roles cannot open it."""
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cockpit.serve import WebServer
from ingest.consume import make_decoder
from ingest.direct import store_events
from streams.broker import free_port
from tests.helpers import sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date.fromtimestamp(time.time() - 10 * 86400)  # a finished day, ten days ago
COUNTS = {0: 6, -1: 4, -7: 12}  # orders received on DAY, the day before and the same weekday a week before


def received(day: dt.date, n: int, category: str) -> dict:
    moment = dt.datetime.combine(day, dt.time(9, 0), ZONE) + dt.timedelta(minutes=7 * n)
    return {"event_id": f"{day}-{n}", "schema": "hotline.v1", "ts": moment.isoformat(), "order_id": f"{day}-{n}",
            "status": "received", "category": category, "channel": "phone", "district_code": "440106",
            "content": "<b>路灯不亮</b>"}


@pytest.fixture
def brief(warehouse, settings_for):
    settings = settings_for(**{"cockpit.port": free_port()})
    events = [received(DAY + dt.timedelta(days=offset), n, "城市管理" if n % 3 else "交通出行")
              for offset, count in COUNTS.items() for n in range(count)]
    events.append(dict(events[0]))  # a redelivered event counts once
    assert store_events(warehouse, make_decoder(settings), events) == len(events)
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def test_a_leader_reads_a_past_day_against_the_day_before_and_last_week(brief, warehouse, chromium, request):
    page = chromium.new_page(viewport={"width": 1920, "height": 1080})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, brief.url, warehouse, "leader", then=f"/brief?day={DAY.isoformat()}")
    card = page.locator("#brief-kpi-received")
    expect(card.locator(".brief-value")).to_have_text("6", timeout=30000)
    deltas = card.locator(".brief-delta").all_inner_texts()
    assert deltas == ["较前一日 ↑50.0%", "较上周同日 ↓50.0%"]  # 6 vs 4, 6 vs 12
    expect(page.locator(".brief-summary")).to_contain_text("6")
    expect(page.locator(".brief-period")).to_contain_text(DAY.strftime("%Y"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"brief-{request.node.callspec.id}.png"), full_page=True)
    assert errors == []
    page.close()


@pytest.mark.parametrize("role", ["wall", "duty", "analyst"])
def test_other_roles_are_refused_the_brief(brief, warehouse, chromium, role):
    page = chromium.new_page()
    sign_in(page, brief.url, warehouse, role)
    reply = page.goto(brief.url + "/brief")
    assert reply.status == 403 and "无权访问" in page.content()
    page.close()
