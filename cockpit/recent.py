"""Results that are slow to compute and slow to change (30-day order states, the stations' newest readings),
served at once and recomputed in the background: a screen's refresh never waits for them after the first time."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Hashable

log = logging.getLogger(__name__)


class Recent:
    """The newest value of a computation per key. ``get`` returns it at once; when it is older than ``ttl`` a
    background thread computes it again (one at a time per key) and later calls see the new value. The first call
    for a key computes in the caller's thread. A failing recomputation keeps the old value and is logged."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 256):
        self._clock = clock
        self._max_keys = max_keys
        self._values: dict[Hashable, tuple[Any, float]] = {}
        self._running: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any], ttl: float) -> Any:
        with self._lock:
            hit = self._values.get(key)
            start = hit is not None and self._clock() - hit[1] >= ttl and key not in self._running
            if start:
                self._running.add(key)
        if hit is None:
            return self._store(key, compute())
        if start:
            threading.Thread(target=self._refresh, args=(key, compute), name="recent", daemon=True).start()
        return hit[0]

    def _store(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            if key not in self._values and len(self._values) >= self._max_keys:
                del self._values[min(self._values, key=lambda k: self._values[k][1])]  # the oldest goes
            self._values[key] = (value, self._clock())
        return value

    def _refresh(self, key: Hashable, compute: Callable[[], Any]) -> None:
        try:
            self._store(key, compute())
        except Exception:
            log.exception("recomputing %s failed; the previous value stays", key)
        finally:
            with self._lock:
                self._running.discard(key)
