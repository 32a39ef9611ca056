"""The simulated city on Kafka: the hotline, incidents and sensors under one set of conditions (and scenarios),
merged in event-time order and published to their topics — optionally recorded to a JSONL file for
``replay``, and mixed with malformed messages to exercise ingest.

The simulated clock starts ``simulate.backfill_hours`` back. With ``simulate.speed`` 0 that history is published
at once, the newest hour first (so screens are live at once; the warehouse orders by event time, not arrival);
with a speed X it plays at X× the wall clock (60: an hour a minute) until it reaches now. Then the city keeps
pace with the wall clock: it never runs ahead, since ingest rejects events from the future.
"""
from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
import threading
import time
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import msgspec

from config.stations import load_stations
from domain.contract import event_time
from domain.districts import DistrictIndex
from domain.paths import ROOT
from domain.topics import TOPICS, route
from simulator import incidents as sim_incidents
from simulator.hotline import HOUR, LEAD_IN, HotlineSimulator
from simulator.incidents import IncidentSimulator
from simulator.malformed import KINDS, corrupt, kinds_for
from simulator.scenarios import Conditions, Scenario, parse
from simulator.sensors import SensorSimulator
from streams.kafka_io import Producer, ensure_topics, open_producer

log = logging.getLogger(__name__)

def scenarios_of(specs: str | list[str], now: float, districts: list[str]) -> tuple[Scenario, ...]:
    """Scenarios from ``NAME[@START][:DISTRICT]`` specs (a comma-separated string or a list)."""
    if isinstance(specs, str):
        specs = specs.split(",")
    return tuple(parse(spec.strip(), now, districts) for spec in specs if spec.strip())


class City:
    """Every simulator of the city under the same :class:`Conditions`; ``advance(until)`` returns the events of
    all four families with event time (``ts``, whole seconds) in (now, until], in time order, ``now`` being
    ``start`` at first. Seeded: the same settings, scenarios and start give the same events; and the intervals are
    half-open, so a city started at any instant T gives exactly the events after T of one started earlier, none at
    or before T: a restart neither repeats nor loses an event."""

    def __init__(self, settings, scenarios: tuple[Scenario, ...], start: float):
        s, tz = settings.simulate, settings.city.timezone
        districts = DistrictIndex.for_city(settings.city.adcode)
        conditions = Conditions(s.seed, scenarios)
        stations = load_stations(ROOT / settings.city.stations, city=settings.city.adcode)
        self.simulators = (
            HotlineSimulator(districts, orders_per_day=s.orders_per_day, seed=s.seed, start=start, timezone=tz,
                             lead_in=LEAD_IN, conditions=conditions),
            IncidentSimulator(districts, conditions, incidents_per_day=s.incidents_per_day, seed=s.seed,
                              start=start, timezone=tz, lead_in=sim_incidents.LEAD_IN),
            SensorSimulator(stations, conditions, seed=s.seed, start=start, timezone=tz))
        self.now = start

    def advance(self, until: float) -> list[dict]:
        events = [sim.advance(until) for sim in self.simulators]
        self.now = max(self.now, until)
        return list(heapq.merge(*events, key=event_time))


