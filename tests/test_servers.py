"""The servers that fault tests stop and start (tests/servers.py). ClickHouse rows survive a stop and a kill -9, two
servers run side by side, a server dies with the test process, and a failed start says why. The broker comes back
on its port and forgets what memory storage held. A consumer reconnects to it; an idempotent producer from before
the restart cannot, a new one can."""
from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import UnknownProducerIdError

from streams.kafka_io import (
    KafkaPythonProducer,
    committed_offsets,
    ensure_topics,
    open_consumer,
)
from tests.helpers import publish_raw, unique_topic, wait_until
from tests.servers import ClickHouseServer, ServerError, listening
from warehouse import WarehouseUnavailable, connect
from warehouse.migrations import migrate

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = {"max_poll_interval_ms": 10_000, "session_timeout_ms": 6_000, "max_message_bytes": 1 << 20}


def _table_with_a_row(server: ClickHouseServer):
    wh = connect(server.url("faults"))
    wh.create_database()
    wh.execute("CREATE TABLE t (id UInt32, name String) ENGINE = MergeTree ORDER BY id")
    wh.insert_columns("t", {"id": [1], "name": ["工单"]})
    return wh


def _rows(wh) -> list[list]:
    return wh.query_df("SELECT id, name FROM t ORDER BY id").values.tolist()


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie nobody has reaped yet counts as dead)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_the_cockpit_migrations_run_on_a_private_server(private_clickhouse):
    wh = connect(private_clickhouse.url("cockpit"))
    applied = migrate(wh)
    assert applied and applied == sorted(applied)
    assert wh.scalar("SELECT count() FROM system.tables WHERE database = 'cockpit' AND name = 'hotline_events'") == 1
    wh.close()


def test_a_stopped_server_refuses_connections_and_has_its_rows_after_a_start(private_clickhouse):
    wh = _table_with_a_row(private_clickhouse)
    private_clickhouse.stop()
    assert not private_clickhouse.running and not listening(private_clickhouse.port)
    with pytest.raises(WarehouseUnavailable, match=f"ClickHouse at {private_clickhouse.hostport} unreachable"):
        wh.scalar("SELECT count() FROM t")
    private_clickhouse.start()
    assert _rows(wh) == [[1, "工单"]]  # the same Warehouse object reconnects


def test_a_server_killed_with_sigkill_starts_again_with_its_acknowledged_rows(private_clickhouse):
    wh = _table_with_a_row(private_clickhouse)
    pid = private_clickhouse.pid
    private_clickhouse.kill()
    assert not _alive(pid) and not listening(private_clickhouse.port)
    private_clickhouse.start()
    assert private_clickhouse.pid != pid
    assert _rows(wh) == [[1, "工单"]]
    wh.insert_columns("t", {"id": [2], "name": ["突发事件"]})
    private_clickhouse.restart()
    assert _rows(wh) == [[1, "工单"], [2, "突发事件"]]


def test_two_servers_run_side_by_side_each_with_its_own_data(private_clickhouse, tmp_path):
    with ClickHouseServer(tmp_path / "second") as second:
        assert second.port != private_clickhouse.port and second.root != private_clickhouse.root
        first = _table_with_a_row(private_clickhouse)
        other = connect(second.url("default"))
        assert other.scalar("SELECT count() FROM system.databases WHERE name = 'faults'") == 0
        other.close()
        second.stop()
        assert _rows(first) == [[1, "工单"]]
        assert second.url("x") == f"clickhouse://default:@127.0.0.1:{second.port}/x"
    assert (tmp_path / "second" / "data").is_dir()  # a root given by the caller stays


def test_a_server_without_a_root_of_its_own_removes_its_temporary_directory(clickhouse_binary):
    with ClickHouseServer() as server:
        root = server.root
        assert (root / "data").is_dir() and server.running
    assert not root.exists()


def test_the_server_dies_with_the_process_that_started_it(clickhouse_binary, tmp_path):
    code = ("import os; from tests.servers import ClickHouseServer; "
            f"s = ClickHouseServer({str(tmp_path / 'orphan')!r}).start(); print(s.pid, flush=True); "
            "os.kill(os.getpid(), 9)")
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert parent.returncode == -9, parent.stderr
    pid = int(parent.stdout.split()[0])
    assert wait_until(lambda: not _alive(pid), timeout=15), f"clickhouse-server {pid} outlived its parent"


