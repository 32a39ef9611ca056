"""/map in headless Chromium (Debian's), on both warehouse backends: the layers, the layer control and legends,
selecting a district, the metric, URL state, zooming from clusters to single events and an event's timeline.

The data is four simulated hours of the whole city up to now (work orders, incidents with a major one, every
station's readings), stored straight into the test's warehouse; one lonely work order carries hostile markup.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cockpit import map_view
from cockpit.serve import WebServer
from config.settings import load
from config.stations import load_stations
from domain.contract import HOTLINE_STATUS_ZH
from domain.paths import ROOT as STATIONS_ROOT
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers import districts as dmap
from layers import grid
from simulator.city import City
from simulator.scenarios import Scenario
from streams.broker import free_port
from tests.helpers import screen_point, sign_in

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CITY = "440100"
HOUR = 3600
VIEWPORT = {"width": 1920, "height": 1080}
WAIT = 20_000  # ms: a server round trip on a busy test machine
HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">'
DISTRICTS = ["荔湾区", "越秀区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "从化区", "增城区"]
OVERLAYS = ["区县", "工单与突发事件", "网格 (H3)", "热力", "监测站点"]
METRIC_TITLES = ["在办工单", "在办突发事件", "空气质量指数 AQI", "在办工单超期率"]
NO_SELECTION = "点击区县或事件查看详情"
LONELY_KM = 1.5  # the hostile order's nearest other event: alone on screen at zoom 17

# Elements as a user sees them.
CLUSTERS = ".event-cluster"
CIRCLES = "path.leaflet-interactive[d*='a']"  # Leaflet draws a circle marker as two arcs: single orders, water stations
SELECTED = "path[stroke='#ffd166']"  # cockpit.districtStyle's outline of the selected district
INFO_LINES = "#map-info > div"


def _fills(colors) -> str:
    return ", ".join(f"path.leaflet-interactive[fill='{c}']" for c in colors)


HEXAGONS, HEAT_CELLS = _fills(grid.COLORS), _fills(grid.HEAT_COLORS)

# Callbacks idle (dash.testing's own test, on the renderer's store) and nothing changed for 400 ms.
SETTLED = """() => {
    const queues = window.store && window.store.getState().callbacks;
    const busy = !queues || Object.entries(queues).some(([k, v]) => k !== 'stored' && Array.isArray(v) && v.length);
    if (busy) { window.__quietSince = null; return false; }
    window.__quietSince = window.__quietSince || performance.now();
    return performance.now() - window.__quietSince > 400;
}"""
# The city's outline fills the map: the page has fitted the map to the city.
FITTED = """() => {
    const outline = document.querySelector('.leaflet-overlay-pane path:not(.leaflet-interactive)');
    const map = document.getElementById('map-map');
    if (!outline || !map) { return false; }
    const o = outline.getBoundingClientRect(), m = map.getBoundingClientRect();
    const inside = o.left >= m.left - 1 && o.right <= m.right + 1 && o.top >= m.top - 1 && o.bottom <= m.bottom + 1;
    return inside && Math.max(o.width / m.width, o.height / m.height) > 0.84;
}"""
# Centres of the labels of two far-apart districts: how the map has moved and scaled.
LABEL_CENTRES = """() => Object.fromEntries([...document.querySelectorAll('.district-label')].map(label => {
    const r = label.firstElementChild.getBoundingClientRect();  // the visible box (name over value)
    return [label.querySelector('.district-label-name').textContent, [r.left + r.width / 2, r.top + r.height / 2]];
}))"""


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between (lon, lat) points, flat-earth (fine over a few km)."""
    dx = (a[0] - b[0]) * 111.32 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110.57)


def lonely_order(events: list[dict], names: dict[str, str]) -> str:
    """A work order received in the window, with a district, whose nearest other order or incident is at least
    ``LONELY_KM`` away (the least lonely of those, so that its neighbourhood clusters at city zoom)."""
    places, received = {}, set()
    for e in events:
        key = e.get("order_id") or e.get("incident_id")
        if key and e.get("location"):
            places[key] = (e["location"]["lon"], e["location"]["lat"])
        if e["schema"] == "hotline.v1" and e["status"] == "received" and e.get("district_code") in names:
            received.add(key)
    nearest = {o: min(km(places[o], p) for k, p in places.items() if k != o) for o in received}
    lonely = [o for o in received if nearest[o] >= LONELY_KM]
    assert lonely, "no lonely work order in the simulated hours"
    return min(lonely, key=nearest.get)


