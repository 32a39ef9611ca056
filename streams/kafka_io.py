"""The one module that talks to Kafka: topics, producers and consumer-group members, behind one small interface
with two implementations selected by ``kafka.client``:

- ``confluent`` (default): confluent-kafka, i.e. librdkafka in C — measured here ~7× the poll rate;
- ``kafka-python``: pure Python, the stack's named client, kept supported.

Records come back as plain :class:`Record` tuples so that decoding and sinks never see a client type.
Offsets are committed only by an explicit ``commit(offsets)`` of the next offset per partition of a batch the
warehouse accepted, so polling can run ahead of the insert in flight. A commit refused
because the group moved the partitions away is not fatal (returns False): the rows are stored, and the new
owner's redelivery is deduplicated by the warehouse.

Backpressure: while the warehouse is unavailable the ingest calls ``keepalive()``, which pauses every assigned
partition and polls, so the consumer stays in its group without fetching; ``resume()`` undoes the pause.
Records that a rebalance hands over during the pause are returned, never dropped.

Lag: ``highwater()`` is the partition's end as the last fetch response reported it, not a ListOffsets
request: tansu 0.6 answers ListOffsets(LATEST) with a batch count, while its fetch responses are right.
"""
from __future__ import annotations

import logging
from typing import NamedTuple, Protocol

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

# A message not delivered within this long fails (and the producer's next call raises): an idempotent producer
# that outlived a broker which forgot it (tansu with memory storage) would otherwise retry for ever.
DELIVERY_TIMEOUT_MS = 30_000
CLIENTS = ("confluent", "kafka-python")


class StreamError(RuntimeError):
    """Kafka could not be reached or refused a request."""


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Consumer(Protocol):
    def poll(self, timeout: float, max_records: int) -> list[Record]: ...
    def commit(self, offsets: dict[tuple[str, int], int]) -> bool: ...
    def highwater(self, topic: str, partition: int) -> int | None: ...
    def assignment(self) -> list[tuple[str, int]]: ...
    def keepalive(self) -> list[Record]: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...


class Producer(Protocol):
    def send(self, topic: str, key: str | bytes | None, value: bytes) -> None: ...
    def flush(self, timeout: float = 30) -> None: ...
    def close(self) -> None: ...


def ensure_topics(bootstrap: str, topics: list[str], partitions: int) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="cockpit-admin")
    except KafkaError as e:
        raise StreamError(f"cannot reach Kafka at {bootstrap}: {e}") from e
    try:
        missing = [t for t in topics if t not in set(admin.list_topics())]
        for topic in missing:
            try:
                admin.create_topics([NewTopic(topic, partitions, 1)])
                log.info("created topic %s with %d partitions", topic, partitions)
            except TopicAlreadyExistsError:
                pass  # another process created it in between
    finally:
        admin.close()


def committed_offsets(bootstrap: str, group_id: str, topic: str) -> dict[int, int]:
    """{partition: committed offset} of a consumer group on a topic (empty before its first commit). Asked
    by a librdkafka client that does not join the group: cheap enough to poll while ingest runs."""
    from confluent_kafka import Consumer as _Consumer
    from confluent_kafka import KafkaException, TopicPartition

    client = _Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                        "logger": log})
    try:
        partitions = client.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = client.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    except KafkaException as e:
        raise StreamError(f"cannot read the offsets of group {group_id}: {e}") from e
    finally:
        client.close()
    return {tp.partition: tp.offset for tp in offsets if tp.offset >= 0}


_new = tuple.__new__


def _key(key: str | bytes | None) -> bytes | None:
    return key.encode() if isinstance(key, str) else key


class _Undelivered:
    """The first delivery failure of a producer's messages, raised by its next call: a message the broker never
    took must not pass unseen (the job restarts and publishes again; the warehouse counts each event once)."""

    def __init__(self):
        self.error: str | None = None
        self.count = 0

    def failed(self, error) -> None:
        self.count += 1
        self.error = self.error or str(error)

    def check(self) -> None:
        if self.error is not None:
            raise StreamError(f"produce failed: {self.count} message(s) not delivered: {self.error}")


