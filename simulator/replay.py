"""``replay FILE --speed X``: re-publish a JSONL file of contract events (one event per line, as
``simulate --record`` writes) to their topics, with the original spacing of their event times divided by X —
for drills (演练) and for reproducing a day. Each line is sent exactly as it is in the file.

The whole file is checked before anything is sent: every line must be a JSON object with a known ``schema``, the
key field of its family and a readable ``ts``; the first bad line stops the replay with an error naming it.
Events are sent in event-time order (a file out of order is sorted; ties keep the file's order).
"""
from __future__ import annotations

import bisect
import logging
import threading
import time
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

import msgspec

from domain.contract import event_time
from domain.topics import ROUTES, TOPICS
from streams.kafka_io import ensure_topics, open_producer

log = logging.getLogger(__name__)


class ReplayError(ValueError):
    """The file cannot be replayed; the message names the line."""


class Line(NamedTuple):
    at: float  # event time, epoch seconds
    topic: str
    key: str
    raw: bytes


def read_events(path: Path) -> list[Line]:
    """Every event of a JSONL file, checked, in event-time order."""
    lines = []
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                raw = raw.rstrip(b"\r\n")
                if raw.strip():
                    lines.append(_line(raw, f"{path}:{number}"))
    except OSError as e:
        raise ReplayError(f"cannot read {path}: {e.strerror}") from None
    return sorted(lines, key=lambda line: line.at)


def _line(raw: bytes, where: str) -> Line:
    try:
        event = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise ReplayError(f"{where}: not JSON ({e})") from None
    if not isinstance(event, dict):
        raise ReplayError(f"{where}: a JSON {type(event).__name__}, not an event object")
    if event.get("schema") not in ROUTES:
        raise ReplayError(f"{where}: unknown schema {event.get('schema')!r}; known: {', '.join(ROUTES)}")
    topic, field = ROUTES[event["schema"]]
    if not isinstance(event.get(field), str):
        raise ReplayError(f"{where}: {event['schema']} event without a {field}")
    try:
        at = event_time(event)
    except (TypeError, ValueError):
        raise ReplayError(f"{where}: ts {event.get('ts')!r} is not an ISO-8601 time with offset") from None
    return Line(at, topic, event[field], raw)


def run_replay(settings, events: list[Line], speed: float, stop: threading.Event) -> int:
    """Publish :func:`read_events`' events paced at ``speed``× (> 0) their original spacing; returns the number
    sent."""
    k = settings.kafka
    ensure_topics(k.bootstrap, sorted(TOPICS.values()), k.partitions)
    producer = open_producer(k.bootstrap, k.client)
    sent = 0
    wall_start = time.monotonic()
    log.info("replay: %d events at %gx", len(events), speed)
    try:
        while sent < len(events) and not stop.is_set():
            due = _due(events, sent, wall_start, speed, time.monotonic())
            for line in events[sent:due]:
                producer.send(line.topic, line.key, line.raw)
            producer.flush()
            sent = due
            if sent < len(events):
                wait = (events[sent].at - events[0].at) / speed - (time.monotonic() - wall_start)
                stop.wait(min(max(wait, 0.0), 1.0))
    finally:
        producer.close()
    log.info("replay stopped", extra={"fields": {"events": sent, "of": len(events)}})
    return sent


def _due(events: list[Line], first: int, wall_start: float, speed: float, wall: float) -> int:
    """Index past the last event due at ``wall`` (at most 10,000 past ``first``, so that a stop is prompt)."""
    horizon = events[0].at + (wall - wall_start) * speed
    return min(bisect.bisect_right(events, horizon, lo=first, key=attrgetter("at")), first + 10_000)
