"""How long a sign-in must wait after failures: growing delays per key, counted where every server sees them.

A key (``user:NAME``, ``addr:IP``, ``device:ID``, ``kiosk:IP``) may fail ``attempts`` times within the window
freely; after that each further try waits 1 s, 2 s, 4 s … after the last failure, at most the window. No key
is ever blocked for longer than the window after its last failure, and a success clears that key's count only.
Failures are kept in the warehouse (``signin_failures``), so the limit holds across all workers and servers;
while the warehouse cannot be reached, each process counts its own (what it saw is never lost).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from typing import Callable

from warehouse import Warehouse, WarehouseError

log = logging.getLogger(__name__)
FIRST_DELAY_S = 1.0


def wait_after(failures: list[float], now: float, attempts: int, window_s: float) -> float:
    """Seconds until a key with these failure times (since its last success) may try again."""
    recent = sorted(t for t in failures if now - window_s < t <= now)
    if len(recent) < attempts:
        return 0.0
    delay = min(window_s, FIRST_DELAY_S * 2 ** (len(recent) - attempts))
    return max(0.0, recent[-1] + delay - now)


class MemoryAttempts:
    """Attempts kept in this process (bounded: keys idle for a window are dropped)."""

    def __init__(self, window_s: float, max_keys: int = 100_000):
        self.window_s, self.max_keys = window_s, max_keys
        self._failures: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def record(self, key: str, at: float, ok: bool) -> None:
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._failures = defaultdict(list, {k: v for k, v in self._failures.items()
                                                    if v and v[-1] > at - self.window_s})
            if ok:
                self._failures.pop(key, None)
            else:
                self._failures[key] = [t for t in self._failures[key] if t > at - self.window_s] + [at]

    def failures(self, keys: list[str], since: float) -> dict[str, list[float]]:
        with self._lock:
            return {k: [t for t in self._failures.get(k, ()) if t > since] for k in keys}


class WarehouseAttempts:
    """Attempts in the warehouse's ``signin_failures``: what every server behind one address counts."""

    def __init__(self, wh: Warehouse):
        self.wh = wh

    def record(self, key: str, at: float, ok: bool) -> None:
        self.wh.insert_columns("signin_failures", {
            "ts": [dt.datetime.fromtimestamp(int(at), dt.timezone.utc)], "key": [key], "at": [at], "ok": [int(ok)]})

    def failures(self, keys: list[str], since: float) -> dict[str, list[float]]:
        df = self.wh.query_df(
            "SELECT key, groupArrayIf(at, ok = 0) AS failed, maxIf(at, ok = 1) AS cleared FROM signin_failures "
            "WHERE has({keys:Array(String)}, key) AND at > {since:Float64} GROUP BY key",
            {"keys": list(keys), "since": float(since)})
        found = {r["key"]: [float(t) for t in r["failed"] if t > r["cleared"]] for r in df.to_dict("records")}
        return {k: found.get(k, []) for k in keys}


class SignInLimit:
    def __init__(self, wh: Warehouse | None, attempts: int, window_s: float,
                 clock: Callable[[], float] = time.time):
        self.attempts, self.window_s, self._clock = attempts, window_s, clock
        self.shared = WarehouseAttempts(wh) if wh is not None else None
        self.local = MemoryAttempts(window_s)

    def retry_after(self, *keys: str) -> float:
        """Seconds until all of ``keys`` may try again; 0 when they may try now."""
        now, keys = self._clock(), list(keys)
        seen = None
        if self.shared is not None:
            try:
                seen = self.shared.failures(keys, now - self.window_s)
            except WarehouseError as e:
                log.warning("sign-in limit: the warehouse is unavailable, counting in this process",
                            extra={"fields": {"error": type(e).__name__}})
        if seen is None:
            seen = self.local.failures(keys, now - self.window_s)
        return max((wait_after(times, now, self.attempts, self.window_s) for times in seen.values()), default=0.0)

    def failed(self, *keys: str) -> None:
        self._record(keys, ok=False)

    def succeeded(self, *keys: str) -> None:
        self._record(keys, ok=True)

    def _record(self, keys: tuple[str, ...], ok: bool) -> None:
        now = self._clock()
        for key in keys:
            self.local.record(key, now, ok)
            if self.shared is not None:
                try:
                    self.shared.record(key, now, ok)
                except WarehouseError as e:
                    log.warning("sign-in limit: could not store an attempt",
                                extra={"fields": {"key": key.split(":", 1)[0], "error": type(e).__name__}})