class KafkaPythonProducer:
    def __init__(self, bootstrap: str):
        try:
            self._p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                    batch_size=256 * 1024, max_request_size=4 * 1024 * 1024,
                                    request_timeout_ms=DELIVERY_TIMEOUT_MS // 2, delivery_timeout_ms=DELIVERY_TIMEOUT_MS)
        except KafkaError as e:
            raise StreamError(f"cannot reach Kafka at {bootstrap}: {e}") from e
        self._undelivered = _Undelivered()

    def send(self, topic, key, value):
        """Queue a message; returns the client's future (its ``get()`` gives partition and offset)."""
        self._undelivered.check()
        future = self._p.send(topic, key=_key(key), value=value)
        future.add_errback(self._undelivered.failed)
        return future

    def flush(self, timeout=30):
        try:
            self._p.flush(timeout)
        except KafkaError as e:
            raise StreamError(f"produce failed: {e}") from e
        self._undelivered.check()

    def close(self):
        self._p.close(timeout=5)


class KafkaPythonConsumer:
    def __init__(self, bootstrap: str, group_id: str, topics: list[str], *, max_poll_interval_ms: int,
                 session_timeout_ms: int, max_message_bytes: int):
        try:
            self._c = KafkaConsumer(
                *topics, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                auto_offset_reset="earliest", max_poll_interval_ms=max_poll_interval_ms,
                session_timeout_ms=session_timeout_ms, heartbeat_interval_ms=max(300, session_timeout_ms // 6),
                max_partition_fetch_bytes=max(8 << 20, max_message_bytes * 4))
        except KafkaError as e:
            raise StreamError(f"cannot reach Kafka at {bootstrap}: {e}") from e
        self._topics = list(topics)
        self._topic_ids: dict = {}

    def poll(self, timeout, max_records):
        batches = self._c.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        records = [Record(m.topic, m.partition, m.offset, m.key, m.value) for msgs in batches.values() for m in msgs]
        self._reread_recreated()
        return records

    def _reread_recreated(self) -> None:
        """A topic whose id changed was deleted and created again (a broker that lost its data: tansu with memory
        storage, after a restart): its offsets start at 0 again, and this client would go on from its old
        position and skip what was published below it. Read such a topic from the start instead (what was read
        before comes again and is deduplicated by the warehouse). librdkafka does this by itself."""
        cluster = self._c._client.cluster  # kafka-python keeps the topic ids of its metadata there
        for topic in self._topics:
            now = cluster.topic_id(topic)
            before, self._topic_ids[topic] = self._topic_ids.get(topic), now
            if before is not None and now is not None and now != before:
                partitions = [tp for tp in self._c.assignment() if tp.topic == topic]
                log.warning("topic %s was created again on the broker (its data is gone): reading it from the "
                            "start", topic, extra={"fields": {"partitions": len(partitions)}})
                if partitions:
                    self._c.seek_to_beginning(*partitions)

    def commit(self, offsets):
        from kafka import TopicPartition
        from kafka.errors import CommitFailedError
        from kafka.structs import OffsetAndMetadata

        if not offsets:
            return True
        try:
            self._c.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
            return True
        except CommitFailedError as e:
            log.warning("commit refused, the group rebalanced: %s", e)
            return False

    def highwater(self, topic, partition):
        from kafka import TopicPartition
        from kafka.errors import IllegalStateError

        try:
            return self._c.highwater(TopicPartition(topic, partition))
        except IllegalStateError:  # moved away by a rebalance since the assignment was read
            return None

    def assignment(self):
        return sorted((tp.topic, tp.partition) for tp in self._c.assignment())

    def keepalive(self):
        self._c.pause(*self._c.assignment())
        return self.poll(0, 10_000)

    def resume(self):
        self._c.resume(*self._c.paused())

    def close(self):
        self._c.close(autocommit=False)


class ConfluentProducer:
    def __init__(self, bootstrap: str):
        from confluent_kafka import Producer as _Producer

        self._p = _Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
                             "enable.idempotence": True, "message.max.bytes": 4 * 1024 * 1024,
                             "message.timeout.ms": DELIVERY_TIMEOUT_MS})
        self._undelivered = _Undelivered()

    def _delivered(self, error, _message) -> None:
        if error is not None:
            self._undelivered.failed(error)

    def send(self, topic, key, value):
        self._undelivered.check()
        while True:
            try:
                self._p.produce(topic, value=value, key=_key(key), on_delivery=self._delivered)
                return None
            except BufferError:  # local queue full: let deliveries drain, then retry
                self._p.poll(0.1)
                self._undelivered.check()

    def flush(self, timeout=30):
        if self._p.flush(timeout):
            raise StreamError(f"produce failed: messages still undelivered after {timeout:.0f}s")
        self._undelivered.check()

    def close(self):
        self.flush(5)