@pytest.fixture(scope="module")
def city():
    """Four hours of the whole city up to now (≈7,000 events; simulated once per module, ≈4 s) with a major
    incident two hours ago; a lonely work order's content is hostile markup."""
    settings = load(ROOT / "config" / "cockpit.yaml", environ={}).replace(**{"simulate.orders_per_day": 6000})
    now = time.time()
    events = City(settings, (Scenario("major_incident", now - 2 * HOUR, "440112"),), now - 4 * HOUR).advance(now)
    names = {code: name for code, (_, _, name) in dmap.city_anchors(CITY).items()}
    order_id = lonely_order(events, names)
    history = [e for e in events if e.get("order_id") == order_id]
    history[0]["content"] = HOSTILE  # the received event: the citizen's words
    registry = load_stations(STATIONS_ROOT / settings.city.stations, city=CITY)
    return SimpleNamespace(events=events, order=history, names=names,
                           water=sum(s.family == "water" for s in registry),
                           ecology=sum(s.family == "ecology" for s in registry))


@pytest.fixture
def server(city, warehouse, settings_for):
    # No periodic refresh during a test: each step waits for the callbacks it triggers, not for a tick.
    settings = settings_for(**{"cockpit.port": free_port(), "cockpit.refresh_seconds": 3600.0})
    assert store_events(warehouse, make_decoder(settings), city.events) == len(city.events)
    server = WebServer(settings, warehouse).start()
    yield server
    server.stop()


class MapPage:
    """One browser page on /map, collecting page errors, console errors and dialogs as ``errors``."""

    def __init__(self, browser, base: str, path: str, city, warehouse):
        self.page = browser.new_page(viewport=VIEWPORT)
        sign_in(self.page, base, warehouse, "analyst")
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(base + path)
        # Loaded: the district legend (after the first refresh), every ecology station, some events.
        self.page.wait_for_function(f"""() => document.querySelectorAll('#map-legends .legend-title').length >= 3
            && document.querySelectorAll('.station-square').length === {city.ecology}
            && document.querySelectorAll('.event-cluster, .event-incident').length > 0""", timeout=WAIT)
        self.page.wait_for_function(FITTED, timeout=WAIT)
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_function(SETTLED, timeout=WAIT)

    def layer(self, name: str, shown: bool) -> None:
        box = self.page.locator(".leaflet-control-layers-overlays label").filter(has_text=name).locator("input")
        box.check() if shown else box.uncheck()

    def legend_titles(self):
        return expect(self.page.locator("#map-legends .legend-title"))

    def screen_point(self, lon: float, lat: float) -> tuple[float, float]:
        return screen_point(self.page, lon, lat, CITY)

    def click(self, x: float, y: float) -> None:
        """Click the map like a hand: point first, press when what is under the pointer can take the click.
        (Hovering a polygon brings it to the front, re-inserting it; pressing in that instant hits the SVG
        group instead, and Leaflet sees no click.)"""
        self.page.mouse.move(x, y)
        self.page.wait_for_function("([x, y]) => { const el = document.elementFromPoint(x, y);"
                                    " return Boolean(el && el.closest('.leaflet-interactive')); }", arg=[x, y],
                                    timeout=WAIT)
        self.page.mouse.click(x, y)

    def map_centre(self) -> tuple[float, float]:
        box = self.page.locator("#map-map").bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def screenshot(self, view: str, request) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        backend = request.node.callspec.params["warehouse_url"]
        self.page.screenshot(path=str(ARTIFACTS / f"map-{view}-{backend}.png"))


@pytest.fixture
def open_map(server, chromium, city, warehouse):
    pages = []

    def open_(query: str = "") -> MapPage:
        pages.append(MapPage(chromium, server.url, f"/map{query}", city, warehouse))
        return pages[-1]
    yield open_
    for p in pages:
        p.page.close()


def expected_labels(warehouse, metric: str) -> dict[str, str]:
    """District name → the label the page should show for a metric, from the warehouse now."""
    data = map_view.load_districts(warehouse, time.time())
    values = dmap.metric_values(metric, data.states, data.incidents, data.ecology)
    m = dmap.METRICS[metric]
    labels = dmap.labels(dmap.city_anchors(CITY), values, m.unit, m.decimals,
                         default=None if metric == "aqi" else 0)
    return {f["properties"]["name"]: f["properties"]["value"] for f in labels["features"]}


def shown_labels(page) -> dict[str, str]:
    names = page.locator(".district-label-name").all_text_contents()
    return dict(zip(names, page.locator(".district-label-value").all_text_contents()))


