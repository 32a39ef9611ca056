"""Hot paths of the hotline slice, measured in one process and printed with ratios against baselines.

    python -m bench.hotline_path [--events 200000] [--clickhouse 127.0.0.1:9000]

1. decode + validate + normalise (ingest.decode.Decoder) vs the baseline json.loads alone;
2. rows → columns → columnar insert, into chDB and (if reachable) the ClickHouse server;
3. one /wall refresh (all its queries, cockpit.wall_view.load) on each backend, median and p95 of 20 runs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import msgspec

from bench.common import warehouse_urls
from cockpit import wall_view
from domain.districts import DistrictIndex
from ingest.decode import Decoder
from ingest.sink import Batch, to_columns, write_batch
from simulator.hotline import HotlineSimulator
from streams.kafka_io import Record
from warehouse import connect
from warehouse.migrations import migrate


def timed(fn, *args):
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--clickhouse", default="127.0.0.1:9000")
    args = ap.parse_args()

    districts = DistrictIndex.for_city("440100")
    now = time.time()
    sim = HotlineSimulator(districts, orders_per_day=40_000, seed=1, start=now - 4 * 86400)
    events = sim.advance(now)[: args.events]
    records = [Record("city.hotline", 0, i, e["order_id"].encode(), msgspec.json.encode(e))
               for i, e in enumerate(events)]
    n = len(records)
    size = sum(len(r.value) for r in records) / n
    print(f"{n:,} hotline events, mean {size:.0f} bytes")

    base, _ = timed(lambda: [json.loads(r.value) for r in records])
    decoder = Decoder(districts)
    took, rows = timed(lambda: [d for i in range(0, n, 5000) for d in decoder.decode_batch(records[i:i + 5000])])
    assert all(table == "hotline_events" for table, _ in rows)
    print(f"decode+validate+normalise: {n / took:,.0f} events/s   (json.loads alone {n / base:,.0f}/s; "
          f"ratio {base / took:.2f})")
    columns_s, columns = timed(to_columns, "hotline_events", [row for _, row in rows])
    print(f"rows → columns: {n / columns_s:,.0f} rows/s")

    for name, url in warehouse_urls(args.clickhouse).items():
        wh = connect(url + "hotline")
        migrate(wh)
        took, _ = timed(wh.insert_columns, "hotline_events", columns)
        print(f"[{name}] columnar insert: {n / took:,.0f} rows/s ({took:.2f} s)")
        batch = Batch()
        batch.add(records[:5000], rows[:5000])
        took, _ = timed(write_batch, wh, batch, threading.Event())
        print(f"[{name}] write of a 5,000-row batch: {took * 1000:.0f} ms")
        runs = [timed(wall_view.load, wh, now, "Asia/Shanghai")[0] for _ in range(20)]
        print(f"[{name}] /wall refresh (6 queries): median {statistics.median(runs) * 1000:.0f} ms, "
              f"p95 {sorted(runs)[18] * 1000:.0f} ms")
        wh.execute(f"DROP DATABASE IF EXISTS {wh.database}")


if __name__ == "__main__":
    main()
