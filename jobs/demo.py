"""``demo`` and ``serve``: the jobs with a screen.

The demo runs everything in one process (chDB holds its data directory for one process only): the embedded
broker (when no Kafka bootstrap is configured), the simulator, ingest, the alert cycle and the cockpit, each a
supervised job — a warehouse or broker outage is waited out, never a reason to stop the others.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from contextlib import ExitStack
from functools import partial

from cockpit import access, users
from cockpit.runtime import load_files
from cockpit.serve import WebServer, run_gunicorn, workers
from cockpit.users import ROLE_NAMES, ROLES
from config.settings import Settings
from jobs.commands import UsageError, alerts_job, heartbeat, ingest_job, migrated
from jobs.supervisor import Supervisor
from simulator.city import configured_scenarios, run_simulator
from streams.broker import EmbeddedBroker
from warehouse import connect

log = logging.getLogger(__name__)


def refuse_unprotectable() -> None:
    """Stop the start, with one line, on Dash settings the sign-in guard cannot protect."""
    problem = access.unprotectable(os.environ)
    if problem:
        raise UsageError(problem)


def run_demo(settings: Settings) -> int:
    refuse_unprotectable()
    scenarios = configured_scenarios(settings, time.time())
    files = load_files(settings)  # every file checked before anything starts
    supervisor = Supervisor()
    supervisor.handle_signals()
    with ExitStack() as stack:
        if not settings.kafka.bootstrap:
            broker = stack.enter_context(EmbeddedBroker())
            settings = settings.replace(**{"kafka.bootstrap": broker.bootstrap})
            supervisor.spawn("broker", keep_running, broker)
        warehouse = connect(settings.warehouse.url)
        if not migrated(warehouse, supervisor.stop):
            return 0
        credentials = demo_users(warehouse)
        web = WebServer(settings, warehouse, files).start()
        stack.callback(web.stop)
        stack.enter_context(heartbeat(supervisor, warehouse))
        supervisor.spawn("ingest", ingest_job, settings, warehouse)
        supervisor.spawn("simulator", partial(run_simulator, scenarios=scenarios), settings)
        # first cycle once the back-fill is in: not competing with it for the one chDB process
        supervisor.spawn("alerts", partial(alerts_job, delay=settings.alerts.interval_seconds), settings, warehouse,
                         list(files.rules.values()), supervisor.board)
        print(f"城市运行一网统管 cockpit: {web.url}/login   (Ctrl-C to stop)\n"
              f"demo users (new passwords every start):", flush=True)
        for name, role, password in credentials[:-1]:
            print(f"  {name:<8} {password}   {ROLE_NAMES[role]}", flush=True)
        print(f"  wall PC: {web.url}/wall?kiosk={credentials[-1][2]}", flush=True)
        return supervisor.wait()


def keep_running(broker: EmbeddedBroker, stop: threading.Event, every: float = 1.0) -> None:
    """The embedded broker as a job: if its process ends, this raises and the supervisor starts it again on the
    same port (memory storage: it comes back without topics; ingest and the simulator recreate them)."""
    while not stop.wait(every):
        if not broker.running:
            log.warning("embedded broker exited; starting it again on %s", broker.bootstrap)
            broker.start()


def demo_users(warehouse) -> list[tuple[str, str, str]]:
    """One user per role, named after it, with a new random password each start, and a kiosk token for the
    wall user (last): (name, role, password or token)."""
    made = [(role, role, secrets.token_urlsafe(9)) for role in ROLES]
    for name, role, password in made:
        users.put(warehouse, name, role, password, display_name=f"演示{ROLE_NAMES[role]}")
    return made + [("wall", "wall", users.issue_token(warehouse, "wall"))]


def run_serve(settings: Settings) -> int:
    refuse_unprotectable()
    print(f"cockpit: http://{settings.cockpit.host}:{settings.cockpit.port}/wall "
          f"({workers(settings)} worker(s) × {settings.cockpit.threads} threads, gunicorn)", flush=True)
    return run_gunicorn(settings)
