"""Per-partition ingest statistics: what was committed in a window, the lag behind the partition's end, the
newest event time. One row per consumer, topic and partition every window goes to ``ingest_stats``."""
from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Callable

from ingest.sink import Batch, Count


def consumer_name() -> str:
    """host:pid, unique among the ingest processes of a group."""
    return f"{socket.gethostname()}:{os.getpid()}"


class IngestStats:
    def __init__(self, consumer: str, group_id: str, started: float):
        self.consumer, self.group_id = consumer, group_id
        self.window_start = started
        self.counts: dict[tuple[str, int], Count] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.total = Count()

    def committed_batch(self, batch: Batch) -> None:
        """Count a batch whose offsets were committed."""
        for key, count in batch.counts.items():
            self.counts.setdefault(key, Count()).merge(count)
            self.total.merge(count)
        self.committed.update(batch.offsets)

    def window(self, now: float, assignment: list[tuple[str, int]],
               highwater: Callable[[str, int], int | None]) -> list[dict]:
        """The ``ingest_stats`` rows of the window that ends now (every assigned or counted partition), then
        start a new window. Lag is the partition's end minus the next offset to commit, unknown (None) until
        this consumer has both."""
        seconds = max(now - self.window_start, 1e-3)
        ts = dt.datetime.fromtimestamp(int(now), dt.timezone.utc)
        rows = []
        for topic, partition in sorted(set(assignment) | set(self.counts)):
            count = self.counts.get((topic, partition), Count())
            committed = self.committed.get((topic, partition))
            high = highwater(topic, partition)
            lag = max(0, high - committed) if high is not None and committed is not None else None
            rows.append({"ts": ts, "consumer": self.consumer, "group_id": self.group_id, "topic": topic,
                         "partition": partition, "seconds": seconds, "rows": count.rows, "rejects": count.rejects,
                         "rows_per_s": count.rows / seconds, "rejects_per_s": count.rejects / seconds,
                         "committed": committed, "high_watermark": high, "lag": lag, "newest_event": count.newest})
        self.counts.clear()
        self.window_start = now
        return rows
