"""Ingest as separate processes (``python run_cockpit.py ingest``) on the ClickHouse server — the production
shape, since chDB holds its directory for one process: kill -9 and restart, two processes in one group,
and the server going away mid-stream. Each ends with exact counts: nothing lost, nothing counted twice."""
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from streams.kafka_io import committed_offsets
from tests.helpers import (
    as_messages,
    publish_raw,
    simulated_events,
    unique_topic,
    wait_until,
)
from warehouse import WarehouseError
from warehouse import queries as q

ROOT = Path(__file__).resolve().parents[2]
CLICKHOUSE_START = ["clickhouse-server", "--config-file=/etc/clickhouse-server/config.xml", "--daemon"]


def start_ingest(broker, warehouse, topic: str, group: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update(COCKPIT_WAREHOUSE_URL=f"clickhouse://{warehouse.url.host}:{warehouse.url.port}/{warehouse.database}",
               COCKPIT_KAFKA_BOOTSTRAP=broker.bootstrap, COCKPIT_KAFKA_GROUP_ID=group,
               COCKPIT_INGEST_BATCH_SIZE="1000", COCKPIT_INGEST_BATCH_SECONDS="0.3", COCKPIT_INGEST_TOPICS=topic)
    return subprocess.Popen([sys.executable, "run_cockpit.py", "ingest"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def distinct_events(warehouse) -> int:
    return int(q.run(warehouse, q.event_count())["events"].iloc[0])


def rows(warehouse) -> int:
    try:
        return int(q.run(warehouse, q.ingest_health())["rows"].iloc[0])
    except WarehouseError:
        return -1


def test_kill_9_mid_stream_then_restart_loses_nothing_and_counts_once(broker, server_warehouse):
    events = simulated_events(hours=8, seed=21)
    topic, group = unique_topic(), f"g-{uuid.uuid4().hex[:6]}"
    ends = publish_raw(broker.bootstrap, topic, as_messages(events))
    first = start_ingest(broker, server_warehouse, topic, group)
    assert wait_until(lambda: rows(server_warehouse) > 2000, timeout=60)
    first.kill()  # mid-stream, no flush, no commit
    first.wait()
    assert rows(server_warehouse) < len(events)
    second = start_ingest(broker, server_warehouse, topic, group)
    assert wait_until(lambda: committed_offsets(broker.bootstrap, group, topic) == ends, timeout=90)
    stop(second)
    assert distinct_events(server_warehouse) == len(events)


def test_two_processes_share_the_partitions_without_loss_or_double_counting(broker, server_warehouse):
    events = simulated_events(hours=8, seed=22)
    topic, group = unique_topic(), f"g-{uuid.uuid4().hex[:6]}"
    procs = [start_ingest(broker, server_warehouse, topic, group) for _ in range(2)]
    time.sleep(8)  # both join the group before the data arrives
    ends = publish_raw(broker.bootstrap, topic, as_messages(events))
    assert wait_until(lambda: committed_offsets(broker.bootstrap, group, topic) == ends, timeout=90)
    outputs = [stop(p) for p in procs]
    assert distinct_events(server_warehouse) == len(events)
    assert rows(server_warehouse) == len(events)  # nothing was even inserted twice
    written = [int(re.search(r"ingest stopped rows=(\d+)", o)[1]) for o in outputs]
    assert all(w > 0 for w in written) and sum(written) == len(events), outputs
    by_consumer = server_warehouse.query_df("SELECT consumer, sum(rows) AS rows FROM ingest_stats GROUP BY consumer")
    assert sorted(by_consumer["rows"].tolist()) == sorted(written)  # each process's ingest_stats add up


def test_clickhouse_down_for_30_s_mid_stream_loses_nothing(broker, server_warehouse):
    events = simulated_events(hours=8, seed=23)
    topic, group = unique_topic(), f"g-{uuid.uuid4().hex[:6]}"
    ingest = start_ingest(broker, server_warehouse, topic, group)
    half = len(events) // 2
    publish_raw(broker.bootstrap, topic, as_messages(events[:half]))
    assert wait_until(lambda: rows(server_warehouse) > 0, timeout=60)
    subprocess.run(["pkill", "-TERM", "-f", "^clickhouse-server "], check=True)
    try:
        assert wait_until(lambda: rows(server_warehouse) == -1, timeout=30)
        ends = publish_raw(broker.bootstrap, topic, as_messages(events[half:]))
        time.sleep(30)
        assert ingest.poll() is None, "ingest must wait for the warehouse, not exit"
    finally:
        subprocess.run(CLICKHOUSE_START, check=True)
    assert wait_until(lambda: rows(server_warehouse) >= 0, timeout=60)
    assert wait_until(lambda: committed_offsets(broker.bootstrap, group, topic) == ends, timeout=120)
    out = stop(ingest)
    assert "warehouse unavailable, retrying" in out
    assert distinct_events(server_warehouse) == len(events)
