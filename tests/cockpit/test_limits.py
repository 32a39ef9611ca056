"""Heavy callbacks bounded per user (cockpit/limits.py): the counter alone, then the real app over HTTP on both
warehouse backends — a user's fifth heavy callback while four are in flight is answered 429 at once, other users
and light callbacks are not held back, the slots come back when the requests end — and twenty parallel map
requests from one user against the real server (waitress) leave /healthz answering."""
import threading

import pytest

from cockpit import limits
from cockpit.app import create_app
from cockpit.serve import WebServer
from streams.broker import free_port
from tests.cockpit.calls import EVENTS, WORLD, map_load, post
from tests.helpers import signed_in_client, simulated_events, store_directly


def wired(server) -> limits.InFlight:
    """The limiter create_app registered on the app."""
    return server.extensions["cockpit_limits"]


# --- the counter ---------------------------------------------------------------------------------------------------

def test_a_key_gets_at_most_limit_slots_and_each_release_frees_one():
    slots = limits.InFlight(2)
    assert [slots.acquire("ana") for _ in range(3)] == [True, True, False]
    assert slots.acquire("bo") and slots.count("bo") == 1  # keys are apart
    slots.release("ana")
    assert slots.count("ana") == 1 and slots.acquire("ana") and not slots.acquire("ana")
    for _ in range(2):
        slots.release("ana")
    assert slots.count("ana") == 0 and "ana" not in slots._counts  # an idle key is not kept
    slots.release("ana")  # a stray release never goes below zero
    assert slots.count("ana") == 0 and slots.acquire("ana")
    with pytest.raises(ValueError, match="at least 1"):
        limits.InFlight(0)


def test_the_counter_holds_under_threads():
    slots, got = limits.InFlight(3), []
    barrier = threading.Barrier(16)

    def grab():
        barrier.wait()
        got.append(slots.acquire("ana"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [False] * 13 + [True] * 3


@pytest.mark.parametrize("output, heavy", [
    ("map-events.data", True), (EVENTS, True),
    ("..map-grid.data...map-grid.hideout...map-grid-legend.data..", True),
    ("..analysis-errors.children...analysis-kpis.children..", True), ("district-download.data", True),
    ("brief-content.children", True), ("map-legends.children", False), ("wall-ticker.children", False),
    ("analysis-url.search", False), ('{"index":1,"type":"duty-row"}.n_clicks', False),
])
def test_heavy_callbacks_are_named_by_their_output_ids(output, heavy):
    assert limits.heavy_outputs(limits.HEAVY)({"output": output}) is heavy
    assert limits.heavy_outputs(limits.HEAVY)({"output": ["map-events.data"]}) is False  # not a string: not ours


# --- over HTTP -----------------------------------------------------------------------------------------------------

@pytest.fixture
def app(warehouse, settings_for):
    store_directly(warehouse, simulated_events(2, orders_per_day=6000, seed=5))
    app = create_app(settings_for(), warehouse)
    wired(app.server)
    return app


class Gate:
    """Holds the warehouse's event queries of threads named ``held-…`` until opened (the queries then run as
    usual): requests in flight, for as long as the test needs."""

    def __init__(self, wh):
        self.open, self.entered, self._run, self.wh = threading.Event(), threading.Semaphore(0), wh.query_df, wh
        wh.query_df = self._query

    def _query(self, sql, params=None):
        if threading.current_thread().name.startswith("held-") and "hotline_events" in sql:
            self.entered.release()
            self.open.wait(30)
        return self._run(sql, params)

    def close(self):
        self.open.set()
        self.wh.query_df = self._run


def test_a_users_heavy_callback_over_the_limit_is_answered_429_while_others_go_on(app, warehouse):
    ana = signed_in_client(app.server, warehouse, "wall", name="ana")
    bo = signed_in_client(app.server, warehouse, "wall", name="bo")
    for client in (ana, bo):
        client.get("/map")
    gate, replies = Gate(warehouse), {}

    def held(i):
        replies[i] = post(ana, app, EVENTS, 1, WORLD, 18)

    threads = [threading.Thread(target=held, args=(i,), name=f"held-{i}") for i in range(limits.MAX_IN_FLIGHT)]
    try:
        for t in threads:
            t.start()
        for _ in threads:
            assert gate.entered.acquire(timeout=30)  # all four are in the warehouse now
        assert app.server.extensions["cockpit_limits"].total() == limits.MAX_IN_FLIGHT
        refused = post(ana, app, EVENTS, 1, WORLD, 18)
        assert refused.status_code == 429
        assert refused.get_json() == {"error": "同时进行的查询过多，请稍候重试"}
        assert refused.headers["Retry-After"] == "1"
        assert post(bo, app, EVENTS, 1, WORLD, 18).status_code == 200  # another user is not held back
        light = post(ana, app, "map-legends.children", ["工单与突发事件"], None, None)
        assert light.status_code == 200  # nor the same user's light callbacks
    finally:
        gate.close()
        for t in threads:
            t.join(30)
    assert [replies[i].status_code for i in sorted(replies)] == [200] * limits.MAX_IN_FLIGHT
    assert app.server.extensions["cockpit_limits"].total() == 0  # every slot came back
    assert post(ana, app, EVENTS, 1, WORLD, 18).status_code == 200


def test_a_heavy_callback_that_fails_gives_its_slot_back(app, warehouse):
    ana = signed_in_client(app.server, warehouse, "wall", name="ana")
    ana.get("/map")
    run = warehouse.query_df

    def broken(sql, params=None):
        raise RuntimeError("a bug in a query")

    warehouse.query_df = broken
    try:
        for _ in range(limits.MAX_IN_FLIGHT + 1):
            assert post(ana, app, EVENTS, 1, WORLD, 18).status_code in (200, 500)  # errors.py answers a bug
    finally:
        warehouse.query_df = run
    assert app.server.extensions["cockpit_limits"].total() == 0
    assert post(ana, app, EVENTS, 1, WORLD, 18).status_code == 200


def test_twenty_parallel_map_requests_from_one_user_leave_healthz_answering(warehouse, settings_for):
    store_directly(warehouse, simulated_events(6, orders_per_day=24000, seed=11))
    web = WebServer(settings_for(**{"cockpit.port": free_port()}), warehouse)
    wired(web.app.server)
    web.start()
    try:
        client = signed_in_client(web.app.server, warehouse, "wall", name="ana")  # for the session cookie
        codes, sizes, quiet, loaded = map_load(web, client, 20)
    finally:
        web.stop()
    print(f"\nFIGURES 20 parallel map-events (world, zoom 18) from one user: {codes.count(200)} × 200, "
          f"{codes.count(429)} × 429; largest 200 {max(sizes) / 1024:.1f} KiB; /healthz {quiet * 1000:.0f} ms "
          f"quiet, {loaded * 1000:.0f} ms under the load")
    assert set(codes) <= {200, 429} and codes.count(429) >= 20 - 2 * limits.MAX_IN_FLIGHT
    assert max(sizes) < 400 * 1024
