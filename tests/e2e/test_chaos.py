"""A bounded chaos run: ``kill -9`` of ingest processes, the alert job and ``serve``'s workers at random moments
while the simulator publishes. At the end every published event is in the warehouse exactly once, the alerts
firing are those of a run without faults over the same events, and the audit log rebuilds every alert.

COCKPIT_TEST_CHAOS_SECONDS sets the length (default 150 s, at most 600); COCKPIT_TEST_CHAOS_SEED the seed."""
import json
import os
import random
import signal
import time
import uuid

import pytest

from alerts import store
from alerts.engine import evaluate
from alerts.lifecycle import ACTIVE, replay
from alerts.rules import load_rules
from cockpit.job_view import epoch
from config.settings import load
from domain.paths import ROOT
from ingest.consume import make_decoder
from ingest.direct import store_events
from streams.broker import free_port
from tests.e2e.test_faults import start_job, stop_job, stored
from tests.helpers import healthz, wait_until
from tests.test_demo import children
from warehouse import connect
from warehouse.migrations import migrate

CHAOS = min(600.0, float(os.environ.get("COCKPIT_TEST_CHAOS_SECONDS", "150")))
SEED = int(os.environ.get("COCKPIT_TEST_CHAOS_SEED", str(int(time.time()))))
TABLES = {"hotline.v1": "hotline_events", "emergency.v1": "emergency_events", "water.v1": "water_readings",
          "ecology.v1": "ecology_readings"}


def recorded(path) -> dict[str, set[str]]:
    ids = {table: set() for table in TABLES.values()}
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        ids[TABLES[event["schema"]]].add(event["event_id"])
        events.append(event)
    return ids, events


def test_kill_9_at_random_loses_nothing_counts_once_and_keeps_the_alerts_true(tmp_path, private_clickhouse,
                                                                             restartable_broker):
    rng = random.Random(SEED)
    print(f"chaos: {CHAOS:.0f} s, seed {SEED}")
    database = f"t_{uuid.uuid4().hex[:12]}"
    url = private_clickhouse.url(database)
    port, record = free_port(), tmp_path / "published.jsonl"
    env = {"COCKPIT_WAREHOUSE_URL": url, "COCKPIT_KAFKA_BOOTSTRAP": restartable_broker.bootstrap,
           "COCKPIT_KAFKA_GROUP_ID": "chaos", "COCKPIT_INGEST_BATCH_SECONDS": "0.5",
           "COCKPIT_SIMULATE_BACKFILL_HOURS": "6", "COCKPIT_SIMULATE_ORDERS_PER_DAY": "8000",
           "COCKPIT_ALERTS_INTERVAL_SECONDS": "5", "COCKPIT_COCKPIT_PORT": str(port),
           "COCKPIT_COCKPIT_WORKERS": "2", "COCKPIT_AUTH_SECRET": "c" * 64}
    migrate(connect(url))
    simulator = start_job(tmp_path, "simulate", ["simulate", "--record", str(record)], env)
    running = {"ingest-1": start_job(tmp_path, "ingest-1", ["ingest"], env),
               "ingest-2": start_job(tmp_path, "ingest-2", ["ingest"], env),
               "alerts-1": start_job(tmp_path, "alerts-1", ["alerts"], env),
               "serve": start_job(tmp_path, "serve", ["serve"], env)}
    kills = []
    try:
        assert wait_until(lambda: healthz(port) is not None, timeout=60)
        began = time.monotonic()
        while time.monotonic() - began < CHAOS:
            time.sleep(rng.uniform(2.0, 10.0))
            victim = rng.choice(["ingest", "alerts", "serve"])
            if victim == "serve":
                workers = children(running["serve"].proc.pid)
                if workers:
                    os.kill(rng.choice(workers), signal.SIGKILL)  # gunicorn starts another
                    kills.append("serve worker")
                continue
            name = rng.choice([n for n in running if n.startswith(victim)])
            running[name].proc.kill()
            running[name].proc.wait()
            kills.append(name)
            time.sleep(rng.uniform(0.0, 2.0))  # as a service manager restarts it
            fresh = f"{victim}-{len(kills) + 2}"
            running[fresh] = start_job(tmp_path, fresh, [victim], env)
            del running[name]
        print("chaos: killed", len(kills), kills)
        assert stop_job(simulator) == 0, simulator.text()[-3000:]
        ids, events = recorded(record)
        wh = connect(url)
        expected = {table: len(found) for table, found in ids.items()}
        assert wait_until(lambda: stored(wh, ids) == expected, timeout=180), (stored(wh, ids), expected)
        for table, found in ids.items():  # the same events, and each once
            assert set(wh.query_df(f"SELECT DISTINCT event_id FROM {table}")["event_id"]) == found
            assert int(wh.scalar(f"SELECT count() FROM {table} FINAL")) == len(found)
        assert healthz(port)["warehouse"] == "ok"
        for name in [n for n in running if n.startswith("alerts")]:
            assert stop_job(running.pop(name)) == 0
    finally:
        for job in running.values():
            stop_job(job)
        if simulator.proc.poll() is None:
            stop_job(simulator)
    settings = load(environ={})
    rules = load_rules(ROOT / settings.alerts.rules)
    at = time.time()
    evaluate(wh, rules, at, escalate_after_minutes=settings.alerts.escalate_after_minutes)
    reference = connect(private_clickhouse.url(database + "_ref"))
    migrate(reference)
    assert store_events(reference, make_decoder(settings), events) > 0
    evaluate(reference, rules, at, escalate_after_minutes=settings.alerts.escalate_after_minutes)

    def firing(w, only_now: bool) -> set:
        active = store.current(w, active_only=True)
        if only_now:
            active = active[[int(epoch(v)) == int(at) for v in active["last_seen"]]]
        return set(zip(active["rule_id"], active["subject_id"]))

    assert firing(wh, only_now=True) == firing(reference, only_now=False)
    snapshots = store.current(wh)
    active = snapshots[snapshots["state"].isin(ACTIVE)]
    assert not active.duplicated(["rule_id", "subject_id"]).any(), "two active alerts for one subject"
    rebuilt = replay(store.as_actions(store.actions(wh)))
    assert rebuilt == {row["alert_id"]: store.as_alert(row) for row in snapshots.to_dict("records")}
    print("FIGURES", json.dumps({"chaos_s": CHAOS, "kills": len(kills), "events": len(events),
                                 "events_lost": 0, "alerts_firing": len(firing(wh, True))}))


pytestmark = pytest.mark.timeout(CHAOS + 600)
