"""A sliding-window limit of failed attempts per key (sign-in: per user name and per client address).

In memory, per server process: with N gunicorn workers an attacker gets at most N × the limit per window.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class FailureLimit:
    def __init__(self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.attempts = attempts
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again; 0 when all may try now."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= self._max_keys:  # bounded memory under a flood of names
                self._failures = {k: q for k, q in self._failures.items() if q and q[-1] > now - self.window_s}
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=self.attempts)).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times or len(times) < self.attempts:
            return 0.0
        return max(0.0, times[0] + self.window_s - now)
