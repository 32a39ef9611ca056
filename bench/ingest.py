"""Ingest throughput per Kafka client: raw poll+decode (a) against the full ingest into each warehouse (b).

    python -m bench.ingest [--events 300000] [--clickhouse 127.0.0.1:9000]

Publishes M realistic hotline events to an embedded tansu broker, then for each client measures (a) a
consumer group polling and decoding everything, and (b) ``ingest.consume.run_ingest`` into chDB and into the
ClickHouse server until the group has committed the whole topic. Each run is a new consumer group, whose
join takes ~3 s here: (a) is timed from its first record, (b) from its first commit to its last (the
steady rate), and both are also reported including the join.
"""
from __future__ import annotations

import argparse
import threading
import time
import uuid

import msgspec

from bench.common import warehouse_urls
from config.settings import load
from domain.districts import DistrictIndex
from ingest.consume import freeze_startup_heap, make_decoder, run_ingest
from simulator.hotline import HotlineSimulator
from streams.broker import EmbeddedBroker
from streams.kafka_io import CLIENTS, ensure_topics, open_consumer, open_producer
from warehouse import connect
from warehouse.migrations import migrate

TOPIC = "bench.hotline"


def publish(bootstrap: str, count: int) -> tuple[int, float]:
    """Publish ``count`` simulated events; return (count, mean size)."""
    now = time.time()
    sim = HotlineSimulator(DistrictIndex.for_city("440100"), orders_per_day=200_000, seed=3, start=now - 3 * 86400)
    events = sim.advance(now)[:count]
    ensure_topics(bootstrap, [TOPIC], 3)
    producer = open_producer(bootstrap, "confluent")
    encoded = [msgspec.json.encode(e) for e in events]
    for event, value in zip(events, encoded):
        producer.send(TOPIC, event["order_id"], value)
    producer.flush(120)
    return len(events), sum(map(len, encoded)) / len(encoded)


def poll_and_decode(settings, count: int) -> tuple[float, float]:
    """(seconds to first record, seconds for all) for a fresh group that polls and decodes everything."""
    k = settings.kafka
    consumer = open_consumer(k.client, k.bootstrap, f"a-{uuid.uuid4().hex[:6]}", [TOPIC],
                             max_poll_interval_ms=k.max_poll_interval_ms, session_timeout_ms=k.session_timeout_ms,
                             max_message_bytes=settings.ingest.max_message_bytes)
    decoder = make_decoder(settings)
    freeze_startup_heap()  # as run_ingest does
    start, first, seen = time.perf_counter(), None, 0
    while seen < count:
        records = consumer.poll(0.5, 5000)
        if records and first is None:
            first = time.perf_counter() - start
        decoder.decode_batch(records)
        seen += len(records)
    total = time.perf_counter() - start
    consumer.close()
    return first or 0.0, total


def full_ingest(settings, warehouse, ends: dict[int, int]) -> tuple[float, float, int]:
    """Run run_ingest (fresh group) until it has committed everything: (seconds in all, seconds from its first
    commit to its last, events committed after the first commit). Commits are watched by a librdkafka
    client outside the group, every 20 ms (it runs in C, off the GIL)."""
    from confluent_kafka import Consumer, TopicPartition

    watch = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": settings.kafka.group_id})
    partitions = [TopicPartition(TOPIC, p) for p in ends]
    stop = threading.Event()
    worker = threading.Thread(target=run_ingest, args=(settings, warehouse, stop, [TOPIC]))
    start = time.perf_counter()
    worker.start()
    first = None
    while True:
        done = {tp.partition: tp.offset for tp in watch.committed(partitions, timeout=10) if tp.offset >= 0}
        now = time.perf_counter()
        if done and first is None:
            first = (now, sum(done.values()))
        if done == ends:
            break
        time.sleep(0.02)
    stop.set()
    worker.join()
    watch.close()
    total = sum(ends.values())
    return now - start, now - first[0], total - first[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--clickhouse", default="127.0.0.1:9000")
    args = ap.parse_args()
    warehouses = warehouse_urls(args.clickhouse)
    with EmbeddedBroker() as broker:
        count, size = publish(broker.bootstrap, args.events)
        print(f"{count:,} events of {size:.0f} bytes on {TOPIC} (3 partitions, tansu)")
        base = load(environ={}).replace(**{"kafka.bootstrap": broker.bootstrap, "ingest.batch_size": 20000})
        ends = _ends(broker.bootstrap, count)
        for client in CLIENTS:
            settings = base.replace(**{"kafka.client": client})
            join, total = poll_and_decode(settings, count)
            a = count / (total - join)
            print(f"[{client}] (a) poll+decode: {a:,.0f} events/s after a {join:.1f} s group join "
                  f"({count / total:,.0f}/s including it)")
            for name, url in warehouses.items():
                wh = connect(url + client.replace("-", "_"))  # a database per client
                migrate(wh)
                took, steady, events = full_ingest(
                    settings.replace(**{"kafka.group_id": f"b-{uuid.uuid4().hex[:6]}"}), wh, ends)
                b = events / steady
                print(f"[{client}] (b) full ingest into {name}: {b:,.0f} events/s from the first commit to the "
                      f"last ({count / took:,.0f}/s including the join and first batch); b/a = {b / a:.2f}")
                wh.execute(f"DROP DATABASE IF EXISTS {wh.database}")


def _ends(bootstrap: str, count: int) -> dict[int, int]:
    """The topic's end offsets (what a group commits once it consumed everything), read by consuming all
    ``count`` records: tansu's ListOffsets(LATEST) is not the record offset."""
    consumer = open_consumer("confluent", bootstrap, f"e-{uuid.uuid4().hex[:6]}", [TOPIC], max_poll_interval_ms=10000,
                             session_timeout_ms=6000, max_message_bytes=65536)
    ends: dict[int, int] = {}
    seen = 0
    while seen < count:
        records = consumer.poll(0.5, 10000)
        for r in records:
            ends[r.partition] = max(ends.get(r.partition, 0), r.offset + 1)
        seen += len(records)
    consumer.close()
    return ends


if __name__ == "__main__":
    main()
