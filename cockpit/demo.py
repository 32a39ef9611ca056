"""The demo and the long-running jobs: each runs until Ctrl-C / SIGTERM, then stops cleanly.

The demo runs everything in one process (chDB holds its data directory for one process only): the embedded
broker (when no Kafka bootstrap is configured), the simulator, ingest and the cockpit. This module is the
only one that wires streams and the cockpit together.
"""
from __future__ import annotations

import logging
import secrets
import signal
import threading
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from alerts.engine import run_alerts
from alerts.rules import load_rules
from cockpit import users
from cockpit.serve import WebServer, run_gunicorn, workers
from cockpit.users import ROLE_NAMES, ROLES
from config.settings import ROOT, Settings
from streams.broker import EmbeddedBroker
from streams.ingest import run_ingest
from streams.city import configured_scenarios, run_simulator
from streams.replay import read_events, run_replay
from warehouse import connect
from warehouse.migrations import migrate

log = logging.getLogger(__name__)


class Supervisor:
    """Runs worker threads; the first one to fail, or a signal, stops them all."""

    def __init__(self):
        self.stop = threading.Event()
        self.failed: list[str] = []
        self._threads: list[threading.Thread] = []

    def handle_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())

    def spawn(self, name: str, target, *args) -> None:
        def run():
            try:
                target(*args, self.stop)
            except Exception:
                log.exception("%s failed; stopping", name)
                self.failed.append(name)
                self.stop.set()
        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self) -> int:
        while not self.stop.wait(0.5):
            pass
        deadline = time.monotonic() + 20  # all threads together: a flush, a commit, the alert cycle under way
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            log.error("%s did not stop within 20 s; exiting anyway", ", ".join(stuck))
        return 1 if self.failed or stuck else 0


def run_demo(settings: Settings) -> int:
    scenarios = configured_scenarios(settings, time.time())
    rules = load_rules(ROOT / settings.alerts.rules)
    supervisor = Supervisor()
    supervisor.handle_signals()
    with ExitStack() as stack:
        if not settings.kafka.bootstrap:
            broker = stack.enter_context(EmbeddedBroker())
            settings = settings.replace(**{"kafka.bootstrap": broker.bootstrap})
        warehouse = connect(settings.warehouse.url)
        migrate(warehouse)
        credentials = demo_users(warehouse)
        web = WebServer(settings, warehouse).start()
        stack.callback(web.stop)
        supervisor.spawn("ingest", run_ingest, settings, warehouse)
        supervisor.spawn("simulator", partial(run_simulator, scenarios=scenarios), settings)
        # first cycle once the back-fill is in: not competing with it for the one chDB process
        supervisor.spawn("alerts", partial(run_alerts, delay=settings.alerts.interval_seconds), settings, warehouse,
                         rules)
        print(f"城市运行一网统管 cockpit: {web.url}/login   (Ctrl-C to stop)\n"
              f"demo users (new passwords every start):", flush=True)
        for name, role, password in credentials[:-1]:
            print(f"  {name:<8} {password}   {ROLE_NAMES[role]}", flush=True)
        print(f"  wall PC: {web.url}/wall?kiosk={credentials[-1][2]}", flush=True)
        return supervisor.wait()


def demo_users(warehouse) -> list[tuple[str, str, str]]:
    """One user per role, named after it, with a new random password each start, and a kiosk token for the
    wall user (last): (name, role, password or token)."""
    made = [(role, role, secrets.token_urlsafe(9)) for role in ROLES]
    for name, role, password in made:
        users.put(warehouse, name, role, password, display_name=f"演示{ROLE_NAMES[role]}")
    return made + [("wall", "wall", users.issue_token(warehouse, "wall"))]


def run_serve(settings: Settings) -> int:
    print(f"cockpit: http://{settings.cockpit.host}:{settings.cockpit.port}/wall "
          f"({workers(settings)} worker(s) × {settings.cockpit.threads} threads, gunicorn)", flush=True)
    return run_gunicorn(settings)


def run_alerts_job(settings: Settings) -> int:
    rules = load_rules(ROOT / settings.alerts.rules)
    supervisor = Supervisor()
    supervisor.handle_signals()
    warehouse = connect(settings.warehouse.url)
    migrate(warehouse)
    supervisor.spawn("alerts", run_alerts, settings, warehouse, rules)
    return supervisor.wait()


def run_ingest_job(settings: Settings) -> int:
    _require_bootstrap(settings, "ingest")
    supervisor = Supervisor()
    supervisor.handle_signals()
    warehouse = connect(settings.warehouse.url)
    migrate(warehouse)
    supervisor.spawn("ingest", run_ingest, settings, warehouse)
    return supervisor.wait()


def run_simulate_job(settings: Settings, record: Path | None = None) -> int:
    _require_bootstrap(settings, "simulate")
    if record and record.exists():
        raise UsageError(f"{record} exists; a recording is never overwritten: move it or choose another name")
    scenarios = configured_scenarios(settings, time.time())
    supervisor = Supervisor()
    supervisor.handle_signals()
    supervisor.spawn("simulator", partial(run_simulator, scenarios=scenarios, record=record), settings)
    return supervisor.wait()


def run_replay_job(settings: Settings, path: Path, speed: float) -> int:
    _require_bootstrap(settings, "replay")
    events = read_events(path)  # a bad file stops here, before anything is sent
    supervisor = Supervisor()
    supervisor.handle_signals()
    supervisor.spawn("replay", _until_done(run_replay), settings, events, speed)
    return supervisor.wait()


def _until_done(job):
    """A job that ends by itself stops the supervisor when it is done."""
    def run(*args):
        stop = args[-1]
        try:
            job(*args)
        finally:
            stop.set()
    return run


class UsageError(RuntimeError):
    """A job cannot run with these settings; the message says what to set."""


def _require_bootstrap(settings: Settings, job: str) -> None:
    if not settings.kafka.bootstrap:
        raise UsageError(f"'{job}' needs a Kafka broker: set kafka.bootstrap or COCKPIT_KAFKA_BOOTSTRAP "
                         f"(only 'demo' starts an embedded one)")