def test_map_shows_districts_events_stations_layer_control_and_legends(open_map, city, request):
    m = open_map()
    page = m.page
    expect(page.locator(".district-label-name")).to_have_count(11)
    assert sorted(page.locator(".district-label-name").all_text_contents()) == sorted(DISTRICTS)
    assert all(v.endswith(" 件") for v in page.locator(".district-label-value").all_text_contents())
    assert page.locator(CLUSTERS).count() >= 1
    assert page.locator(".station-square").count() == city.ecology

    control = page.locator(".leaflet-control-layers-overlays label")
    assert [t.strip() for t in control.all_inner_texts()] == OVERLAYS
    assert [control.nth(i).locator("input").is_checked() for i in range(5)] == [True, True, False, False, True]
    m.legend_titles().to_have_text(["在办工单", "工单与突发事件", "监测站点"])
    expect(page.locator("#map-legends .legend-note")).to_contain_text("GCJ-02")
    m.screenshot("default", request)

    # One layer at a time: the 11 district polygons, then one marker per registry station.
    m.layer("工单与突发事件", False)
    m.layer("监测站点", False)
    expect(page.locator("path.leaflet-interactive")).to_have_count(11)
    m.layer("监测站点", True)
    m.layer("区县", False)
    expect(page.locator("path.leaflet-interactive")).to_have_count(city.water)
    expect(page.locator(CIRCLES)).to_have_count(city.water)
    expect(page.locator(".station-square")).to_have_count(city.ecology)
    expect(page.locator(".district-label")).to_have_count(0)
    assert m.errors == []


def test_district_labels_are_centred_on_their_districts(open_map):
    m = open_map()
    centres = m.page.evaluate(LABEL_CENTRES)
    for lon, lat, name in dmap.city_anchors(CITY).values():
        x, y = m.screen_point(lon, lat)
        assert math.dist(centres[name], (x, y)) < 8, f"{name}: label centre {centres[name]}, district point {(x, y)}"
    assert m.errors == []


def test_grid_and_heat_views_draw_hexagons_and_their_legends(open_map, request):
    m = open_map()
    page = m.page
    m.layer("网格 (H3)", True)
    expect(page.locator(HEXAGONS).first).to_be_attached(timeout=WAIT)
    m.legend_titles().to_have_text(["在办工单", "工单与突发事件", "网格 (H3)", "监测站点"], timeout=WAIT)
    m.settle()
    vertices = page.eval_on_selector_all(HEXAGONS, "paths => paths.map(p => p.getAttribute('d').match(/[ML]/g).length)")
    assert len(vertices) >= 10 and vertices.count(6) >= 0.9 * len(vertices), vertices  # hexagons (a few clipped)
    grid_rows = page.locator(".legend-block").nth(2).locator(".legend-row").all_inner_texts()
    assert len(grid_rows) == len(grid.COLORS) and all(r.endswith("件") for r in grid_rows), grid_rows
    m.screenshot("grid", request)

    m.layer("网格 (H3)", False)
    m.layer("热力", True)
    expect(page.locator(HEAT_CELLS).first).to_be_attached(timeout=WAIT)
    expect(page.locator(HEXAGONS)).to_have_count(0)
    m.legend_titles().to_have_text(["在办工单", "工单与突发事件", "热力", "监测站点"], timeout=WAIT)
    m.settle()
    assert page.eval_on_selector_all(HEAT_CELLS, "paths => paths.every(p => p.getAttribute('stroke') === 'none')")
    m.screenshot("heat", request)

    m.layer("区县", False)
    m.legend_titles().to_have_text(["工单与突发事件", "热力", "监测站点"])
    expect(page.locator(".district-label")).to_have_count(0)
    expect(page.locator("#map-legends .legend-note")).to_contain_text("GCJ-02")
    m.screenshot("heat-without-districts", request)
    assert m.errors == []


def test_station_markers_stay_above_the_grid(open_map, city):
    """Ticking the grid must not bury the stations under it: each water station's circle, not a hexagon, is
    what the pointer reaches at its centre (its tooltip needs it)."""
    m = open_map()
    page = m.page
    m.layer("工单与突发事件", False)  # the only circles left are the water stations
    m.layer("网格 (H3)", True)
    expect(page.locator(HEXAGONS).first).to_be_attached(timeout=WAIT)
    m.settle()
    buried = page.evaluate("""([circles, hexagons]) => [...document.querySelectorAll(circles)].filter(c => {
        const r = c.getBoundingClientRect();
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return top && top.matches(hexagons);
    }).length""", [CIRCLES, HEXAGONS])
    assert buried == 0, f"{buried} of {city.water} water stations under grid cells"
    assert m.errors == []


