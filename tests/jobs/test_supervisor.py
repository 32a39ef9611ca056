"""Supervision: a failing job is restarted after a capped pause and never stops the others; its state is on the
board; the commands without a screen load neither Dash nor gunicorn."""
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jobs.status import Board
from jobs.supervisor import Backoff, Supervisor, transient
from streams.kafka_io import StreamError
from tests.helpers import Clock, wait_until
from warehouse import WarehouseError, WarehouseUnavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("attempt, expected", [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (50, 60.0)])
def test_backoff_doubles_up_to_its_cap(attempt, expected):
    assert Backoff(first=1.0, cap=60.0, jitter=0.0).delay(attempt) == expected


def test_backoff_jitter_stays_within_its_share():
    b = Backoff(first=10.0, cap=60.0, jitter=0.2)
    assert b.delay(1, rng=lambda: 0.0) == pytest.approx(8.0)
    assert b.delay(1, rng=lambda: 1.0) == pytest.approx(12.0)


@pytest.mark.parametrize("error, expected", [
    (WarehouseUnavailable("down"), True), (WarehouseError("refused"), True), (StreamError("broker"), True),
    (ConnectionRefusedError(), True), (KeyError("bug"), False), (ZeroDivisionError(), False)])
def test_only_what_can_pass_counts_as_transient(error, expected):
    assert transient(error) is expected


def flaky(failures: list[BaseException], runs: list[int]):
    """A job that raises the given errors, one per start, then runs until stopped."""
    def job(stop: threading.Event) -> None:
        runs.append(1)
        if failures:
            raise failures.pop(0)
        stop.wait()
    return job


def ticking(ticks: list[float]):
    def job(stop: threading.Event) -> None:
        while not stop.wait(0.05):
            ticks.append(time.monotonic())
    return job


def test_a_failing_job_is_restarted_and_the_others_go_on(caplog):
    runs, ticks = [], []
    supervisor = Supervisor(backoff=Backoff(first=0.1, cap=0.2, jitter=0.0))
    supervisor.spawn("alerts", flaky([WarehouseUnavailable("ClickHouse down"), KeyError("rule")], runs))
    supervisor.spawn("ingest", ticking(ticks))
    assert wait_until(lambda: len(runs) == 3, timeout=5, interval=0.05)
    time.sleep(0.3)
    before = len(ticks)
    time.sleep(0.3)
    assert len(ticks) > before, "the other job must keep running"
    state = {s.job: s for s in supervisor.board.snapshot()}["alerts"]
    assert (state.state, state.attempts, state.error) == ("failing", 2, "KeyError")
    supervisor.stop.set()
    assert supervisor.wait() == 0
    failed = [r for r in caplog.records if r.name == "jobs.supervisor"]
    assert [(r.levelname, r.fields["job"], r.fields["attempt"], r.fields["error"]) for r in failed] == [
        ("WARNING", "alerts", 1, "WarehouseUnavailable"), ("ERROR", "alerts", 2, "KeyError")]
    assert failed[1].exc_info is not None  # a bug keeps its traceback


def test_a_job_that_may_not_restart_stops_the_process_with_exit_1():
    supervisor = Supervisor(backoff=Backoff(first=0.1, jitter=0.0))
    supervisor.spawn("simulator", flaky([StreamError("recording broken")], []), restart=False)
    supervisor.spawn("ingest", ticking([]))
    assert supervisor.wait(grace=5) == 1


def test_a_job_that_ends_by_itself_stops_the_supervisor():
    supervisor = Supervisor()
    supervisor.spawn("replay", lambda stop: None, until_done=True)
    assert supervisor.wait(grace=5) == 0


def test_the_board_counts_a_failing_run_from_its_first_failure_and_recovers():
    clock = Clock(1000.0)
    board = Board(clock, healthy_after=30)
    board.started("ingest")
    clock.now = 1010
    board.failing("ingest", WarehouseUnavailable("x"), 1)
    clock.now = 1020
    board.failing("ingest", StreamError("y"), 2)
    [s] = board.snapshot()
    assert (s.state, s.since, s.attempts, s.error) == ("failing", 1010, 2, "StreamError")
    board.restarted("ingest")
    clock.now = 1049
    assert board.snapshot()[0].state == "failing"  # not yet healthy_after since the restart
    clock.now = 1050
    assert (board.snapshot()[0].state, board.snapshot()[0].since) == ("ok", 1020)
    board.failing("alerts", KeyError("k"))
    board.ok("alerts")  # the job reports a good cycle
    assert {s.job: s.state for s in board.snapshot()} == {"ingest": "ok", "alerts": "ok"}


@pytest.mark.parametrize("command", ["ingest", "alerts", "simulate", "replay", "migrate"])
def test_the_commands_without_a_screen_load_neither_dash_nor_gunicorn(command):
    probe = f"""
import sys, run_cockpit
run_cockpit.parser()
job = run_cockpit.COMMANDS[{command!r}]
module = {{'ingest': 'commands', 'alerts': 'commands', 'simulate': 'commands', 'replay': 'commands'}}.get({command!r})
if module:
    import importlib; importlib.import_module('jobs.' + module)
print(sorted(m for m in ('dash', 'gunicorn', 'flask', 'waitress', 'plotly') if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