def test_a_server_that_cannot_start_says_why_with_its_log(clickhouse_binary, tmp_path):
    server = ClickHouseServer(tmp_path / "clash", start_timeout=20)
    with socket.socket() as squatter:  # another process holds the server's HTTP port
        squatter.bind(("127.0.0.1", server.http_port))
        squatter.listen()
        with pytest.raises(ServerError, match=r"(?s)clickhouse-server exited with code \d+ while starting.*"
                                              r"Address already in use"):
            server.start()
    assert not server.running


def test_a_restarted_broker_listens_on_the_same_port_and_has_forgotten_topics_and_offsets(restartable_broker):
    broker, topic, group = restartable_broker, unique_topic(), f"g-{uuid.uuid4().hex[:8]}"
    messages = [(f"k{i}", f"v{i}".encode()) for i in range(10)]
    ends = publish_raw(broker.bootstrap, topic, messages, partitions=2)
    consumer = open_consumer("confluent", broker.bootstrap, group, [topic], **CONSUMER)
    received = []
    assert wait_until(lambda: received.extend(consumer.poll(0.5, 100)) or len(received) == 10, timeout=60)
    assert consumer.commit({(topic, p): end for p, end in ends.items()})
    consumer.close()
    assert committed_offsets(broker.bootstrap, group, topic) == ends
    port, pid = broker.port, broker.pid

    broker.restart()
    assert (broker.port, broker.bootstrap) == (port, f"127.0.0.1:{port}") and broker.pid != pid
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert topic not in admin.list_topics()
    finally:
        admin.close()
    ensure_topics(broker.bootstrap, [topic], 2)
    assert committed_offsets(broker.bootstrap, group, topic) == {}
    assert publish_raw(broker.bootstrap, topic, messages, partitions=2) == ends  # offsets count from 0 again


def test_a_consumer_reconnects_to_a_broker_killed_and_started_again(restartable_broker):
    broker, topic = restartable_broker, unique_topic()
    ensure_topics(broker.bootstrap, [topic], 1)
    consumer = open_consumer("confluent", broker.bootstrap, f"g-{uuid.uuid4().hex[:8]}", [topic], **CONSUMER)
    try:
        # a member with its partition assigned but nothing read: a consumer that has read something keeps its old
        # position over the restart, which can skip new messages (see tests/servers.py)
        assert wait_until(lambda: consumer.poll(0.5, 100) == [] and consumer.assignment(), timeout=60)
        broker.kill()
        assert not listening(broker.port)
        broker.start()
        messages = [(f"k{i}", f"after {i}".encode()) for i in range(3)]
        assert publish_raw(broker.bootstrap, topic, messages, partitions=1) == {0: 3}
        received = []
        assert wait_until(lambda: received.extend(consumer.poll(0.5, 100)) or len(received) == 3, timeout=60)
        assert [(r.offset, r.value) for r in received] == [(0, b"after 0"), (1, b"after 1"), (2, b"after 2")]
    finally:
        consumer.close()


def test_an_idempotent_producer_from_before_a_broker_restart_cannot_deliver_after_it(restartable_broker):
    """tansu forgets the producer id; kafka-python's attempt to get a new epoch is refused. Publishers must open a
    new producer after a broker restart. (librdkafka's idempotent producer hangs instead, measured by hand.)"""
    broker, topic = restartable_broker, unique_topic()
    ensure_topics(broker.bootstrap, [topic], 1)
    producer = KafkaPythonProducer(broker.bootstrap)
    try:
        assert producer.send(topic, "k", b"before").get(timeout=10).offset == 0
        broker.kill()
        broker.start()
        ensure_topics(broker.bootstrap, [topic], 1)
        with pytest.raises(UnknownProducerIdError):
            producer.send(topic, "k", b"after").get(timeout=20)
    finally:
        producer.close()
    assert publish_raw(broker.bootstrap, topic, [("k", b"after")], partitions=1) == {0: 1}  # a new producer can


def test_stopping_a_stopped_broker_or_starting_a_running_one_changes_nothing(restartable_broker):
    pid = restartable_broker.pid
    assert restartable_broker.start().pid == pid
    restartable_broker.stop()
    restartable_broker.stop()
    restartable_broker.kill()
    assert not restartable_broker.running and not listening(restartable_broker.port)
    assert not _alive(pid)
