"""Bounded work on /map: what one user can make the server do, before and after cockpit/limits.py and the
viewport bounds of cockpit/map_view.py, in one process.

    python -m bench.bounded [--orders-per-day 100000] [--hours 24] [--parallel 20]

A simulated day is stored in chDB. Then, signed in as the wall role:

1. payload of ``map-events`` with world bounds at zoom 18: the baseline is what the page did before (the world
   box and zoom 18's cell size straight into the cluster queries, every cell a feature), against the callback's
   response now;
2. ``/healthz`` time while ``--parallel`` such requests from one user run against the real server (waitress,
   ``cockpit.threads`` threads): once on an app without the limiter (the baseline), once with it.
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time

from cockpit.serve import WebServer
from config.settings import load
from domain.paths import ROOT
from layers.points import cell_size, event_features
from streams.broker import free_port
from tests.cockpit.calls import map_load
from tests.helpers import signed_in_client, simulated_events, store_directly
from warehouse import connect
from warehouse import map_queries as mq
from warehouse import queries as q
from warehouse.migrations import migrate


def size(obj) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def unbounded_payload(wh, settings, now: float) -> int:
    """The old page: world box, zoom 18's cells, every cell a feature."""
    since, box, cell = int(now - settings.map.event_hours * 3600), (-180.0, -90.0, 180.0, 90.0), cell_size(18)
    orders = q.run(wh, mq.order_clusters(since, int(now), box, cell))
    incidents = q.run(wh, mq.incident_clusters(since, int(now), box, cell))
    return size(event_features(orders, incidents, settings.city.timezone))


def under_load(settings, wh, parallel: int, limited: bool) -> tuple[list[int], list[int], float, float]:
    """(status codes, sizes of the 200s, /healthz quiet s, /healthz under the load s)."""
    web = WebServer(settings.replace(**{"cockpit.port": free_port()}), wh)
    if not limited:  # the baseline: as before the limiter, any number of heavy callbacks per user
        web.app.server.extensions["cockpit_limits"].limit = 10**6
    web.start()
    try:
        client = signed_in_client(web.app.server, wh, "wall", name=f"bench{secrets.token_hex(3)}")
        return map_load(web, client, parallel, quiet_tries=5, timeout=120)
    finally:
        web.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-day", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--parallel", type=int, default=20)
    args = parser.parse_args()
    url = f"chdb://{tempfile.mkdtemp()}/wh?database=bounded"
    wh = connect(url)
    migrate(wh)
    events = simulated_events(args.hours, orders_per_day=args.orders_per_day)
    store_directly(wh, events)
    print(f"stored {len(events):,} simulated events ({args.hours:g} h at {args.orders_per_day:,} orders/day)")
    settings = load(ROOT / "config" / "cockpit.yaml", environ={}).replace(
        **{"warehouse.url": url, "auth.secret": secrets.token_hex(32)})
    before = unbounded_payload(wh, settings, time.time())
    off = under_load(settings, wh, args.parallel, limited=False)
    on = under_load(settings, wh, args.parallel, limited=True)
    after = max(on[1])
    print(f"map-events, world bounds at zoom 18: {before / 1024:,.1f} KiB unbounded → {after / 1024:,.1f} KiB "
          f"bounded (ratio {before / after:.1f})")
    for name, (codes, sizes, quiet, loaded) in (("without the limiter", off), ("with the limiter", on)):
        print(f"{args.parallel} parallel from one user {name}: {codes.count(200)} × 200, {codes.count(429)} × 429; "
              f"/healthz {quiet * 1000:.0f} ms quiet, {loaded * 1000:.0f} ms under the load "
              f"(ratio {loaded / quiet:.1f})")
    print(f"/healthz under the load, without / with the limiter: {off[3] / on[3]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
