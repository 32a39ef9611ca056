"""The simulated city as one: four families under one set of conditions, in time order and reproducible, its
intervals half-open on fixed dates (whatever day the tests run); the hotline reacting to scenarios (a surge of one
category, drainage complaints in a rainstorm); the simulated clock."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from config.settings import load
from domain.contract import event_time
from domain.districts import DistrictIndex
from domain.topics import ROUTES, route
from ingest.consume import make_decoder
from simulator.city import City, Publisher, scenarios_of, sim_time
from simulator.hotline import SURGE_SUBCATEGORIES, HotlineSimulator
from simulator.malformed import REASON
from simulator.scenarios import Conditions, Scenario
from streams.kafka_io import Record
from tests.helpers import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600
GUANGZHOU = DistrictIndex.for_city("440100")
# A local 08:00, so that surges fall in office hours: the day a CI run (on 2026-12-07, when this was "two days
# ago") found an order's step 0.6 s after the start stamped at the start.
MORNING = dt.datetime(2026, 12, 5, 8, tzinfo=SHANGHAI).timestamp()
# Starts on fixed dates: that one, a year's and a month's end (the window crosses midnight, and order and incident
# ids carry the local day), a leap day, and the night Europe's clocks go forward (nothing changes in Shanghai).
STARTS = [dt.datetime(*when, tzinfo=SHANGHAI) for when in ((2026, 12, 5, 8), (2026, 12, 31, 23, 30),
                                                            (2027, 2, 28, 23), (2028, 2, 29, 12), (2026, 3, 29, 1, 30))]


@pytest.mark.parametrize("wall, speed, expected", [
    (1000.0, 0.0, 1000.0),  # at once: always the wall clock
    (1000.0, 60.0, 990.0 - 3600 + 60 * 10),  # 10 s after a start an hour back, at 60×
    (1000.0 + 60, 60.0, 1000.0 + 60),  # caught up: keeps pace with the wall clock, never ahead
    (990.0, 1.0, 990.0 - 3600),  # 1×: stays an hour behind
])
def test_sim_time_plays_the_history_at_speed_and_never_runs_ahead(wall, speed, expected):
    assert sim_time(wall, wall_start=990.0, start=990.0 - 3600, speed=speed) == expected


def test_scenarios_of_parses_a_comma_separated_list_with_relative_starts():
    got = scenarios_of(" rainstorm@-2h:440106, major_incident ", 10_000.0, GUANGZHOU.codes)
    assert got == (Scenario("rainstorm", 10_000.0 - 2 * HOUR, "440106"), Scenario("major_incident", 10_000.0, "440112"))
    assert scenarios_of("", 0.0, GUANGZHOU.codes) == ()
    with pytest.raises(ValueError, match="440999 is not a district"):
        scenarios_of("pollution:440999", 0.0, GUANGZHOU.codes)


@pytest.fixture(scope="module")
def settings():
    return load(environ={}).replace(**{"simulate.orders_per_day": 6000, "simulate.seed": 11})


@pytest.fixture(scope="module")
def city_hours(settings):
    """Six hours of the whole city with a major incident in them."""
    scenarios = (Scenario("major_incident", MORNING + 2 * HOUR, "440112"),)
    return City(settings, scenarios, MORNING).advance(MORNING + 6 * HOUR)


def test_the_city_publishes_all_four_families_in_time_order(city_hours):
    assert set(Counter(e["schema"] for e in city_hours)) == set(ROUTES)
    times = [event_time(e) for e in city_hours]
    assert times == sorted(times) and MORNING < times[0] and times[-1] <= MORNING + 6 * HOUR


def test_the_city_is_reproducible_and_restartable_at_any_hour(settings, city_hours):
    scenarios = (Scenario("major_incident", MORNING + 2 * HOUR, "440112"),)
    later = City(settings, scenarios, MORNING + 3 * HOUR).advance(MORNING + 6 * HOUR)
    overlap = [e for e in city_hours if event_time(e) > MORNING + 3 * HOUR]
    assert sorted(map(str, later)) == sorted(map(str, overlap))


@pytest.fixture(scope="module")
def small_settings(settings):
    return settings.replace(**{"simulate.orders_per_day": 1000})


@pytest.fixture(scope="module", params=STARTS, ids=lambda d: d.strftime("%Y-%m-%dT%H:%M"))
def two_hours(request, small_settings) -> tuple[float, list[dict]]:
    """(start, the first two hours of a city started then) on each of the fixed dates."""
    start = request.param.timestamp()
    return start, City(small_settings, (), start).advance(start + 2 * HOUR)


def stamped_in(events: list[dict], after: float, until: float) -> list[dict]:
    return [e for e in events if after < event_time(e) <= until]


def test_a_city_gives_the_events_after_its_start_and_up_to_until_none_at_the_start(two_hours):
    start, events = two_hours
    assert set(Counter(e["schema"] for e in events)) == set(ROUTES)
    assert [event_time(e) for e in events] == sorted(event_time(e) for e in events)
    assert stamped_in(events, start, start + 2 * HOUR) == events


def test_a_city_restarted_at_any_instant_gives_exactly_the_events_after_it(small_settings, two_hours):
    """On the second of an order's step, between two seconds, and on the hour of the hourly readings: the
    restarted city repeats none of the events at or before the instant and misses none after it."""
    start, events = two_hours
    on_a_step = next(event_time(e) for e in events if e["schema"] == "hotline.v1" and event_time(e) > start + HOUR)
    for restart in (on_a_step, on_a_step - 0.5, start + HOUR):
        later = City(small_settings, (), restart).advance(start + 2 * HOUR)
        assert later == stamped_in(events, restart, start + 2 * HOUR), restart


def test_advancing_by_fractions_of_a_second_gives_each_event_once_in_its_interval(small_settings, two_hours):
    start, events = two_hours
    city = City(small_settings, (), start)
    chunks = [(city.now, until, city.advance(until))
              for until in [start + k * 7.25 * 60 + 0.5 for k in range(1, 16)] + [start + 2 * HOUR]]
    assert all(stamped_in(chunk, after, until) == chunk for after, until, chunk in chunks)
    assert [e for _, _, chunk in chunks for e in chunk] == events


def test_the_scenarios_incidents_are_in_the_city(city_hours):
    hazmat = [e for e in city_hours if e["schema"] == "emergency.v1" and e["incident_id"].startswith("EM-MA")]
    assert {e["incident_id"][-1] for e in hazmat} == {"1", "2", "3"}
    assert hazmat[0]["level"] == "II" and hazmat[0]["district_code"] == "440112"


def test_each_family_routes_to_its_topic_keyed_by_its_subject(city_hours):
    subject = {"hotline.v1": ("city.hotline", "order_id"), "emergency.v1": ("city.emergency", "incident_id"),
               "water.v1": ("city.water", "station_id"), "ecology.v1": ("city.ecology", "station_id")}
    for event in city_hours:
        topic, field = subject[event["schema"]]
        assert route(event) == (topic, event[field])


def arrivals(*scenarios: Scenario, hours: float = 8, orders_per_day: int = 40_000) -> list[dict]:
    sim = HotlineSimulator(GUANGZHOU, orders_per_day=orders_per_day, seed=5, start=MORNING,
                           conditions=Conditions(5, scenarios))
    return [e for e in sim.advance(MORNING + hours * HOUR) if e["status"] == "received"]


def counted(orders: list[dict], category: str, district: str, start: float, end: float) -> int:
    return sum(1 for o in orders if o["category"] == category and start < event_time(o) <= end
               and (o.get("district_code") or GUANGZHOU.locate(o["location"]["lon"], o["location"]["lat"])) == district)


@pytest.fixture(scope="module")
def normal_day():
    return arrivals()


def test_a_hotline_surge_triples_one_category_in_one_district_for_three_hours(normal_day):
    surge = Scenario("hotline_surge", MORNING + 2 * HOUR, "440106", "环境保护")
    orders = arrivals(surge)
    during = (MORNING + 2 * HOUR, MORNING + 5 * HOUR)
    ratio = counted(orders, "环境保护", "440106", *during) / counted(normal_day, "环境保护", "440106", *during)
    assert 2.4 < ratio < 3.6
    after = (MORNING + 5 * HOUR, MORNING + 8 * HOUR)
    assert counted(orders, "环境保护", "440106", *after) == counted(normal_day, "环境保护", "440106", *after)
    assert counted(orders, "城市管理", "440106", *during) == counted(normal_day, "城市管理", "440106", *during)


def test_a_surge_adds_orders_and_leaves_the_background_as_it_was(normal_day):
    orders = arrivals(Scenario("hotline_surge", MORNING + 2 * HOUR, "440106", "环境保护"))
    assert {o["order_id"] for o in normal_day} < {o["order_id"] for o in orders}


def test_a_rainstorm_brings_a_surge_of_drainage_complaints(normal_day):
    orders = arrivals(Scenario("rainstorm", MORNING + 2 * HOUR, "440106"))
    storm = (MORNING + 3 * HOUR, MORNING + 6 * HOUR)
    water = [o for o in orders if o["category"] == "水电气" and storm[0] < event_time(o) <= storm[1]]
    normal = [o for o in normal_day if o["category"] == "水电气" and storm[0] < event_time(o) <= storm[1]]
    assert len(water) > 4 * len(normal)
    drainage = {sub for sub, _ in SURGE_SUBCATEGORIES["水电气"]}
    assert sum(o["subcategory"] in drainage for o in water) > 0.8 * len(water)


class Sent:
    """Collects what a Publisher sends (its producer's part)."""

    def __init__(self):
        self.messages: list[tuple[str, bytes]] = []

    def send(self, topic, key, value):
        self.messages.append((topic, value))

    def flush(self, timeout=30):
        pass


def test_a_malformed_kind_that_does_not_fit_waits_for_an_event_it_fits(settings, city_hours):
    """Sensor readings outnumber orders: not_utf8 (for free text) comes on the first order after its turn."""
    readings = [e for e in city_hours if e["schema"] == "water.v1"][:60]
    order = next(e for e in city_hours if e["schema"] == "hotline.v1")
    sent = Sent()
    publisher = Publisher(sent, bad_ratio=0.5, seed=3)
    publisher.send(readings)  # and 60 malformed messages: not_utf8's turn comes and is passed over
    publisher.send([order])
    decoder = make_decoder(settings, clock=Clock(MORNING + 7 * HOUR))
    reasons = [row["reason"] for table, row in decoder.decode_batch(
        [Record(topic, 0, i, None, value) for i, (topic, value) in enumerate(sent.messages)]) if table == "rejects"]
    assert len(reasons) == publisher.bad == 61
    assert "not_utf8" not in reasons[:60] and reasons[-1] == "not_utf8"
    assert set(reasons) == set(REASON.values())
