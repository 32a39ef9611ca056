"""The ingest loop: poll → decode → batch → insert → commit. At-least-once; storage dedupes by event_id.

Two stages overlap: while a writer thread inserts one batch, the consumer thread polls and decodes the next
(the inserts release the GIL). A batch's offsets — the next offset per partition of its own records — are
committed only after the warehouse accepted all of it, so a crash at any point leads to redelivery, never to
loss; the warehouse tables and queries make a redelivered event count once. At most one batch is in flight
and one is filling: when the next is due, the consumer waits up to a second for the writer; if the writer is
still busy (the warehouse is slow or down), it pauses its partitions and keeps polling, so it stays in its
group without fetching more. (Pausing on every wait would cost the client's prefetched records.)
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from config.settings import Settings
from config.stations import load_stations
from domain.districts import DistrictIndex
from domain.paths import ROOT
from ingest.decode import Decoder, Limits
from ingest.sink import Batch, write_batch
from ingest.stats import IngestStats, consumer_name
from streams.kafka_io import Consumer, ensure_topics, open_consumer
from warehouse import Warehouse

log = logging.getLogger(__name__)


def make_decoder(settings: Settings, clock: Callable[[], float] = time.time) -> Decoder:
    """The configured decoder; ``clock`` is its "now" for events from the future or too far in the past."""
    s = settings.ingest
    limits = Limits(s.max_message_bytes, s.reject_raw_bytes, s.max_past_days, s.max_future_minutes)
    stations = load_stations(ROOT / settings.city.stations, city=settings.city.adcode)
    return Decoder(DistrictIndex.for_city(settings.city.adcode), stations=stations, timezone=settings.city.timezone,
                   default_crs=settings.city.default_crs, limits=limits, clock=clock)


def run_ingest(settings: Settings, warehouse: Warehouse, stop: threading.Event,
               topics: list[str] | None = None) -> IngestStats:
    """Consume until ``stop`` is set; flush and commit on the way out. Returns the statistics (``total``: rows
    and rejects committed by this run)."""
    k, s = settings.kafka, settings.ingest
    topics = topics or [t.strip() for t in s.topics.split(",")]
    ensure_topics(k.bootstrap, topics, k.partitions)
    decoder = make_decoder(settings)
    consumer = open_consumer(k.client, k.bootstrap, k.group_id, topics, max_poll_interval_ms=k.max_poll_interval_ms,
                             session_timeout_ms=k.session_timeout_ms, max_message_bytes=s.max_message_bytes)
    stats = IngestStats(consumer_name(), k.group_id, time.time())
    freeze_startup_heap()
    log.info("ingest: group %s consuming %s from %s (%s client)", k.group_id, ",".join(topics), k.bootstrap, k.client)
    with ThreadPoolExecutor(1, thread_name_prefix="ingest-writer") as writer:
        _Loop(settings, warehouse, consumer, decoder, stats, writer, stop).run()
    return stats


def freeze_startup_heap() -> None:
    """Move what exists now — modules, district polygons, the station registry, client state — out of the
    garbage collector's reach. Every full collection walked those objects again while ingest allocates rows by
    the hundred thousand; frozen, the collections walk the young rows only (measured: 47–50k → 60–64k events/s
    into chDB). They are long-lived anyway; cycles among them are never collected, a one-off cost."""
    gc.collect()
    gc.freeze()


class _Loop:
    """The consumer thread's side of the pipeline (the consumer is used from this thread only)."""

    def __init__(self, settings: Settings, warehouse: Warehouse, consumer: Consumer, decoder: Decoder,
                 stats: IngestStats, writer: ThreadPoolExecutor, stop: threading.Event):
        self.s = settings.ingest
        self.warehouse, self.consumer, self.decoder, self.stats = warehouse, consumer, decoder, stats
        self.writer, self.stop = writer, stop
        self.batch = Batch()
        self.inflight: tuple[Future, Batch] | None = None
        self.held: list = []  # records handed over by a rebalance while paused
        self.paused = False
        self.next_stats = time.monotonic() + self.s.stats_seconds

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._step()
            self._drain()
        finally:
            self.consumer.close()
            total = self.stats.total
            log.info("ingest stopped", extra={"fields": {"rows": total.rows, "rejects": total.rejects}})

    def _step(self) -> None:
        self._finish_inflight(wait=0)
        if time.monotonic() >= self.next_stats:
            self._stats_window()
        if self._due():
            if self.inflight is None:
                self.inflight = (self.writer.submit(write_batch, self.warehouse, self.batch, self.stop), self.batch)
                self.batch = Batch()
            else:
                self._finish_inflight(wait=1.0)  # the writer is usually done within a second
                if self.inflight is not None:  # the warehouse is slow or down: hold still, stay in the group
                    self.paused = True
                    self.held.extend(self.consumer.keepalive())
                return
        records = self.held + self.consumer.poll(timeout=0.2, max_records=self.s.batch_size)
        self.held = []
        if records:
            self.batch.add_ordered(records, self.decoder.decode_rows(records))

    def _due(self) -> bool:
        b = self.batch
        return b.size >= self.s.batch_size or (b.size > 0 and time.monotonic() - b.started >= self.s.batch_seconds)

    def _finish_inflight(self, wait: float | None) -> None:
        """If the batch in flight is written (waiting up to ``wait`` seconds, None: until it is), commit its
        offsets and resume fetching if paused. A writer error other than unavailability is raised here."""
        if self.inflight is None:
            return
        future, batch = self.inflight
        if wait == 0 and not future.done():
            return
        try:
            written = future.result(timeout=wait)
        except TimeoutError:
            return
        self.inflight = None
        if written and self.consumer.commit(batch.offsets):
            self.stats.committed_batch(batch)
        if self.paused:
            self.consumer.resume()
            self.paused = False

    def _stats_window(self) -> None:
        rows = self.stats.window(time.time(), self.consumer.assignment(), self.consumer.highwater)
        self.batch.add_rows("ingest_stats", rows)
        for row in rows:
            log.info("ingest stats", extra={"fields": {k: row[k] for k in _LOGGED}})
        self.next_stats = time.monotonic() + self.s.stats_seconds

    def _drain(self) -> None:
        """On stop: let the batch in flight finish (one attempt if the warehouse is down), then write and
        commit what is buffered, once, and the last statistics window; what fails stays uncommitted and is
        redelivered."""
        if self.inflight is not None:
            self._finish_inflight(wait=None)
        if self.batch.size and write_batch(self.warehouse, self.batch, self.stop):
            if self.consumer.commit(self.batch.offsets):
                self.stats.committed_batch(self.batch)
        self.batch = Batch()
        self._stats_window()
        write_batch(self.warehouse, self.batch, self.stop)


_LOGGED = ("topic", "partition", "rows", "rejects", "rows_per_s", "lag", "newest_event")

