"""The broker stopped and started again (tansu with memory storage: it comes back with no topics, no committed
offsets, offsets from 0): ingest goes on by itself and misses nothing published after the restart; a producer
from before the restart says it cannot deliver instead of dropping messages unseen; the demo's embedded broker
is started again by the demo itself."""
import threading
import time

import pytest

from ingest.consume import run_ingest
from streams.kafka_io import StreamError, open_producer
from tests.helpers import (
    as_messages,
    publish_raw,
    simulated_events,
    unique_topic,
    wait_until,
)
from warehouse import queries as q


def distinct(warehouse) -> int:
    return int(q.run(warehouse, q.event_count())["events"].iloc[0])


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_ingest_goes_on_through_a_broker_restart_and_misses_nothing(client, restartable_broker, settings_for,
                                                                    warehouse):
    topic = unique_topic()
    settings = settings_for(**{"kafka.bootstrap": restartable_broker.bootstrap, "kafka.client": client,
                               "kafka.group_id": f"g-{topic}", "ingest.batch_seconds": 0.3})
    before = simulated_events(hours=2, seed=41)
    after = simulated_events(hours=2, seed=42)  # other orders: other event ids
    stop = threading.Event()
    worker = threading.Thread(target=run_ingest, args=(settings, warehouse, stop, [topic]), daemon=True)
    publish_raw(restartable_broker.bootstrap, topic, as_messages(before))
    worker.start()
    try:
        assert wait_until(lambda: distinct(warehouse) == len(before), timeout=60)
        restartable_broker.restart()  # everything it held is gone
        publish_raw(restartable_broker.bootstrap, topic, as_messages(after))  # before ingest fetches again
        assert wait_until(lambda: distinct(warehouse) == len(before) + len(after), timeout=90), \
            f"{distinct(warehouse)} of {len(before) + len(after)}"
        assert worker.is_alive()
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_a_producer_that_outlived_a_broker_restart_raises_instead_of_dropping(client, restartable_broker):
    topic = unique_topic()
    publish_raw(restartable_broker.bootstrap, topic, [("k", b"first")])
    producer = open_producer(restartable_broker.bootstrap, client)
    producer.send(topic, "k", b"before")
    producer.flush()
    restartable_broker.restart()
    publish_raw(restartable_broker.bootstrap, topic, [("k", b"topic again")])
    began = time.monotonic()
    with pytest.raises(StreamError, match="produce failed"):
        for _ in range(600):  # a real publisher goes on sending; within the delivery timeout one call raises
            producer.send(topic, "k", b"after")
            producer.flush(timeout=1)
    assert time.monotonic() - began < 60
