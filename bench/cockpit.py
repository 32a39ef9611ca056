"""Each screen's refresh on the server and its load in headless Chromium, over 10M work-order events and 50M
sensor readings in chDB.

    python -m bench.cockpit [--orders 10000000] [--readings 50000000] [--runs 20]

The city is ``bench/citydata.py``'s, with one alert cycle evaluated so that /duty has a queue. Per screen (signed
in as a role that may open it):

1. page load: Chromium (Debian's) opens the screen twice; each timed from navigation to the end of the last
   callback response of its first render (then the page is drawn): cold (the first visit since the server
   started: nothing computed yet) and warm (as every later visitor sees it); the callback requests are recorded;
2. refresh: those callbacks (the page's own, not Dash pages' routing) are sent again, ``--runs`` times, to the same
   app in this process (Flask test client, signed in): the server time of a refresh is all of them once, as
   median and p95; every warehouse query they run is recorded;
3. bare SQL: the recorded queries alone (``Warehouse.query_df``), after each refresh, as the baseline of the ratio.

Targets (issue 7): /wall refresh p95 ≤ 300 ms, /analysis ≤ 1 s, page load ≤ 3 s.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time

import dash

from alerts.engine import evaluate
from alerts.rules import load_rules
from bench.citydata import filled_city, percentile
from cockpit.serve import WebServer
from config.settings import load
from domain.paths import ROOT
from streams.broker import free_port
from tests.helpers import csrf_header, sign_in, signed_in_client

SCREENS = (("/wall", "wall", 0.3), ("/duty", "duty", None), ("/brief", "leader", None),
           ("/analysis", "analyst", 1.0), ("/district/440106", "analyst", 1.0))  # path, role, p95 target (s)
CHROMIUM = "/usr/bin/chromium"
PAGE_TARGET_S = 3.0


class QueryLog:
    """Records the (sql, params) of every ``query_df`` of a warehouse while ``on``."""

    def __init__(self, wh):
        self.on, self.queries, self._query_df = False, [], wh.query_df
        wh.query_df = self._record

    def _record(self, sql, params=None):
        if self.on:
            self.queries.append((sql, params))
        return self._query_df(sql, params)

    def bare(self) -> float:
        t = time.perf_counter()
        for sql, params in self.queries:
            self._query_df(sql, params)
        return time.perf_counter() - t


def page_load(browser, url: str, wh, path: str, role: str, name: str) -> tuple[float, list[str]]:
    """Seconds from navigation to the last callback response of the first render, and the callback bodies."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(page, url, wh, role, name=name)
    bodies, finished = [], []
    callback = "/_dash-update-component"  # with a query (?endId=…) from dash-renderer 4
    page.on("request", lambda r: bodies.append(r.post_data) if callback in r.url else None)
    page.on("requestfinished", lambda r: finished.append(time.perf_counter()) if callback in r.url else None)
    start = time.perf_counter()
    page.goto(url + path)
    page.wait_for_load_state("networkidle")
    page.close()
    return (max(finished) - start if finished else float("nan")), bodies


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=10_000_000)
    p.add_argument("--readings", type=int, default=50_000_000)
    p.add_argument("--runs", type=int, default=20, help="refreshes timed per screen")
    args = p.parse_args()
    directory = tempfile.mkdtemp(prefix="bench_cockpit_")
    try:
        run(directory, args)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run(directory: str, args) -> None:
    from playwright.sync_api import sync_playwright

    now = int(time.time())
    wh = filled_city(directory, "bench_cockpit", args.orders, args.readings, now)
    opened = evaluate(wh, load_rules(ROOT / "config" / "alerts.yaml"), now, escalate_after_minutes=10).opened
    print(f"   alerts opened for /duty: {opened}")
    settings = load(environ={}).replace(**{"warehouse.url": f"chdb://{directory}/wh?database=bench_cockpit",
                                           "cockpit.port": free_port(), "auth.secret": "b" * 64,
                                           "cockpit.refresh_seconds": 3600.0})
    log = QueryLog(wh)
    web = WebServer(settings, wh).start()
    server = web.app.server  # the same app: Dash gives an app the page callbacks once, when it first serves
    paths = {page["path"] for page in dash.page_registry.values()}
    print(f"\n{'screen':<18}{'cold load':>11}{'page load':>11}{'callbacks':>11}{'refresh median':>16}{'p95':>9}{'bare SQL':>10}"
          f"{'ratio':>7}{'queries':>9}   target")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for i, (path, role, target) in enumerate(SCREENS):
                if path.split("/")[1] not in {p.split("/")[1] for p in paths}:
                    print(f"{path:<18}  (no such screen yet)")
                    continue
                cold_s, _ = page_load(browser, web.url, wh, path, role, f"page{i}")
                load_s, bodies = page_load(browser, web.url, wh, path, role, f"page{i}b")
                own = [b for b in bodies if not json.loads(b)["output"].startswith(".._pages_content")]
                client = signed_in_client(server, wh, role, name=f"client{i}")
                refresh, bare = [], []
                for _ in range(args.runs):
                    log.queries.clear()
                    log.on = True
                    t = time.perf_counter()
                    for body in own:
                        reply = client.post("/_dash-update-component", data=body, content_type="application/json",
                                            headers=csrf_header(client))
                        assert reply.status_code in (200, 204), reply.get_data(as_text=True)[:500]
                    refresh.append(time.perf_counter() - t)
                    log.on = False
                    bare.append(log.bare())
                median, p95, sql = statistics.median(refresh), percentile(refresh, 0.95), statistics.median(bare)
                verdict = [f"page ≤ {PAGE_TARGET_S:g} s: {'met' if load_s <= PAGE_TARGET_S else 'NOT met'}"
                           + ("" if cold_s <= PAGE_TARGET_S else " (cold: NOT met)")]
                if target:
                    verdict.append(f"p95 ≤ {target * 1000:.0f} ms: {'met' if p95 <= target else 'NOT met'}")
                print(f"{path:<18}{cold_s * 1000:>9.0f}ms{load_s * 1000:>9.0f}ms{len(own):>11}{median * 1000:>14.0f}ms{p95 * 1000:>7.0f}ms"
                      f"{sql * 1000:>8.0f}ms{f'{median / sql:.2f}' if log.queries else '—':>7}{len(log.queries):>9}   "
                      + "; ".join(verdict))
            browser.close()
    finally:
        web.stop()


if __name__ == "__main__":
    main()
