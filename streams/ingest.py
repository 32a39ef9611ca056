"""The ingest loop: poll → decode → buffer → insert → commit. At-least-once; storage dedupes by event_id.

Offsets are committed only after every buffered row is in the warehouse, so a crash at any point leads
to redelivery, never to loss; the warehouse tables and queries make a redelivered event count once.
"""
from __future__ import annotations

import logging
import threading
import time

from config.settings import Settings
from streams.decode import Decoder, Limits
from streams.districts import ROOT, DistrictIndex
from streams.kafka_io import ensure_topics, open_consumer
from streams.sink import WarehouseSink
from streams.stations import load_stations
from warehouse import Warehouse

log = logging.getLogger(__name__)


def make_decoder(settings: Settings) -> Decoder:
    s = settings.ingest
    limits = Limits(s.max_message_bytes, s.reject_raw_bytes, s.max_past_days, s.max_future_minutes)
    stations = load_stations(ROOT / settings.city.stations, city=settings.city.adcode)
    return Decoder(DistrictIndex.for_city(settings.city.adcode), stations=stations, timezone=settings.city.timezone,
                   default_crs=settings.city.default_crs, limits=limits)


def run_ingest(settings: Settings, warehouse: Warehouse, stop: threading.Event,
               topics: list[str] | None = None) -> WarehouseSink:
    """Consume until ``stop`` is set; flush and commit on the way out. Returns the sink (its counters)."""
    k, s = settings.kafka, settings.ingest
    topics = topics or [t.strip() for t in s.topics.split(",")]
    ensure_topics(k.bootstrap, topics, k.partitions)
    decoder = make_decoder(settings)
    consumer = open_consumer(k.client, k.bootstrap, k.group_id, topics, max_poll_interval_ms=k.max_poll_interval_ms,
                             session_timeout_ms=k.session_timeout_ms, max_message_bytes=s.max_message_bytes)
    sink = WarehouseSink(warehouse)
    held: list = []  # records handed over by a rebalance while paused for backpressure

    def keepalive() -> None:
        held.extend(consumer.keepalive())

    last_flush = time.monotonic()
    log.info("ingest: group %s consuming %s from %s (%s client)", k.group_id, ",".join(topics), k.bootstrap, k.client)
    try:
        while not stop.is_set():
            records = held + consumer.poll(timeout=0.2, max_records=s.batch_size)
            held.clear()
            for record in records:
                sink.add(*decoder.decode(record))
            due = sink.size >= s.batch_size or time.monotonic() - last_flush >= s.batch_seconds
            if sink.size and due:
                if not sink.flush(stop, keepalive):
                    return sink
                consumer.resume()
                consumer.commit()
                last_flush = time.monotonic()
        if sink.size and sink.flush(stop):  # one attempt: stop is set
            consumer.commit()
    finally:
        consumer.close()
        log.info("ingest stopped: %s", dict(sink.written))
    return sink