class Publisher:
    """Sends events to their topics; records each one (the bytes sent, one per line) when given a file; after
    every valid event, mixes in malformed ones so that they make up ``bad_ratio`` of the messages, cycling
    through every kind of :mod:`simulator.malformed` that fits the event."""

    def __init__(self, producer: Producer, *, record: IO[bytes] | None = None, bad_ratio: float = 0.0,
                 seed: int = 0, max_message_bytes: int = 65536):
        self.producer, self.record = producer, record
        self.sent = self.bad = 0
        self._bad_per_event = bad_ratio / (1 - bad_ratio)
        self._owed = 0.0
        self._next_kind = 0
        self._passed_over: list[str] = []  # kinds whose turn came on an event they do not fit
        self._r = random.Random(f"{seed}:bad")
        self._max_message_bytes = max_message_bytes
        self._encode = msgspec.json.Encoder().encode

    def send(self, events: list[dict]) -> int:
        for event in events:
            topic, key = route(event)
            raw = self._encode(event)
            self.producer.send(topic, key, raw)
            if self.record:
                self.record.write(raw + b"\n")
            self._owed += self._bad_per_event
            while self._owed >= 1:
                self._owed -= 1
                self.producer.send(topic, key, self._malformed(event))
        self.producer.flush()
        if self.record:
            self.record.flush()
        self.sent += len(events)
        return len(events)

    def _malformed(self, event: dict) -> bytes:
        """The next kind in turn that fits the event; a kind passed over for want of a fitting event (not_utf8 on
        a sensor reading) goes first when one comes, so that every kind shows up even where one schema dominates."""
        fits = kinds_for(event["schema"])
        kind = next((k for k in self._passed_over if k in fits), None)
        if kind is not None:
            self._passed_over.remove(kind)
        else:
            turn = [KINDS[(self._next_kind + step) % len(KINDS)] for step in range(len(KINDS))]
            step = next((i for i, k in enumerate(turn) if k in fits), None)
            if step is None:
                raise AssertionError(f"no malformed kind fits {event['schema']}")
            kind, self._next_kind = turn[step], (self._next_kind + step + 1) % len(KINDS)
            self._passed_over += [k for k in turn[:step] if k not in self._passed_over]
        self.bad += 1
        return corrupt(kind, event, self._r, max_message_bytes=self._max_message_bytes, now=time.time())


def sim_time(wall: float, wall_start: float, start: float, speed: float) -> float:
    """Where the simulated clock stands at wall time ``wall``: ``start`` at ``wall_start``, then X× the wall
    clock (0: at once) until it reaches the wall clock, which it then keeps pace with."""
    return wall if speed == 0 else min(wall, start + (wall - wall_start) * speed)


def configured_scenarios(settings, now: float) -> tuple[Scenario, ...]:
    """``simulate.scenarios``, with relative starts from ``now`` (ValueError naming a bad one)."""
    return scenarios_of(settings.simulate.scenarios, now, DistrictIndex.for_city(settings.city.adcode).codes)


def run_simulator(settings, stop: threading.Event, *, scenarios: tuple[Scenario, ...] = (),
                  record: Path | None = None, tick: float = 1.0) -> int:
    """Publish the simulated city until ``stop``; returns the number of valid events sent."""
    k, s = settings.kafka, settings.simulate
    wall_start = time.time()
    start = wall_start - s.backfill_hours * HOUR
    city = City(settings, scenarios, start)
    ensure_topics(k.bootstrap, sorted(TOPICS.values()), k.partitions)
    producer = open_producer(k.bootstrap, k.client)
    out = open(record, "xb") if record else None
    publisher = Publisher(producer, record=out, bad_ratio=s.bad_ratio, seed=s.seed,
                          max_message_bytes=settings.ingest.max_message_bytes)
    log.info("simulator: from %s at %s",
             dt.datetime.fromtimestamp(start, ZoneInfo(settings.city.timezone)).isoformat(timespec="seconds"),
             f"{s.speed:g}x" if s.speed else "once, then live",
             extra={"fields": {"scenarios": ",".join(f"{x.name}:{x.district}" for x in scenarios)}})
    caught_up = False
    try:
        if not s.speed:  # history at once, the newest hour first: the screens are live while the rest arrives
            history = []
            while city.now < wall_start and not stop.is_set():  # in hour chunks, so that Ctrl-C is prompt
                history.append(city.advance(min(wall_start, city.now + HOUR)))
            for chunk in reversed(history):
                if stop.is_set():
                    break
                publisher.send(chunk)
        while not stop.is_set():
            target = sim_time(time.time(), wall_start, start, s.speed)
            while city.now < target and not stop.is_set():  # in hour chunks, so that Ctrl-C is prompt
                publisher.send(city.advance(min(target, city.now + HOUR)))
            if not caught_up and target >= wall_start:
                caught_up = True
                log.info("simulator: history published", extra={"fields": {
                    "events": publisher.sent, "malformed": publisher.bad, "hours": s.backfill_hours}})
            stop.wait(tick)
    finally:
        producer.close()
        if out:
            out.close()
    log.info("simulator stopped", extra={"fields": {"events": publisher.sent, "malformed": publisher.bad}})
    return publisher.sent
