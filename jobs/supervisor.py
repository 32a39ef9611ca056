"""Supervision of the long-running jobs of one process: a job that fails is restarted after a capped, growing
pause and never stops the others; only Ctrl-C / SIGTERM (or a job that ends by itself) stops them all.

A failure that can pass (the warehouse or the broker unreachable, a server restarting) is logged as a warning;
any other is logged with its traceback — both are restarted, since a wall runs unattended and a job that
stops for good is worse than one that retries. Each job's state (running, failing since when, how many
attempts, the error's class) is kept on a :class:`jobs.status.Board` that /healthz and the screens read
through the warehouse.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from jobs.status import Board
from streams.broker import BrokerError
from streams.kafka_io import StreamError
from warehouse import WarehouseError

log = logging.getLogger(__name__)

TRANSIENT = (WarehouseError, StreamError, BrokerError, OSError)


def transient(error: BaseException) -> bool:
    """Whether retrying later may succeed: the warehouse, the broker or the network, not a bug."""
    return isinstance(error, TRANSIENT)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential pauses: ``first`` × 2^(attempt-1), at most ``cap``, with ±``jitter`` (a share) so that
    processes restarted together do not retry in step."""
    first: float = 1.0
    cap: float = 60.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        base = min(self.cap, self.first * 2 ** max(0, attempt - 1))
        return base * (1 + self.jitter * (2 * rng() - 1))


class Supervisor:
    """Runs jobs as threads, each ``target(*args, stop)``; restarts a job that raises, after ``backoff``."""

    def __init__(self, board: Board | None = None, backoff: Backoff = Backoff(), healthy_after: float = 30.0):
        self.stop = threading.Event()
        self.board = board or Board(healthy_after=healthy_after)  # the board calls it recovered after as long
        self.backoff = backoff
        self.healthy_after = healthy_after  # a restarted job that ran this long starts counting attempts anew
        self._threads: list[threading.Thread] = []
        self.failed: list[str] = []  # jobs that may not be restarted and failed

    def handle_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())

    def spawn(self, name: str, target, *args, until_done: bool = False, restart: bool = True) -> None:
        """Start ``name``. With ``until_done`` a job that returns stops the supervisor (replay: it ends); with
        ``restart`` False a failure stops it too, and the process exits 1."""
        thread = threading.Thread(target=self._supervise, args=(name, target, args, until_done, restart),
                                  name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _supervise(self, name: str, target, args: tuple, until_done: bool, restart: bool) -> None:
        attempt = 0
        self.board.started(name)
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                target(*args, self.stop)
                if until_done:
                    self.stop.set()
                    return
                if self.stop.is_set():
                    return
                raise RuntimeError(f"{name} returned without being stopped")
            except Exception as e:
                if self.stop.is_set():  # failing on the way out (a flush into a closed connection): done
                    log.info("%s ended while stopping", name, extra={"fields": {"job": name,
                                                                               "error": type(e).__name__}})
                    return
                if not restart:
                    log.exception("%s failed; stopping", name, extra={"fields": {"job": name,
                                                                                "error": type(e).__name__}})
                    self.failed.append(name)
                    self.stop.set()
                    return
                attempt = 1 if time.monotonic() - began >= self.healthy_after else attempt + 1
                pause = self.backoff.delay(attempt)
                self.board.failing(name, e, attempt)
                fields = {"job": name, "attempt": attempt, "error": type(e).__name__, "retry_in_s": round(pause, 1)}
                if transient(e):
                    log.warning("%s failed, restarting: %s", name, e, extra={"fields": fields})
                else:
                    log.error("%s failed, restarting", name, exc_info=True, extra={"fields": fields})
                if self.stop.wait(pause):
                    return
                self.board.restarted(name)

    def wait(self, grace: float = 35.0) -> int:  # > a producer's delivery timeout (streams.kafka_io, 30 s)
        """Block until stopped; give the jobs ``grace`` seconds together to finish (a flush, a commit, the
        alert cycle under way). 0 when all stopped in time and none failed for good, else 1."""
        while not self.stop.wait(0.5):
            pass
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        for name in self.board.names():
            self.board.stopped(name)
        if stuck:
            log.error("%s did not stop within %.0f s; exiting anyway", ", ".join(stuck), grace)
        return 1 if stuck or self.failed else 0
