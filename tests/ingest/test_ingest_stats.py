"""Batches and per-partition ingest statistics (pure logic, and their query on both backends; the e2e pipeline
tests check them on a broker)."""
import datetime as dt
import time

from ingest.sink import COLUMNS, Batch, to_columns
from ingest.stats import IngestStats
from streams.kafka_io import Record
from warehouse import queries as q

T = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)


def batch(*items: tuple[str, int, int, str, int]) -> Batch:
    """Items of (topic, partition, offset, table, minutes after T)."""
    b = Batch()
    records = [Record(t, p, o, None, b"") for t, p, o, _, _ in items]
    b.add(records, [(table, {**dict.fromkeys(COLUMNS[table]), "ts": T + dt.timedelta(minutes=m)})
                    for *_, table, m in items])
    return b


def test_batch_keeps_the_next_offset_and_counts_per_partition():
    b = batch(("a", 0, 10, "hotline_events", 1), ("a", 0, 11, "rejects", 0), ("a", 1, 4, "hotline_events", 5),
              ("a", 0, 12, "hotline_events", 3))
    assert b.offsets == {("a", 0): 13, ("a", 1): 5}
    assert (b.counts[("a", 0)].rows, b.counts[("a", 0)].rejects) == (2, 1)
    assert b.counts[("a", 0)].newest == T + dt.timedelta(minutes=3)
    assert b.size == 4 and len(b.rows["hotline_events"]) == 3


def test_window_reports_lag_rates_and_newest_event_then_starts_afresh():
    stats = IngestStats("host:1", "g", started=1000.0)
    stats.committed_batch(batch(("a", 0, 10, "hotline_events", 1), ("a", 0, 11, "rejects", 0)))
    stats.committed_batch(batch(("a", 0, 12, "hotline_events", 7)))
    high = {("a", 0): 20, ("a", 1): 9}
    rows = stats.window(1010.0, [("a", 0), ("a", 1)], lambda t, p: high.get((t, p)))
    by_partition = {r["partition"]: r for r in rows}
    first = by_partition[0]
    assert (first["rows"], first["rejects"], first["committed"], first["lag"]) == (2, 1, 13, 7)
    assert first["rows_per_s"] == 0.2 and first["seconds"] == 10.0
    assert first["newest_event"] == T + dt.timedelta(minutes=7)
    idle = by_partition[1]  # assigned, nothing committed by this consumer yet: lag unknown, not 0
    assert (idle["rows"], idle["committed"], idle["high_watermark"], idle["lag"]) == (0, None, 9, None)
    again = stats.window(1020.0, [("a", 0)], lambda t, p: 13)
    assert (again[0]["rows"], again[0]["lag"], again[0]["newest_event"]) == (0, 0, None)
    assert (stats.total.rows, stats.total.rejects) == (2, 1)


def test_to_columns_transposes_rows_in_table_order():
    rows = [{"topic": "t", "partition": p, "offset": p * 10, "key": "", "raw": "x", "reason": "not_json",
             "detail": "", "received_at": T} for p in range(3)]
    columns = to_columns("rejects", rows)
    assert list(columns) == ["topic", "partition", "offset", "key", "raw", "reason", "detail", "received_at"]
    assert columns["offset"] == [0, 10, 20]
    assert to_columns("rejects", [])["topic"] == []


def test_the_newest_window_wins_within_one_second(warehouse):
    """A consumer's last window can follow the previous one within the same second (``ts`` is whole seconds):
    the later one, with the higher committed offset, is the partition's state, in either insert order."""
    second = float(int(time.time()))  # within the table's TTL
    stats = IngestStats("host:1", "g", started=second - 10)
    stats.committed_batch(batch(("a", 0, 10, "hotline_events", 1)))
    earlier = stats.window(second + 0.2, [("a", 0)], lambda t, p: 30)
    stats.committed_batch(batch(("a", 0, 29, "hotline_events", 2)))
    later = stats.window(second + 0.9, [("a", 0)], lambda t, p: 30)
    for rows in (later, earlier):
        warehouse.insert_columns("ingest_stats", to_columns("ingest_stats", rows))
    state = q.run(warehouse, q.ingest_partitions(0)).iloc[0]
    assert (int(state["committed"]), int(state["lag"]), int(state["rows"])) == (30, 0, 2)
