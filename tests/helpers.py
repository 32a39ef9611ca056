"""Helpers shared by the integration tests: simulated events, publishing, ingesting, waiting."""
from __future__ import annotations

import math
import re
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable

import msgspec

from domain.districts import DistrictIndex
from ingest.decode import Decoder
from ingest.direct import store_events
from simulator.hotline import HotlineSimulator
from streams.kafka_io import KafkaPythonProducer, ensure_topics

GUANGZHOU = DistrictIndex.for_city("440100")


def simulated_events(hours: float, *, orders_per_day: int = 20000, seed: int = 7, end: float | None = None):
    end = end or time.time()
    sim = HotlineSimulator(GUANGZHOU, orders_per_day=orders_per_day, seed=seed, start=end - hours * 3600)
    return sim.advance(end)


def unique_topic() -> str:
    return f"test.hotline.{uuid.uuid4().hex[:8]}"


def publish_raw(bootstrap: str, topic: str, messages: list[tuple[str | None, bytes]],
                partitions: int = 3) -> dict[int, int]:
    """Publish and return {partition: offset after the last acknowledged message} (kafka-python's futures
    carry the offsets)."""
    ensure_topics(bootstrap, [topic], partitions)
    producer = KafkaPythonProducer(bootstrap)
    futures = [producer.send(topic, key, value) for key, value in messages]
    producer.flush()
    producer.close()
    ends: dict[int, int] = {}
    for future in futures:
        meta = future.get(timeout=10)
        ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    return ends


def as_messages(events: list[dict]) -> list[tuple[str, bytes]]:
    return [(e["order_id"], msgspec.json.encode(e)) for e in events]


def store_directly(warehouse, events: list[dict], clock: Callable[[], float] = time.time) -> None:
    """Decode and insert events without a broker (for screen tests that need data, not Kafka); ``clock`` is the
    decoder's now (events more than 400 days before it or in its future are rejected)."""
    assert store_events(warehouse, Decoder(GUANGZHOU, clock=clock), events) == len(events)


