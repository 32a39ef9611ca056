"""/analysis and /district in headless Chromium on both backends: an analyst filters the city, drills into a
district by clicking it on the map, and exports a CSV whose rows are exactly the filtered table."""
import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cockpit.serve import WebServer
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers.districts import city_anchors
from streams.broker import free_port
from tests.helpers import screen_point, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CITY = "440100"
ZONE = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(ZONE).date()
FIRST = TODAY - dt.timedelta(days=1)
# (district, category, orders received yesterday): the filter keeps 城市管理 only
ORDERS = [("440106", "城市管理", 5), ("440106", "交通出行", 2), ("440104", "城市管理", 3)]
WAIT = 30000


def events() -> list[dict]:
    anchors = city_anchors(CITY)
    out = []
    for code, category, count in ORDERS:
        lon, lat, _ = anchors[code]
        for n in range(count):
            moment = dt.datetime.combine(FIRST, dt.time(8, 0), ZONE) + dt.timedelta(minutes=13 * n)
            order = f"{code}-{category}-{n}"
            out.append({"event_id": order, "schema": "hotline.v1", "ts": moment.isoformat(), "order_id": order,
                        "status": "received", "category": category, "channel": "app", "district_code": code,
                        "content": "=HYPERLINK(\"http://evil\")" if n == 0 else "占道经营",
                        "location": {"lon": lon + 0.001 * n, "lat": lat, "crs": "GCJ02"}})
    return out


@pytest.fixture
def analysis(warehouse, settings_for):
    settings = settings_for(**{"cockpit.port": free_port()})
    assert store_events(warehouse, make_decoder(settings), events()) == sum(n for *_, n in ORDERS)
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


def test_an_analyst_drills_into_a_district_and_exports_the_filtered_rows(analysis, warehouse, chromium, request):
    page = chromium.new_page(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    query = f"?from={FIRST.isoformat()}&to={TODAY.isoformat()}&category=城市管理"
    sign_in(page, analysis.url, warehouse, "analyst", then="/analysis" + query)
    expect(page.locator("#analysis-table")).to_contain_text("天河区", timeout=WAIT)
    expect(page.locator(".leaflet-overlay-pane path.leaflet-interactive")).to_have_count(11, timeout=WAIT)

    lon, lat, _ = city_anchors(CITY)["440106"]
    x, y = screen_point(page, lon, lat)
    page.mouse.move(x, y)
    page.wait_for_function("([x, y]) => Boolean(document.elementFromPoint(x, y)?.closest('.leaflet-interactive'))",
                           arg=[x, y], timeout=WAIT)
    page.mouse.click(x, y)
    page.wait_for_url("**/district/440106?*", timeout=WAIT)
    assert "category=" in page.url and FIRST.isoformat() in page.url  # the filters came along
    cells = page.locator("#district-table tbody tr td:first-child")
    expect(cells).to_have_count(2, timeout=WAIT)  # the 5 城市管理 orders of 天河 sit in two H3 cells

    with page.expect_download(timeout=WAIT) as download:
        page.click("#district-export")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["网格（H3）", "受理工单"]
    shown = [[td.strip() for td in tr.locator("td").all_inner_texts()[:2]]
             for tr in page.locator("#district-table tbody tr").all()[1:]]  # the first row holds the headers
    assert [r[:2] for r in rows[1:]] == shown  # exactly what the table shows
    assert sum(int(r[1]) for r in rows[1:]) == 5  # 城市管理 in 天河 only: not 交通出行, not 越秀
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"district-{request.node.callspec.id}.png"))
    assert errors == []
    page.close()


def test_the_wall_and_duty_roles_cannot_open_the_analyst_screens(analysis, warehouse, chromium):
    page = chromium.new_page()
    sign_in(page, analysis.url, warehouse, "duty")
    for path in ("/analysis", "/district/440106"):
        assert page.goto(analysis.url + path).status == 403
    page.close()
