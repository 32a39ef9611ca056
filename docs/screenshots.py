"""Screenshots of the screens for the README: a simulated day (with a pollution episode, a hotline surge and a major
incident) and one alert cycle in a fresh chDB, the cockpit served on it, Debian's Chromium at 1920×1080 signed in
as admin (the sign-in page itself signed out).

    python -m docs.screenshots [--out docs/screenshots]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from alerts.engine import evaluate
from alerts.rules import load_rules
from cockpit.serve import WebServer
from config.settings import load
from domain.paths import ROOT
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers.districts import city_anchors
from simulator.city import City, scenarios_of
from streams.broker import free_port
from tests.helpers import sign_in
from warehouse import connect
from warehouse.migrations import migrate

CHROMIUM = "/usr/bin/chromium"
LAYER = "document.querySelectorAll('.leaflet-control-layers-selector')[{}].click()"  # 0 区县 … 4 监测站点
BIGGEST_CLUSTER = """(() => { const all = [...document.querySelectorAll('.event-cluster')];
    all.sort((a, b) => parseInt(b.textContent) - parseInt(a.textContent));
    all[0].dispatchEvent(new MouseEvent('click', {bubbles: true})); })()"""
FIRST_ALERT = "document.querySelector('.ag-center-cols-container .ag-row').click()"
# name: (path, selector that says it is drawn, scripts run in order, each followed by a pause)
VIEWS = {
    "wall": ("/wall", ".alert-ticker .alert-item", []),
    "duty": ("/duty", ".ag-center-cols-container .ag-row", [FIRST_ALERT]),
    "brief": ("/brief", ".brief-kpi .brief-value", []),
    "analysis": ("/analysis", "#analysis-table", []),
    "district": ("/district/440106", "#district-table", []),
    "map-districts": ("/map", ".event-cluster", []),
    "map-aqi": ("/map?metric=aqi", ".event-cluster", [LAYER.format(1)]),
    "map-grid": ("/map", ".event-cluster", [LAYER.format(0), LAYER.format(1), LAYER.format(2)]),
    "map-heat": ("/map", ".event-cluster", [LAYER.format(0), LAYER.format(1), LAYER.format(3)]),
    "map-events": ("/map?district=440106", ".event-cluster", [BIGGEST_CLUSTER, BIGGEST_CLUSTER]),
    "map-stations": ("/map?metric=open_incidents", ".event-cluster", [LAYER.format(1)]),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = p.parse_args()
    settings = load(environ={}).replace(**{"warehouse.url": f"chdb://{tempfile.mkdtemp()}/wh",
                                           "cockpit.port": free_port(), "simulate.orders_per_day": 12000})
    now = time.time()
    scenarios = scenarios_of("pollution@-14h:440111,hotline_surge@-2h:440106,major_incident@-2h:440112", now,
                             list(city_anchors(settings.city.adcode)))
    warehouse = connect(settings.warehouse.url)
    migrate(warehouse)
    store_events(warehouse, make_decoder(settings), City(settings, scenarios, now - 2 * 86400).advance(now))
    evaluate(warehouse, load_rules(ROOT / settings.alerts.rules), now, escalate_after_minutes=10)
    server = WebServer(settings, warehouse).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(server.url + "/login")
            shoot(page, args.out, "signin")
            for name, (path, ready, scripts) in VIEWS.items():
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                sign_in(page, server.url, warehouse, "admin", name=f"admin-{name}")
                page.goto(server.url + path)
                page.wait_for_selector(ready, timeout=60000)
                time.sleep(2)
                for script in scripts:
                    page.evaluate(script)
                    time.sleep(3)
                shoot(page, args.out, name)
            browser.close()
    finally:
        server.stop()


def shoot(page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"wrote {out / name}.png")
    page.close()


if __name__ == "__main__":
    main()
