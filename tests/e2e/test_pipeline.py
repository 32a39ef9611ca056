"""Simulator → real broker → ingest → warehouse (both backends): exact counts, also after redelivery."""
import threading
import uuid

import pytest

from streams.ingest import run_ingest
from streams.kafka_io import CLIENTS, committed_offsets
from warehouse import queries as q
from tests.helpers import as_messages, publish_raw, simulated_events, unique_topic, wait_until

BAD = [(None, b"not json at all"), ("k", b"[1, 2, 3]"),
       ("k", b'{"event_id": "x", "schema": "hotline.v9", "ts": 0}')]


def ingest_all(settings, warehouse, topic, ends: dict[int, int], timeout: float = 90) -> None:
    """Run ingest until its group has committed up to ``ends`` on every partition (lag 0), then stop it.

    (Lag is measured against the producer's acknowledged offsets: tansu 0.6's ListOffsets(latest) is wrong.)"""
    stop = threading.Event()
    worker = threading.Thread(target=run_ingest, args=(settings, warehouse, stop, [topic]))
    worker.start()
    try:
        caught_up = lambda: committed_offsets(settings.kafka.bootstrap, settings.kafka.group_id, topic) == ends  # noqa: E731
        assert wait_until(caught_up, timeout), f"ingest did not catch up with {topic} in {timeout}s"
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


def counts(warehouse):
    events = int(q.run(warehouse, q.event_count())["events"].iloc[0])
    rejects = dict(q.run(warehouse, q.reject_counts()).itertuples(index=False))
    return events, rejects


@pytest.mark.parametrize("client", CLIENTS)
def test_simulated_events_count_exactly_once_even_when_redelivered(broker, warehouse, settings_for, client):
    events = simulated_events(hours=4)
    orders = {e["order_id"] for e in events}
    topic = unique_topic()
    ends = publish_raw(broker.bootstrap, topic, as_messages(events) + BAD)
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "ingest.batch_size": 2000, "kafka.client": client})

    ingest_all(settings, warehouse, topic, ends)
    assert counts(warehouse) == (len(events), {"not_json": 1, "not_object": 1, "unknown_schema": 1})

    # Redelivery: the same events published again, and a new consumer group reading the topic from the start.
    ends = publish_raw(broker.bootstrap, topic, as_messages(events[: len(events) // 2]))
    again = settings.replace(**{"kafka.group_id": f"g-{uuid.uuid4().hex[:6]}"})
    ingest_all(again, warehouse, topic, ends)
    assert counts(warehouse) == (len(events), {"not_json": 1, "not_object": 1, "unknown_schema": 1})
    states = q.run(warehouse, q.order_states(0, 0, 2**32 - 1))
    assert int(states["orders"].sum()) == len(orders)


@pytest.mark.parametrize("client", CLIENTS)
def test_committed_offsets_are_not_consumed_again(broker, warehouse, settings_for, client):
    topic = unique_topic()
    events = simulated_events(hours=1, seed=11)
    ends = publish_raw(broker.bootstrap, topic, as_messages(events))
    settings = settings_for(**{"kafka.bootstrap": broker.bootstrap, "kafka.group_id": f"g-{uuid.uuid4().hex[:6]}",
                               "ingest.batch_seconds": 0.2, "kafka.client": client})
    ingest_all(settings, warehouse, topic, ends)
    later = simulated_events(hours=1, seed=12)
    ends = publish_raw(broker.bootstrap, topic, as_messages(later))
    ingest_all(settings, warehouse, topic, ends)  # the same group resumes after its commit
    assert q.run(warehouse, q.event_count())["events"].iloc[0] == len(events) + len(later)
    assert q.run(warehouse, q.ingest_health())["rows"].iloc[0] == len(events) + len(later)  # nothing read twice
