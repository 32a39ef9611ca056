"""The long-running subcommands without a screen — ``ingest``, ``alerts``, ``simulate``, ``replay`` — each a
supervised job that runs until Ctrl-C / SIGTERM. Nothing here imports Dash or gunicorn."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from alerts.engine import run_alerts
from alerts.rules import Rule, load_rules
from config.settings import Settings
from domain.paths import ROOT
from ingest.consume import run_ingest
from jobs.status import Board, Heartbeat
from jobs.supervisor import Backoff, Supervisor
from simulator.city import configured_scenarios, run_simulator
from simulator.replay import read_events, run_replay
from warehouse import Warehouse, WarehouseUnavailable, connect
from warehouse.migrations import migrate

log = logging.getLogger(__name__)


class UsageError(RuntimeError):
    """A job cannot run with these settings; the message says what to set."""


def require_bootstrap(settings: Settings, job: str) -> None:
    if not settings.kafka.bootstrap:
        raise UsageError(f"'{job}' needs a Kafka broker: set kafka.bootstrap or COCKPIT_KAFKA_BOOTSTRAP "
                         f"(only 'demo' starts an embedded one)")


def migrated(warehouse: Warehouse, stop: threading.Event, backoff: Backoff = Backoff(cap=30.0)) -> bool:
    """Migrate, waiting while the warehouse is unreachable (a job started before its server is up waits for
    it); False if stopped first. Any other warehouse error (bad credentials, refused DDL) is raised."""
    attempt = 0
    while True:
        try:
            migrate(warehouse)
            return True
        except WarehouseUnavailable as e:
            attempt += 1
            pause = backoff.delay(attempt)
            log.warning("warehouse unavailable at start, retrying: %s", e, extra={"fields": {
                "job": "migrate", "attempt": attempt, "error": type(e).__name__, "retry_in_s": round(pause, 1)}})
            if stop.wait(pause):
                return False


@contextmanager
def heartbeat(supervisor: Supervisor, warehouse: Warehouse, seconds: float = 15.0):
    """Beat ``supervisor``'s board into the warehouse while the block runs, and once more at the end."""
    beats = Heartbeat(supervisor.board, warehouse, seconds)
    thread = threading.Thread(target=beats.run, args=(supervisor.stop,), name="heartbeat", daemon=True)
    thread.start()
    try:
        yield beats
    finally:
        supervisor.stop.set()
        thread.join(timeout=5)
        beats.beat()


def reporting(board: Board, name: str):
    """A job's own report of each cycle (None: it succeeded) onto ``board``."""
    def report(error: Exception | None) -> None:
        board.ok(name) if error is None else board.failing(name, error)
    return report


def ingest_job(settings: Settings, warehouse: Warehouse, stop: threading.Event) -> None:
    if migrated(warehouse, stop):
        run_ingest(settings, warehouse, stop)


def alerts_job(settings: Settings, warehouse: Warehouse, rules: list[Rule], board: Board, stop: threading.Event,
               *, delay: float = 0.0) -> None:
    if migrated(warehouse, stop):
        run_alerts(settings, warehouse, rules, stop, delay=delay, report=reporting(board, "alerts"))


def run_ingest_job(settings: Settings) -> int:
    require_bootstrap(settings, "ingest")
    supervisor = Supervisor()
    supervisor.handle_signals()
    warehouse = connect(settings.warehouse.url)
    with heartbeat(supervisor, warehouse):
        supervisor.spawn("ingest", ingest_job, settings, warehouse)
        return supervisor.wait()


def run_alerts_job(settings: Settings) -> int:
    rules = load_rules(ROOT / settings.alerts.rules)
    supervisor = Supervisor()
    supervisor.handle_signals()
    warehouse = connect(settings.warehouse.url)
    with heartbeat(supervisor, warehouse):
        supervisor.spawn("alerts", alerts_job, settings, warehouse, rules, supervisor.board)
        return supervisor.wait()


def run_simulate_job(settings: Settings, record: Path | None = None) -> int:
    """Publish the simulated city. Restarted after a broker fault it publishes its history again (the warehouse
    counts each event once) — except with ``record``: a recording must not hold events twice, so there a
    failure ends the job."""
    require_bootstrap(settings, "simulate")
    if record and record.exists():
        raise UsageError(f"{record} exists; a recording is never overwritten: move it or choose another name")
    scenarios = configured_scenarios(settings, time.time())
    supervisor = Supervisor()
    supervisor.handle_signals()
    supervisor.spawn("simulator", partial(run_simulator, scenarios=scenarios, record=record), settings,
                     restart=record is None)
    return supervisor.wait()


def run_replay_job(settings: Settings, path: Path, speed: float) -> int:
    require_bootstrap(settings, "replay")
    events = read_events(path)  # a bad file stops here, before anything is sent
    supervisor = Supervisor()
    supervisor.handle_signals()
    supervisor.spawn("replay", run_replay, settings, events, speed, until_done=True, restart=False)
    return supervisor.wait()