def wait_until(predicate, timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def ingest_until_committed(settings, warehouse, ends: dict[str, dict[int, int]], timeout: float = 90) -> None:
    """Run ingest on ``settings``' topics until its group has committed up to ``ends`` (topic → {partition:
    offset after the last message}) on every one, then stop it. (tansu 0.6's ListOffsets(latest) is wrong, so
    the ends come from the producer's acknowledgements.)"""
    from ingest.consume import run_ingest
    from streams.kafka_io import committed_offsets

    stop = threading.Event()
    worker = threading.Thread(target=run_ingest, args=(settings, warehouse, stop, list(ends)))
    worker.start()
    try:
        caught_up = lambda: all(committed_offsets(settings.kafka.bootstrap, settings.kafka.group_id, topic) == end  # noqa: E731
                                for topic, end in ends.items())
        assert wait_until(caught_up, timeout), f"ingest did not catch up with {', '.join(ends)} in {timeout}s"
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


def signed_in_client(server, warehouse, role: str, name: str | None = None):
    """A Flask test client of ``server`` (a Flask app) signed in through /login as a new user with ``role``
    (named after it unless ``name``); its Dash callbacks need :func:`csrf_header`."""
    from cockpit import users

    name = name or role
    password = secrets.token_urlsafe(12)
    users.put(warehouse, name, role, password)
    client = server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    reply = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def csrf_header(client) -> dict[str, str]:
    """The header dash-renderer sends with each callback: the ``_csrf_token`` cookie's value."""
    return {"X-CSRFToken": client.get_cookie("_csrf_token").value}


def sign_in(page, base_url: str, warehouse, role: str, then: str = "", name: str | None = None) -> None:
    """Sign a Chromium page in through the sign-in form as a new user with ``role`` (named after it unless
    ``name``), then open ``then``."""
    from cockpit import users

    name = name or role
    password = secrets.token_urlsafe(12)
    users.put(warehouse, name, role, password)
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, page.content()[:2000]
    if then:
        page.goto(base_url + then)


def screen_point(page, lon: float, lat: float, adcode: str = "440100") -> tuple[float, float]:
    """Where a place (map CRS) is on a page's map, from the drawn city outline (Web Mercator)."""
    from layers.city_map import city_outline

    box = page.locator(".leaflet-overlay-pane path:not(.leaflet-interactive)").first.bounding_box()
    ring = [p for part in city_outline(adcode) for p in part]
    south, north = min(p[0] for p in ring), max(p[0] for p in ring)
    west, east = min(p[1] for p in ring), max(p[1] for p in ring)
    y = lambda t: math.log(math.tan(math.pi / 4 + math.radians(t) / 2))  # noqa: E731
    return (box["x"] + (lon - west) / (east - west) * box["width"],
            box["y"] + (y(north) - y(lat)) / (y(north) - y(south)) * box["height"])


class Clock:
    """A clock that moves only when a test sets ``now``."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


HEALTH_TOKEN = "monitor-" + "h" * 40  # what the tests' cockpit processes take as auth.health_token
PROCESS_ENV = {"COCKPIT_AUTH_HEALTH_TOKEN": HEALTH_TOKEN}  # for each cockpit process a test starts


def healthz(port: int, token: str | None = HEALTH_TOKEN) -> dict | None:
    """The cockpit's /healthz report on ``port`` (in full with the monitor token), or None while it does not
    answer."""
    import json
    import urllib.request

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())
    except OSError:  # a 503 too
        return None


def raise_incident_alert(warehouse, incident_id: str = "INC-7", text: str = "河涌漫堤") -> str:
    """One open red alert (a 特别重大 flood in 天河, reported 10 minutes ago) on ``warehouse``; its alert id."""
    from alerts import store
    from alerts.engine import evaluate
    from alerts.rules import parse_rule
    from config.settings import load
    from ingest.consume import make_decoder

    ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 600))
    event = {"event_id": f"{incident_id}.1", "schema": "emergency.v1", "ts": ts, "incident_id": incident_id,
             "type": "flood", "level": "I", "status": "reported", "district_code": "440106", "description": text,
             "location": {"lon": 113.3245, "lat": 23.1375}}
    assert store_events(warehouse, make_decoder(load(environ={})), [event]) == 1
    rule = parse_rule({"id": "major-red", "name": "特别重大突发事件", "kind": "incident", "severity": "red",
                       "levels": ["I"]})
    assert evaluate(warehouse, [rule], time.time(), escalate_after_minutes=60).opened == 1
    snapshots = store.current(warehouse)
    return snapshots.set_index("subject_id").loc[incident_id, "alert_id"]


@contextmanager
def other_origin(respond: Callable[[str], tuple[str, bytes]]):
    """A web server on another origin than the cockpit's (``localhost``, where the cockpit is ``127.0.0.1``):
    ``respond(path)`` gives (content type, body). Yields its base URL."""
    import http.server

    from streams.broker import free_port

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            kind, body = respond(self.path)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()


class _ClockedTime:
    """The ``time`` module with its ``time()`` replaced by a test's clock (everything else as it is)."""

    def __init__(self, clock: Callable[[], float]):
        self.time = clock

    def __getattr__(self, name):
        return getattr(time, name)


def freeze_screens(monkeypatch, clock: Callable[[], float], *files: str) -> None:
    """Have the modules loaded from ``files`` (paths from the repository root, e.g. ``cockpit/pages/wall.py``:
    Dash loads pages under its own module names) read ``clock`` as their ``time.time()``: the screens take no clock,
    so this is how a screen test fixes its day and hour. Call it after the app is created; monkeypatch undoes it."""
    import sys

    from domain.paths import ROOT

    wanted = {str((ROOT / f).resolve()) for f in files}
    found = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) in wanted]
    assert {m.__file__ for m in found} == wanted, f"not loaded: {wanted - {m.__file__ for m in found}}"
    for module in found:
        monkeypatch.setattr(module, "time", _ClockedTime(clock))


def local_epoch(text: str, tz: str = "Asia/Shanghai") -> int:
    """Epoch seconds of a wall-clock time in the city (``2026-11-20 10:00:00``)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    return int(dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp())
