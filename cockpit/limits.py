"""At most :data:`MAX_IN_FLIGHT` heavy callbacks in flight per signed-in browser (a user's session) in this
server process.

A heavy callback is one that queries the warehouse for a screen (the map's layers, the analyst pages' refresh and
export, the brief): one user firing twenty of them at once would hold the worker's threads and the warehouse while
everyone else, ``/healthz`` included, waits. A request over the limit is answered at once with 429 and a
``Retry-After`` (never queued: a waiting request would hold a thread just the same); the screen draws it on its
next refresh. Counted per session, not per user name: the wall PCs of a command centre share one kiosk user, each
with its own session. Counted per process, in memory: in-flight requests end with the request, so nothing needs
sharing between workers (with several workers the bound is per worker).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, g, jsonify, request, session

from cockpit.access import output_ids
from cockpit.signin import current_user

log = logging.getLogger(__name__)

# A browser keeps at most 6 connections to one server (HTTP/1.1), so an honest page — /map's four data callbacks
# each tick, plus what a page it just left still has in flight — is never refused; a script is.
MAX_IN_FLIGHT = 6
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

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def heavy_outputs(prefixes: tuple[str, ...]) -> Callable[[dict], bool]:
    """A test of a callback request body: whether any of its output ids starts with one of ``prefixes``."""
    def heavy(body: dict) -> bool:
        output = body.get("output")
        return isinstance(output, str) and any(cid.startswith(prefixes) for cid in output_ids(output))
    return heavy


def register(server: Flask) -> InFlight:
    """Limit ``server``'s heavy callbacks (:data:`HEAVY`) to :data:`MAX_IN_FLIGHT` in flight per signed-in browser
    (session). Register after the sign-in guard, whose ``before_request`` sets the user (and refuses requests
    without one before this runs). Returns the counter (for tests and figures)."""
    slots = InFlight(MAX_IN_FLIGHT)
    is_heavy = heavy_outputs(HEAVY)
    server.extensions["cockpit_limits"] = slots

    @server.before_request
    def limit_heavy_callbacks():
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        user = current_user()
        body = request.get_json(silent=True)
        if user is None or not isinstance(body, dict) or not is_heavy(body):
            return None
        key = f"{user.name}@{session.get('t', '')}"  # this browser's session
        if not slots.acquire(key):
            log.warning("refused a heavy callback: too many in flight",
                        extra={"fields": {"user": user.name, "in_flight": slots.count(key),
                                          "output": str(body.get("output"))[:80]}})
            reply = jsonify(error=BUSY)
            reply.status_code, reply.headers["Retry-After"] = 429, str(RETRY_AFTER_S)
            return reply
        g.heavy_slot = key
        return None

    @server.teardown_request
    def release_heavy_slot(_error):
        key = g.pop("heavy_slot", None)
        if key is not None:
            slots.release(key)

    return slots
