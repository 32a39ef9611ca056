"""The one module that talks to Kafka (kafka-python): topics, a producer, a consumer group member.

Records come back as plain :class:`Record` tuples so that decoding and sinks never see a client type.
Offsets are committed only by an explicit ``commit()`` after the warehouse accepted the batch.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

TOPICS = {"hotline": "city.hotline", "emergency": "city.emergency", "water": "city.water", "ecology": "city.ecology"}


class StreamError(RuntimeError):
    """Kafka could not be reached or refused a request."""


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


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


class Producer:
    def __init__(self, bootstrap: str):
        try:
            self._p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                    batch_size=256 * 1024, max_request_size=4 * 1024 * 1024)
        except KafkaError as e:
            raise StreamError(f"cannot reach Kafka at {bootstrap}: {e}") from e

    def send(self, topic: str, key: str | bytes | None, value: bytes):
        """Queue a message; returns the client's future (its ``get()`` gives partition and offset)."""
        return self._p.send(topic, key=key.encode() if isinstance(key, str) else key, value=value)

    def flush(self, timeout: float = 30) -> None:
        try:
            self._p.flush(timeout)
        except KafkaError as e:
            raise StreamError(f"produce failed: {e}") from e

    def close(self) -> None:
        self._p.close(timeout=5)


class Consumer:
    def __init__(self, bootstrap: str, group_id: str, topics: list[str], *, max_poll_interval_ms: int = 10000,
                 session_timeout_ms: int = 6000, max_message_bytes: int = 1 << 20):
        try:
            self._c = KafkaConsumer(
                *topics, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                auto_offset_reset="earliest", max_poll_interval_ms=max_poll_interval_ms,
                session_timeout_ms=session_timeout_ms, heartbeat_interval_ms=max(300, session_timeout_ms // 6),
                max_partition_fetch_bytes=max(1 << 20, max_message_bytes * 4))
        except KafkaError as e:
            raise StreamError(f"cannot reach Kafka at {bootstrap}: {e}") from e

    def poll(self, timeout: float, max_records: int) -> list[Record]:
        batches = self._c.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        return [Record(m.topic, m.partition, m.offset, m.key, m.value) for msgs in batches.values() for m in msgs]

    def commit(self) -> None:
        """Commit the position after every record returned by ``poll`` so far."""
        self._c.commit()

    def close(self) -> None:
        self._c.close(autocommit=False)