class ConfluentConsumer:
    def __init__(self, bootstrap: str, group_id: str, topics: list[str], *, max_poll_interval_ms: int,
                 session_timeout_ms: int, max_message_bytes: int):
        from confluent_kafka import Consumer as _Consumer

        self._c = _Consumer({
            "bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "max.poll.interval.ms": max_poll_interval_ms,
            "session.timeout.ms": session_timeout_ms, "heartbeat.interval.ms": max(300, session_timeout_ms // 6),
            "max.partition.fetch.bytes": max(8 << 20, max_message_bytes * 4),
            "fetch.max.bytes": max(1 << 26, max_message_bytes * 8), "logger": log})
        self._c.subscribe(topics)

    def poll(self, timeout, max_records):
        from confluent_kafka import KafkaError as CKError

        records = []
        for m in self._c.consume(num_messages=max_records, timeout=timeout):
            error = m.error()
            if error is None:  # tuple.__new__: a NamedTuple's own constructor is a Python-level lambda, 3x slower
                records.append(_new(Record, (m.topic(), m.partition(), m.offset(), m.key(), m.value())))
            elif error.code() != CKError._PARTITION_EOF:
                if error.fatal():
                    raise StreamError(f"Kafka consumer failed: {error}")
                log.warning("consumer %s[%s]: %s", m.topic(), m.partition(), error)
        return records

    def commit(self, offsets):
        from confluent_kafka import KafkaError as CKError
        from confluent_kafka import KafkaException, TopicPartition

        if not offsets:
            return True
        try:
            self._c.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
            return True
        except KafkaException as e:
            code = e.args[0].code()
            if code in (CKError._ASSIGNMENT_LOST, CKError.REBALANCE_IN_PROGRESS, CKError.ILLEGAL_GENERATION,
                        CKError.UNKNOWN_MEMBER_ID):
                log.warning("commit refused, the group rebalanced: %s", e)
                return False
            raise StreamError(f"commit failed: {e}") from e

    def highwater(self, topic, partition):
        from confluent_kafka import KafkaException, TopicPartition

        try:
            high = self._c.get_watermark_offsets(TopicPartition(topic, partition), cached=True)[1]
        except KafkaException:  # not fetched from yet
            return None
        return high if high >= 0 else None

    def assignment(self):
        return sorted((tp.topic, tp.partition) for tp in self._c.assignment())

    def keepalive(self):
        self._c.pause(self._c.assignment())
        return self.poll(0, 10_000)

    def resume(self):
        self._c.resume(self._c.assignment())

    def close(self):
        self._c.close()


def open_producer(bootstrap: str, client: str = "confluent") -> Producer:
    return ConfluentProducer(bootstrap) if client == "confluent" else KafkaPythonProducer(bootstrap)


def open_consumer(client: str, bootstrap: str, group_id: str, topics: list[str], **options) -> Consumer:
    cls = ConfluentConsumer if client == "confluent" else KafkaPythonConsumer
    return cls(bootstrap, group_id, topics, **options)
