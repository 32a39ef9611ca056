"""HotlineSimulator: seeded, valid against the contract, time-ordered, with a believable day and city."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point

from domain.districts import DistrictIndex
from ingest.decode import Decoder
from simulator.hotline import DISTRICT_WEIGHT, HotlineSimulator
from streams.kafka_io import Record

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 6, 2, 0, 0, tzinfo=SHANGHAI).timestamp()  # a Monday, local midnight
HOUR, DAY = 3600.0, 86400.0
LIFECYCLE = ("received", "dispatched", "accepted", "processing", "completed", "visited")
REOPENED = LIFECYCLE + ("reopened", "processing", "completed")


@pytest.fixture(scope="module")
def districts() -> DistrictIndex:
    return DistrictIndex.for_city("440100")


def simulate(districts, *, hours: float, orders_per_day: int = 2000, seed: int = 7, start: float = START) -> list:
    """Events of ``hours`` of simulated time, advanced in hour chunks as the live publisher does."""
    sim = HotlineSimulator(districts, orders_per_day=orders_per_day, seed=seed, start=start)
    events = []
    while sim.now < start + hours * HOUR:
        events += sim.advance(min(start + hours * HOUR, sim.now + HOUR))
    return events


@pytest.fixture(scope="module")
def two_days(districts) -> list[dict]:
    return simulate(districts, hours=48)


@pytest.fixture(scope="module")
def decoded(districts, two_days) -> list[tuple[dict, tuple[str, dict]]]:
    decoder = Decoder(districts, clock=lambda: START + 3 * DAY)
    return [(e, decoder.decode(Record("city.hotline", 0, i, e["order_id"].encode(), json.dumps(e).encode())))
            for i, e in enumerate(two_days)]


def test_same_seed_and_start_give_identical_events(districts):
    assert simulate(districts, hours=6, seed=42) == simulate(districts, hours=6, seed=42)


def test_different_seed_gives_different_events(districts):
    assert simulate(districts, hours=6, seed=1) != simulate(districts, hours=6, seed=2)


def test_two_days_produce_a_realistic_volume(two_days):
    received = sum(e["status"] == "received" for e in two_days)
    assert 3400 < received < 4600  # 2000 a day


def test_every_event_passes_the_decoder(decoded):
    rejects = [(e, row) for e, (table, row) in decoded if table != "hotline_events"]
    assert rejects == []


def test_event_ids_are_unique(two_days):
    ids = [e["event_id"] for e in two_days]
    assert len(ids) == len(set(ids))


def test_events_come_out_in_time_order(decoded):
    times = [row["ts"] for _, (_, row) in decoded]
    assert times == sorted(times)
    assert times[0] > dt.datetime.fromtimestamp(START, dt.timezone.utc)  # (start, end]: none at the start
    assert times[-1] <= dt.datetime.fromtimestamp(START + 2 * DAY, dt.timezone.utc)


def test_each_order_follows_the_lifecycle(two_days):
    statuses = defaultdict(list)
    for e in two_days:
        statuses[e["order_id"]].append(e["status"])
    for order_id, seq in statuses.items():
        allowed = REOPENED if len(seq) > len(LIFECYCLE) else LIFECYCLE
        assert tuple(seq) == allowed[:len(seq)], order_id
    assert Counter(len(s) for s in statuses.values())[len(LIFECYCLE)] > 0  # some orders finish within 2 days


def test_dispatched_events_carry_a_deadline_and_visited_ones_an_answer(two_days):
    for e in two_days:
        assert ("deadline" in e) == (e["status"] == "dispatched")
        assert ("satisfaction" in e) == ("resolved" in e) == (e["status"] == "visited")


def test_every_location_lies_in_its_district(districts, two_days):
    polygons = dict(zip(districts.codes, districts.geometries))
    with_code = [e for e in two_days if "district_code" in e]
    assert len(with_code) > 0.8 * len(two_days)
    for e in with_code:
        assert e["location"]["crs"] == "GCJ02"
        assert polygons[e["district_code"]].contains(Point(e["location"]["lon"], e["location"]["lat"])), e


def test_an_order_keeps_one_district_after_ingest(decoded):
    per_order = defaultdict(set)
    for e, (_, row) in decoded:
        per_order[e["order_id"]].add(row["district_code"])
    assert all(len(codes) == 1 and "" not in codes for codes in per_order.values())


def arrivals_by_local_hour(events) -> Counter:
    return Counter(dt.datetime.fromisoformat(e["ts"]).astimezone(SHANGHAI).hour
                   for e in events if e["status"] == "received")


def test_night_arrivals_are_well_below_morning_peak(two_days):
    by_hour = arrivals_by_local_hour(two_days)
    assert by_hour[10] > 0
    assert by_hour[3] < by_hour[10] / 4


def test_arrivals_follow_the_local_clock_not_utc(districts):
    # the same 2 days started at 08:00 local: the quiet hour is still 03:00 local
    by_hour = arrivals_by_local_hour(simulate(districts, hours=48, start=START + 8 * HOUR))
    assert by_hour[3] < by_hour[10] / 4


def test_district_shares_follow_the_weights(decoded):
    counts = Counter(row["district_code"] for e, (_, row) in decoded if e["status"] == "received")
    total = sum(counts.values())
    weight_sum = sum(DISTRICT_WEIGHT.values())
    assert counts["440111"] > 3 * counts["440117"]  # 白云 3.7 vs 从化 0.7
    for code, weight in DISTRICT_WEIGHT.items():
        assert counts[code] / total == pytest.approx(weight / weight_sum, abs=0.03), code