def test_clicking_a_district_selects_it_and_clicking_again_clears_it(open_map):
    m = open_map()
    page = m.page
    m.layer("工单与突发事件", False)  # nothing over the polygon where we click
    m.layer("监测站点", False)
    tianhe = shown_labels(page)["天河区"]
    lon, lat, _ = dmap.city_anchors(CITY)["440106"]
    m.click(*m.screen_point(lon, lat))
    expect(page.locator(INFO_LINES).first).to_have_text("天河区", timeout=WAIT)
    lines = page.locator(INFO_LINES).all_inner_texts()
    assert [line.split("：")[0] for line in lines[1:]] == METRIC_TITLES
    assert lines[1] == f"在办工单：{tianhe}"

    m.settle()
    m.click(*m.screen_point(lon, lat))
    expect(page.locator("#map-info")).to_have_text(NO_SELECTION, timeout=WAIT)
    assert m.errors == []


def test_switching_the_metric_to_aqi_changes_the_legend_and_the_labels(open_map, warehouse, request):
    m = open_map()
    page = m.page
    assert shown_labels(page) == expected_labels(warehouse, "open_orders")
    page.locator("#map-metric label").filter(has_text="空气质量指数 AQI").click()
    m.legend_titles().to_have_text(["空气质量指数 AQI", "工单与突发事件", "监测站点"], timeout=WAIT)
    rows = page.locator(".legend-block").first.locator(".legend-row").all_inner_texts()
    assert rows == ["0–50", "51–100", "101–150", "151–200", "201–300", "≥ 301"]
    expected = expected_labels(warehouse, "aqi")
    assert any(v.isdigit() for v in expected.values())  # the simulated air stations report
    names = page.locator(".district-label-name").all_text_contents()
    expect(page.locator(".district-label-value")).to_have_text([expected[n] for n in names])
    m.screenshot("aqi", request)
    assert m.errors == []


def test_url_opens_with_the_metric_and_district_selected(open_map):
    m = open_map("?metric=aqi&district=440106")
    page = m.page
    expect(page.locator("#map-metric input:checked")).to_have_value("aqi")
    m.legend_titles().to_have_text(["空气质量指数 AQI", "工单与突发事件", "监测站点"])
    expect(page.locator(INFO_LINES).first).to_have_text("天河区", timeout=WAIT)
    expect(page.locator(SELECTED)).to_have_count(1)
    assert m.errors == []


