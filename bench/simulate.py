"""The simulated city's speed: how long a back-fill takes, and what publishing adds over a bare producer.

    python -m bench.simulate [--hours 24]

1. each simulator's ``advance`` over the hours (hotline, incidents, sensors), then the whole ``City`` with
   and without all four scenarios: events/s of simulated history;
2. publishing those events to the embedded broker through ``Publisher`` (encode, route, record to a file)
   against the baseline of sending the same pre-encoded bytes with the bare producer;
3. ``replay``'s check of the recorded file (``read_events``): lines/s.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import msgspec

from config.settings import load
from domain.districts import DistrictIndex
from domain.topics import TOPICS, route
from simulator.city import City, Publisher, scenarios_of
from simulator.replay import read_events
from streams.broker import EmbeddedBroker
from streams.kafka_io import ensure_topics, open_producer

HOUR = 3600


def rate(count: int, seconds: float) -> str:
    return f"{count:>9,} events in {seconds:6.2f} s = {count / seconds:>9,.0f}/s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=24.0)
    args = p.parse_args()
    settings = load(environ={})
    end = time.time() // HOUR * HOUR
    start = end - args.hours * HOUR
    codes = DistrictIndex.for_city(settings.city.adcode).codes

    print(f"1. simulated history: {args.hours:g} h, {settings.simulate.orders_per_day:,} orders/day")
    for sim in City(settings, (), start).simulators:
        t = time.perf_counter()
        n = sum(len(sim.advance(min(end, start + (h + 1) * HOUR))) for h in range(int(args.hours)))
        print(f"   {type(sim).__name__:<20} {rate(n, time.perf_counter() - t)}")
    everything = scenarios_of(f"rainstorm@-{args.hours / 2:g}h,pollution@-{args.hours:g}h,"
                              f"hotline_surge@-{args.hours / 3:g}h,major_incident@-{args.hours / 4:g}h", end, codes)
    for label, scenarios in (("City", ()), ("City, 4 scenarios", everything)):
        city = City(settings, scenarios, start)
        t = time.perf_counter()
        events = []
        while city.now < end:
            events += city.advance(min(end, city.now + HOUR))
        print(f"   {label:<20} {rate(len(events), time.perf_counter() - t)}")

    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        ensure_topics(broker.bootstrap, sorted(TOPICS.values()), 3)
        encoded = [(*route(e), msgspec.json.encode(e)) for e in events]
        producer = open_producer(broker.bootstrap)
        t = time.perf_counter()
        for topic, key, value in encoded:
            producer.send(topic, key, value)
        producer.flush()
        bare = time.perf_counter() - t
        record = Path(tmp) / "day.jsonl"
        with open(record, "xb") as out:
            publisher = Publisher(producer, record=out)
            t = time.perf_counter()
            for h in range(0, len(events), 20_000):
                publisher.send(events[h:h + 20_000])
            full = time.perf_counter() - t
        producer.close()
        print(f"2. publish to the embedded broker ({sum(len(v) for *_, v in encoded) / len(encoded):.0f} B average)")
        print(f"   bare producer, pre-encoded {rate(len(events), bare)}")
        print(f"   Publisher (+encode, record) {rate(len(events), full)}   ratio {bare / full:.2f}")
        t = time.perf_counter()
        lines = read_events(record)
        print(f"3. replay's file check        {rate(len(lines), time.perf_counter() - t)}")


if __name__ == "__main__":
    main()
