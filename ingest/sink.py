"""Batches of decoded rows, written to the warehouse table by table, retried while it is unavailable."""
from __future__ import annotations

import datetime as dt
import logging
import operator
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from ingest.decode import COLUMNS
from streams.kafka_io import Record
from warehouse import Warehouse, WarehouseUnavailable

log = logging.getLogger(__name__)

_GETTERS = {table: operator.itemgetter(*names) for table, names in COLUMNS.items()}
_TS = {table: names.index("ts") for table, names in COLUMNS.items() if table != "rejects"}


def to_columns(table: str, rows: list[dict]) -> dict[str, list]:
    """Rows of one table given by name → its columns, as :meth:`Warehouse.insert_columns` takes them."""
    return _transpose(table, list(map(_GETTERS[table], rows)))


def _transpose(table: str, rows: list[Sequence]) -> dict[str, list]:
    """Rows in the order of :data:`COLUMNS` → columns (in C, by zip)."""
    names = COLUMNS[table]
    return dict(zip(names, map(list, zip(*rows)))) if rows else {n: [] for n in names}


@dataclass
class Count:
    """What one partition contributed: stored rows, rejects, and the newest event time among the rows."""
    rows: int = 0
    rejects: int = 0
    newest: dt.datetime | None = None

    def merge(self, other: "Count") -> None:
        self.rows += other.rows
        self.rejects += other.rejects
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest


class Batch:
    """The unit of insert-then-commit: rows per table, the next offset to commit per partition, and what
    each partition contributed (for ingest_stats)."""

    def __init__(self):
        self.rows: dict[str, list[Sequence]] = defaultdict(list)  # in the order of COLUMNS
        self.offsets: dict[tuple[str, int], int] = {}
        self.counts: dict[tuple[str, int], Count] = {}
        self.size = 0
        self.started = time.monotonic()

    def add(self, records: list[Record], decoded: list[tuple[str, dict]]) -> None:
        """Records and what :meth:`Decoder.decode_batch` made of them (rows by name), in the same order."""
        self.add_ordered(records, [(table, _GETTERS[table](row)) for table, row in decoded])

    def add_ordered(self, records: list[Record], decoded: list[tuple[str, Sequence]]) -> None:
        """Records and what :meth:`Decoder.decode_rows` made of them (rows in the order of :data:`COLUMNS`), in
        the same order."""
        if not self.size:
            self.started = time.monotonic()
        for record, (table, row) in zip(records, decoded):
            self.rows[table].append(row)
            key = (record.topic, record.partition)
            self.offsets[key] = record.offset + 1
            count = self.counts.get(key) or self.counts.setdefault(key, Count())
            if table == "rejects":
                count.rejects += 1
            else:
                count.rows += 1
                ts = row[_TS[table]]
                if count.newest is None or ts > count.newest:
                    count.newest = ts
        self.size += len(records)

    def add_rows(self, table: str, rows: list[dict]) -> None:
        """Rows by name that come from no Kafka record (ingest_stats)."""
        if rows and not self.size:
            self.started = time.monotonic()
        self.rows[table].extend(map(_GETTERS[table], rows))
        self.size += len(rows)


def write_batch(warehouse: Warehouse, batch: Batch, stop: threading.Event, max_backoff: float = 30.0) -> bool:
    """Insert every table of the batch. While the warehouse is unavailable, retry with capped exponential
    backoff; return False as soon as ``stop`` is set (nothing is lost: the offsets stay uncommitted, and a table
    already written is deduplicated when the batch comes again)."""
    delay = 0.5
    for table, rows in batch.rows.items():
        columns = _transpose(table, rows)
        while True:
            try:
                warehouse.insert_columns(table, columns)
                break
            except WarehouseUnavailable as e:
                log.warning("warehouse unavailable, retrying %s insert of %d rows in %.1fs: %s",
                            table, len(rows), delay, e)
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, max_backoff)
    return True
