"""At most :data:`MAX_IN_FLIGHT` heavy callbacks in flight per user in this server process.

A heavy callback is one that queries the warehouse for a screen (the map's layers, the analyst pages' refresh and
export, the brief): one user firing twenty of them at once would hold the worker's threads and the warehouse while
everyone else, ``/healthz`` included, waits. A request over the limit is answered at once with 429 and a
``Retry-After`` (never queued: a waiting request would hold a thread just the same); the screen draws it on its
next refresh. Counted per process, in memory: a user's in-flight requests end with the request, so nothing needs
sharing between workers (with several workers the bound is per worker).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, g, jsonify, request

from cockpit.access import output_ids
from cockpit.signin import current_user

log = logging.getLogger(__name__)

# The /map screen's refresh sends its four data callbacks (districts, events, stations, grid) together each tick:
# a lower limit would refuse a user's own screen.
MAX_IN_FLIGHT = 4
RETRY_AFTER_S = 1
# Output ids of the callbacks that query the warehouse (a prefix matches the id and longer ones).
HEAVY = ("map-districts", "map-events", "map-stations", "map-grid", "analysis-errors", "analysis-download",
         "district-errors", "district-download", "brief-content", "brief-download")
BUSY = "同时进行的查询过多，请稍候重试"


class InFlight:
    """A counting semaphore per key that never blocks: :meth:`acquire` says whether a slot was free."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError(f"the limit must be at least 1, not {limit}")
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> bool:
        with self._lock:
            n = self._counts.get(key, 0)
            if n >= self.limit:
                return False
            self._counts[key] = n + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            n = self._counts.get(key, 0) - 1
            if n > 0:
                self._counts[key] = n
            else:
                self._counts.pop(key, None)  # idle keys are dropped: the table holds only users in flight

    def count(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)


def heavy_outputs(prefixes: tuple[str, ...]) -> Callable[[dict], bool]:
    """A test of a callback request body: whether any of its output ids starts with one of ``prefixes``."""
    def heavy(body: dict) -> bool:
        output = body.get("output")
        return isinstance(output, str) and any(cid.startswith(prefixes) for cid in output_ids(output))
    return heavy


def register(server: Flask, heavy: Callable[[dict], bool] | tuple[str, ...] = HEAVY,
             limit: int = MAX_IN_FLIGHT) -> InFlight:
    """Limit ``server``'s heavy callbacks (``heavy``: a test of the request body, or output-id prefixes) to
    ``limit`` in flight per signed-in user. Register after the sign-in guard, whose ``before_request`` sets the
    user (and refuses requests without one before this runs). Returns the counter (for tests and figures)."""
    slots = InFlight(limit)
    is_heavy = heavy if callable(heavy) else heavy_outputs(tuple(heavy))
    server.extensions["cockpit_limits"] = slots

    @server.before_request
    def limit_heavy_callbacks():
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        user = current_user()
        body = request.get_json(silent=True)
        if user is None or not isinstance(body, dict) or not is_heavy(body):
            return None
        if not slots.acquire(user.name):
            log.warning("refused a heavy callback: too many in flight",
                        extra={"fields": {"user": user.name, "in_flight": slots.count(user.name),
                                          "output": str(body.get("output"))[:80]}})
            reply = jsonify(error=BUSY)
            reply.status_code, reply.headers["Retry-After"] = 429, str(RETRY_AFTER_S)
            return reply
        g.heavy_slot = user.name
        return None

    @server.teardown_request
    def release_heavy_slot(_error):
        key = g.pop("heavy_slot", None)
        if key is not None:
            slots.release(key)

    return slots