def test_districts_are_coloured_when_the_boundaries_load_after_the_data(server, chromium, city, warehouse):
    """The polygons come by URL and their colours by callback: whichever arrives first, the map ends coloured
    with the selection outlined."""
    page = chromium.new_page(viewport=VIEWPORT)
    sign_in(page, server.url, warehouse, "leader")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def late(route):
        time.sleep(2)  # a slow network: the first refresh of the districts is there before their boundaries
        route.continue_()
    page.route("**/assets/geo/*.geojson", late)
    page.goto(f"{server.url}/map?district=440106")
    expect(page.locator(".district-label-value").first).to_contain_text("件", timeout=WAIT)
    districts = page.locator("path.leaflet-interactive[stroke='#6fd6ff'], " + SELECTED)
    expect(districts).to_have_count(11, timeout=WAIT)
    expect(page.locator(SELECTED)).to_have_count(1, timeout=WAIT)
    assert set(districts.evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")) - {dmap.NO_DATA}
    assert errors == []
    page.close()


@pytest.mark.parametrize("query", [
    {"metric": "<script>alert(1)</script>", "district": "999999"},
    {"metric": "aqi'\"", "district": HOSTILE, "zoom": "1e999"},
], ids=["script-and-unknown-district", "markup-district"])
def test_hostile_or_unknown_url_parameters_fall_back_to_the_defaults(open_map, query):
    m = open_map("?" + urlencode(query))
    page = m.page
    expect(page.locator("#map-metric input:checked")).to_have_value("open_orders")
    m.legend_titles().to_have_text(["在办工单", "工单与突发事件", "监测站点"])
    expect(page.locator("#map-info")).to_have_text(NO_SELECTION)
    expect(page.locator(SELECTED)).to_have_count(0)
    assert page.evaluate("document.body.dataset.pwned") is None
    assert m.errors == []


def zoom_to_lonely_order(m: MapPage, city) -> None:
    """Zoom 17 on the hostile work order, stations hidden: alone within LONELY_KM, the view (cells of ~50 m)
    holds this one order as a single event, the only circle, at the map's centre."""
    m.layer("监测站点", False)
    lon, lat = city.order[0]["location"]["lon"], city.order[0]["location"]["lat"]
    m.page.evaluate("([lat, lon]) => window.dash_clientside.set_props('map-map', "
                    "{viewport: {center: [lat, lon], zoom: 17}})", [lat, lon])
    expect(m.page.locator(CIRCLES)).to_have_count(1, timeout=WAIT)
    expect(m.page.locator(CLUSTERS)).to_have_count(0)
    expect(m.page.locator(".event-incident")).to_have_count(0)
    m.settle()


def test_zoomed_in_events_are_single_and_a_work_order_shows_its_timeline_as_text(open_map, city, request):
    m = open_map()
    page = m.page
    assert page.locator(CLUSTERS).count() >= 1
    zoom_to_lonely_order(m, city)
    m.screenshot("zoomed", request)

    m.click(*m.map_centre())
    first, tz = city.order[0], ZoneInfo("Asia/Shanghai")
    expect(page.locator(INFO_LINES).first).to_have_text(f"工单 {first['order_id']}", timeout=WAIT)
    urgency = "紧急" if any(e["urgency"] == "urgent" for e in city.order) else "一般"
    district = next(city.names[e["district_code"]] for e in city.order if e.get("district_code"))
    steps = [f"{dt.datetime.fromisoformat(e['ts']).astimezone(tz):%m-%d %H:%M} {HOTLINE_STATUS_ZH[e['status']]}"
             + (f" · {e['department']}" if e.get("department") else "") for e in city.order]
    assert page.locator(INFO_LINES).all_inner_texts() == [
        f"工单 {first['order_id']}", f"{first['category']} · {first['subcategory']} · {urgency}", district,
        f"诉求：{HOSTILE}", *steps]
    assert page.locator("#map-info img").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None
    assert m.errors == []


def test_clicking_an_event_again_after_a_district_shows_the_event_again(open_map, city):
    m = open_map()
    page = m.page
    zoom_to_lonely_order(m, city)
    x, y = m.map_centre()
    title = f"工单 {city.order[0]['order_id']}"
    m.click(x, y)
    expect(page.locator(INFO_LINES).first).to_have_text(title, timeout=WAIT)
    m.settle()
    m.click(x + 150, y)  # the district around the order
    expect(page.locator(INFO_LINES).first).not_to_have_text(title, timeout=WAIT)
    assert page.locator(INFO_LINES).first.inner_text() in city.names.values()
    m.settle()
    m.click(x, y)
    expect(page.locator(INFO_LINES).first).to_have_text(title, timeout=WAIT)
    assert m.errors == []


def test_clicking_a_cluster_zooms_in_on_it(open_map):
    m = open_map()
    page = m.page
    target = page.evaluate("""() => {  // a cluster bubble that is on top where it is drawn
        for (const bubble of document.querySelectorAll('.event-cluster')) {
            const r = bubble.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (bubble.contains(document.elementFromPoint(x, y))) { return [x, y]; }
        }
        return null;
    }""")
    assert target, "no clickable cluster"
    # Two far-apart districts measure the map: their places on screen are their labels less each label's offset.
    names = {name: (lon, lat) for lon, lat, name in dmap.city_anchors(CITY).values()}
    a, b = "荔湾区", "增城区"
    centres = page.evaluate(LABEL_CENTRES)
    offset = {n: [centres[n][i] - m.screen_point(*names[n])[i] for i in (0, 1)] for n in (a, b)}
    place = lambda labels, n: (labels[n][0] - offset[n][0], labels[n][1] - offset[n][1])  # noqa: E731
    before = {n: place(centres, n) for n in (a, b)}
    m.click(*target)
    page.wait_for_function("""([before, offset, a, b]) => {  // flown two zoom levels in: distances ×4
        const now = (%s)();
        const at = n => [now[n][0] - offset[n][0], now[n][1] - offset[n][1]];
        const scale = Math.hypot(at(a)[0] - at(b)[0], at(a)[1] - at(b)[1])
                      / Math.hypot(before[a][0] - before[b][0], before[a][1] - before[b][1]);
        return Math.abs(scale - 4) < 0.03;  // the label offsets are measured to a pixel or two
    }""" % LABEL_CENTRES, arg=[before, offset, a, b], timeout=WAIT)
    m.settle()
    after = place(page.evaluate(LABEL_CENTRES), a)
    # Where the cluster's place is now: 4× as far from Liwan as before, from Liwan's new place.
    landed = (after[0] + 4 * (target[0] - before[a][0]), after[1] + 4 * (target[1] - before[a][1]))
    assert math.dist(landed, m.map_centre()) < 20, (landed, m.map_centre())
    assert m.errors == []
