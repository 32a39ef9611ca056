"""The whole-city map with ~100,000 events in the warehouse: payload and build time of each layer.

    python -m bench.layers [--orders-per-day 16500] [--runs 20] [--clickhouse 127.0.0.1:9000]

A simulated day of the city (work orders, incidents, sensors) goes into a fresh chDB (and the ClickHouse server
when it answers) through the ingest decoder. Then, at the city view the /map page opens with (zoom 9.75, the
city's bounds), each layer is built as its callback builds it — queries, then the pure layer function — and
its JSON measured: the district choropleth, the event points, the stations, the H3 grid. Printed: bytes per
layer and in total (with the district polygons, a static asset the browser caches), and the build time as
median and p95, against the bare SQL time of the same queries (ratio build / SQL).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.common import warehouse_urls
from cockpit import map_view
from cockpit.runtime import load_files
from config.settings import load
from domain.districts import city_boundaries
from domain.paths import ROOT
from ingest.consume import make_decoder
from ingest.direct import store_events
from layers import districts, grid, points, stations
from layers.city_map import city_outline
from simulator.city import City, scenarios_of
from warehouse import connect, queries
from warehouse.migrations import migrate

ZOOM = 9.75  # the /map page's fitted zoom for Guangzhou at 1920×1080


def size(obj) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def build(wh, settings, now: float, box) -> dict[str, object]:
    """Each layer's callback output at the city view, as the page builds it."""
    s = settings
    data = map_view.load_districts(wh, now)
    values = districts.metric_values("open_orders", data.states, data.incidents, data.ecology)
    breaks, colors = districts.metric_scale("open_orders", values)
    anchors = districts.city_anchors(s.city.adcode)
    events = map_view.load_events(wh, now, s.map.event_hours, box, ZOOM)
    water, ecology = map_view.load_stations_latest(wh, now)
    cells = map_view.load_grid(wh, now, s.map.event_hours, box, grid.resolution_for_zoom(ZOOM))
    return {
        "districts": [districts.hideout(values, breaks, None, colors), districts.labels(anchors, values, "件")],
        "events": points.event_features(events.orders, events.incidents, s.city.timezone),
        "stations": stations.station_features(load_files(s).stations, water, ecology,
                                              now, timezone=s.city.timezone),
        "grid": [grid.hex_features(cells), grid.grid_hideout(grid.grid_breaks(cells["n"]))],
    }


def bare_sql(wh, settings, now: float, box) -> None:
    """The same queries, results discarded: the baseline."""
    map_view.load_districts(wh, now)
    map_view.load_events(wh, now, settings.map.event_hours, box, ZOOM)
    map_view.load_stations_latest(wh, now)
    map_view.load_grid(wh, now, settings.map.event_hours, box, grid.resolution_for_zoom(ZOOM))


def timings(fn, runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t)
    seconds.sort()
    return statistics.median(seconds) * 1000, seconds[int(0.95 * (runs - 1))] * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders-per-day", type=int, default=16500)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--clickhouse", default="127.0.0.1:9000")
    args = p.parse_args()
    settings = load(environ={}).replace(**{"simulate.orders_per_day": args.orders_per_day})
    now = time.time()
    codes = list(districts.city_anchors(settings.city.adcode))
    city = City(settings, scenarios_of("rainstorm@-6h,major_incident@-3h", now, codes), now - 86400)
    events = city.advance(now)
    mapped = sum(e["schema"] in ("hotline.v1", "emergency.v1") for e in events)
    print(f"a simulated day: {len(events):,} events, {mapped:,} of them work-order and incident events on the map")
    (south, west), (north, east) = districts.bounds(city_boundaries(settings.city.adcode))
    box = points.viewport_box([[south, west], [north, east]], (west, south, east, north))
    boundaries = (ROOT / "assets" / "geo" / f"{settings.city.adcode}.geojson").stat().st_size
    for name, url in warehouse_urls(args.clickhouse).items():
        wh = connect(url + "layers")
        migrate(wh)
        store_events(wh, make_decoder(settings), events)
        rows = queries.run(wh, ("SELECT count() AS n FROM hotline_events", {}))["n"][0]
        built = build(wh, settings, now, box)
        sizes = {layer: size(out) for layer, out in built.items()}
        median, p95 = timings(lambda: build(wh, settings, now, box), args.runs)
        sql_median, sql_p95 = timings(lambda: bare_sql(wh, settings, now, box), args.runs)
        print(f"\n{name} ({rows:,} hotline rows): one refresh of every layer at the city view")
        for layer, n in sizes.items():
            print(f"   {layer:<10} {n / 1024:8.1f} KiB")
        total = sum(sizes.values())
        print(f"   {'total':<10} {total / 1024:8.1f} KiB per refresh; with the district polygons "
              f"({boundaries / 1024:.0f} KiB, cached) and the outline ({size(city_outline(settings.city.adcode)) / 1024:.0f}"
              f" KiB, in the layout): {(total + boundaries) / 1024:.0f} KiB on first load")
        print(f"   build      median {median:6.1f} ms   p95 {p95:6.1f} ms")
        print(f"   bare SQL   median {sql_median:6.1f} ms   p95 {sql_p95:6.1f} ms   ratio build/SQL {median / sql_median:.2f}")


if __name__ == "__main__":
    main()
