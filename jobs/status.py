"""What each job of this process is doing, and its heartbeat in the warehouse's ``job_status`` table, so that
/healthz and the screens of any process (``serve`` runs apart from ``ingest`` and ``alerts``) can say which job
has been failing since when.

A job is ``ok`` (running, or recovered), ``failing`` (since the first failure of a run of failures; the
attempts counted and the last error's class kept) or ``stopped`` (ended cleanly: not an alarm). A restarted
job counts as recovered when it reports success or has run ``healthy_after`` seconds without failing.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from warehouse import Warehouse, WarehouseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobState:
    job: str
    state: str  # ok | failing | stopped
    since: float  # epoch s: running since, failing since, or stopped at
    attempts: int = 0
    error: str = ""  # the class of the last error
    restarted: float | None = None  # when a failing job was last started again


class Board:
    """The jobs of this process, thread-safe. ``clock`` gives epoch seconds."""

    def __init__(self, clock: Callable[[], float] = time.time, healthy_after: float = 30.0):
        self.clock = clock
        self.healthy_after = healthy_after
        self._states: dict[str, JobState] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        with self._lock:
            return list(self._states)

    def _set(self, name: str, change: Callable[[JobState | None], JobState]) -> None:
        with self._lock:
            self._states[name] = change(self._states.get(name))

    def started(self, name: str) -> None:
        self._set(name, lambda _: JobState(name, "ok", self.clock()))

    def ok(self, name: str) -> None:
        """The job reports a success (an alert cycle done): recovered, if it was failing."""
        self._set(name, lambda s: s if s is not None and s.state == "ok" else JobState(name, "ok", self.clock()))

    def failing(self, name: str, error: BaseException, attempt: int | None = None) -> None:
        now = self.clock()

        def change(s: JobState | None) -> JobState:
            if s is None or s.state != "failing":
                return JobState(name, "failing", now, attempt or 1, type(error).__name__)
            return replace(s, attempts=attempt or s.attempts + 1, error=type(error).__name__, restarted=None)
        self._set(name, change)

    def restarted(self, name: str) -> None:
        self._set(name, lambda s: replace(s, restarted=self.clock()) if s is not None else JobState(
            name, "ok", self.clock()))

    def stopped(self, name: str) -> None:
        self._set(name, lambda _: JobState(name, "stopped", self.clock()))

    def snapshot(self) -> list[JobState]:
        """Every job's state now; a restarted job that has run ``healthy_after`` seconds is ok again."""
        now = self.clock()
        with self._lock:
            for name, s in self._states.items():
                if s.state == "failing" and s.restarted is not None and now - s.restarted >= self.healthy_after:
                    self._states[name] = JobState(name, "ok", s.restarted)
            return list(self._states.values())


def instance_name() -> str:
    """host:pid — one process's jobs apart from another's of the same name."""
    return f"{socket.gethostname()}:{os.getpid()}"


def rows(states: list[JobState], instance: str, now: float) -> dict[str, list]:
    """The heartbeat rows of ``states`` as columns of ``job_status``."""
    return {"job": [s.job for s in states], "instance": [instance] * len(states),
            "state": [s.state for s in states], "since": [_utc(s.since) for s in states],
            "attempts": [s.attempts for s in states], "error": [s.error for s in states],
            "ts": [_utc(now)] * len(states)}


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)


class Heartbeat:
    """Writes the board to ``job_status`` every ``seconds`` and once more on the way out. A warehouse that is
    down loses a beat or two, never the job: the next beat says what is true then."""

    def __init__(self, board: Board, warehouse: Warehouse, seconds: float = 15.0):
        self.board, self.warehouse, self.seconds = board, warehouse, seconds
        self.instance = instance_name()

    def beat(self) -> bool:
        states = self.board.snapshot()
        if not states:
            return True
        try:
            self.warehouse.insert_columns("job_status", rows(states, self.instance, self.board.clock()))
            return True
        except WarehouseError as e:
            log.debug("job heartbeat not written: %s", e)
            return False

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.seconds):
            self.beat()
