"""`simulate --record` and `replay` as a user runs them, each against its own real broker: the simulator's valid
messages are exactly the recorded lines, its malformed ones are rejected by ingest's decoder with every reason
code; replaying the file publishes the same messages again, paced by --speed; a bad file or an existing
recording is refused with a clear error before anything is sent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from config.settings import load
from domain.topics import TOPICS, route
from ingest.consume import make_decoder
from simulator.malformed import REASON
from simulator.replay import read_events, run_replay
from streams.broker import EmbeddedBroker
from streams.kafka_io import Record, open_consumer

ROOT = Path(__file__).resolve().parent.parent.parent


def cockpit(*args: str, bootstrap: str, **env: str) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    environ.update(COCKPIT_KAFKA_BOOTSTRAP=bootstrap, **env)
    return subprocess.Popen([sys.executable, "run_cockpit.py", *args], cwd=ROOT, env=environ, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def consume_all(bootstrap: str, count: int, timeout: float = 60) -> list[Record]:
    """Every message on the four city topics, once ``count`` have arrived (or the timeout passed)."""
    consumer = open_consumer("confluent", bootstrap, f"check-{uuid.uuid4().hex[:8]}", sorted(TOPICS.values()),
                             max_poll_interval_ms=10_000, session_timeout_ms=6000, max_message_bytes=1 << 20)
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            records += consumer.poll(0.5, 10_000)
        records += consumer.poll(1.0, 10_000)  # anything beyond the expected count
    finally:
        consumer.close()
    return records


def published(records: list[Record]) -> Counter:
    return Counter((r.topic, r.key.decode(), r.value) for r in records)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Two simulated hours with a major incident and 8 % malformed messages, published and recorded."""
    path = tmp_path_factory.mktemp("drill") / "day.jsonl"
    with EmbeddedBroker() as broker:
        proc = cockpit("simulate", "--record", str(path), "--bad-ratio", "0.08", "--scenario", "major_incident@-1h",
                       bootstrap=broker.bootstrap, COCKPIT_SIMULATE_BACKFILL_HOURS="2",
                       COCKPIT_SIMULATE_ORDERS_PER_DAY="4000")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not any("history published" in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "".join(lines)
        reader.join(timeout=5)
        recorded = path.read_bytes().splitlines()
        records = consume_all(broker.bootstrap, round(len(recorded) / 0.92) - 5)
    return path, recorded, records, "".join(lines)


def test_simulate_records_exactly_the_valid_messages_it_published(recording):
    path, recorded, records, log = recording
    assert "history published" in log and len(recorded) > 1000
    decoded = make_decoder(load(environ={})).decode_batch(records)
    valid = [record for record, (table, _) in zip(records, decoded) if table != "rejects"]
    events = [msgspec.json.decode(line) for line in recorded]
    assert published(valid) == Counter((*route(e), line) for e, line in zip(events, recorded))
    assert {e["schema"] for e in events} == {"hotline.v1", "emergency.v1", "water.v1", "ecology.v1"}
    assert any(e["schema"] == "emergency.v1" and e.get("level") == "II" and e["type"] == "hazmat" for e in events)


def test_bad_ratio_mixes_every_kind_of_malformed_message_at_its_share(recording):
    _, recorded, records, _ = recording
    decoded = make_decoder(load(environ={})).decode_batch(records)
    reasons = Counter(row["reason"] for table, row in decoded if table == "rejects")
    assert set(reasons) == set(REASON.values())
    assert 0.07 < sum(reasons.values()) / len(records) < 0.09


def test_replay_publishes_the_recorded_messages_again(recording):
    path, recorded, _, _ = recording
    with EmbeddedBroker() as broker:
        proc = cockpit("replay", str(path), "--speed", "100000", bootstrap=broker.bootstrap)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        replayed = consume_all(broker.bootstrap, len(recorded))
    events = [msgspec.json.decode(line) for line in recorded]
    assert published(replayed) == Counter((*route(e), line) for e, line in zip(events, recorded))


def test_replay_keeps_the_original_spacing_divided_by_speed(broker, tmp_path):
    lines = [{"event_id": f"E{i}", "schema": "emergency.v1", "ts": f"2026-11-20T10:00:{10 * i:02d}+08:00",
              "incident_id": "EM1", "type": "fire", "status": "reported"} for i in range(3)]
    path = tmp_path / "three.jsonl"
    path.write_bytes(b"\n".join(msgspec.json.encode(e) for e in reversed(lines)) + b"\n")  # out of order on file
    events = read_events(path)
    assert [e.at for e in events] == sorted(e.at for e in events)
    settings = load(environ={}).replace(**{"kafka.bootstrap": broker.bootstrap})
    started = time.monotonic()
    assert run_replay(settings, events, 10.0, threading.Event()) == 3
    assert 1.9 < time.monotonic() - started < 4  # 20 s of event time at 10×


@pytest.mark.parametrize("content, message", [
    (b'{"event_id": "E1", "schema": "hotline.v1", "ts": "2026-11-20T10:00:00+08:00", "order_id": "WO1"}\n[1]\n',
     ":2: a JSON list, not an event object"),
    (b'{"event_id": "E1", "schema": "hotline.v9", "ts": "2026-11-20T10:00:00+08:00"}\n', ":1: unknown schema"),
    (b'{"event_id": "E1", "schema": "water.v1", "ts": "2026-11-20T10:00:00+08:00"}\n', ":1: water.v1 event without a station_id"),
    (b'{"event_id": "E1", "schema": "hotline.v1", "ts": "yesterday", "order_id": "WO1"}\n', ":1: ts 'yesterday'"),
    (b'{"event_id": \n', ":1: not JSON"),
])
def test_a_bad_replay_file_is_refused_naming_its_line_and_sends_nothing(broker, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    proc = cockpit("replay", str(path), bootstrap=broker.bootstrap)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and f"error: {path}{message}" in out


def test_an_existing_recording_is_never_overwritten(broker, tmp_path):
    path = tmp_path / "kept.jsonl"
    path.write_text("precious\n")
    proc = cockpit("simulate", "--record", str(path), bootstrap=broker.bootstrap)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "exists; a recording is never overwritten" in out
    assert path.read_text() == "precious\n"


@pytest.mark.parametrize("args, message", [
    (["simulate", "--scenario", "tornado"], "unknown scenario 'tornado'"),
    (["simulate", "--scenario", "rainstorm:440999"], "440999 is not a district of the city"),
    (["simulate", "--bad-ratio", "0.9"], "simulate.bad_ratio (from override): 0.9 is above 0.5"),
    (["replay", "x.jsonl", "--speed", "0"], "'0' is not a number above 0"),
])
def test_bad_simulate_and_replay_arguments_exit_2_with_the_reason(broker, args, message):
    proc = cockpit(*args, bootstrap=broker.bootstrap)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and message in out, out
