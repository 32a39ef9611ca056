"""IncidentSimulator: seeded, valid against the contract, lifecycles in order, a believable mix, rain and scenarios."""
from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest

from config.settings import load
from domain.districts import DistrictIndex
from domain.topics import route
from ingest.consume import make_decoder
from simulator.hotline import DISTRICT_WEIGHT
from simulator.incidents import LEAD_IN, IncidentSimulator
from simulator.scenarios import Conditions, Scenario
from streams.kafka_io import Record
from tests.helpers import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR, DAY = 3600.0, 86400.0
START = dt.datetime(2025, 6, 2, 0, 0, tzinfo=SHANGHAI).timestamp()  # a Monday, local midnight
LIFECYCLE = ("reported", "dispatched", "on_scene", "contained", "closed")
MAX_LIFE = 40 * HOUR
WET = ("flood", "waterlogging", "landslide")


@pytest.fixture(scope="module")
def districts() -> DistrictIndex:
    return DistrictIndex.for_city("440100")


def simulate(districts, *, hours: float, scenarios: tuple[Scenario, ...] = (), per_day: float = 40, seed: int = 7,
             start: float = START, lead_in: float = 0.0, chunk: float = HOUR) -> list[dict]:
    """Events of ``hours`` of simulated time, advanced in chunks as a live publisher does."""
    sim = IncidentSimulator(districts, Conditions(seed, scenarios), incidents_per_day=per_day, seed=seed,
                            start=start, lead_in=lead_in)
    end = start + hours * HOUR
    events = []
    while sim.now < end:
        events += sim.advance(min(end, sim.now + chunk))
    return events


def seconds(event: dict) -> float:
    return dt.datetime.fromisoformat(event["ts"]).timestamp()


def by_incident(events: list[dict]) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for e in events:
        out[e["incident_id"]].append(e)
    return out


@pytest.fixture(scope="module")
def month(districts) -> list[dict]:
    """30 days of background weather at a high rate (300 a day), enough for the rare grades."""
    return simulate(districts, hours=30 * 24, per_day=300, chunk=DAY)


@pytest.fixture(scope="module")
def month_incidents(month) -> dict[str, list[dict]]:
    return by_incident(month)


def test_same_seed_gives_identical_events_and_another_seed_others(districts):
    assert simulate(districts, hours=12, seed=3) == simulate(districts, hours=12, seed=3)
    assert simulate(districts, hours=12, seed=3) != simulate(districts, hours=12, seed=4)


def test_small_advances_give_the_same_events_as_one_big_advance(districts):
    storm = (Scenario("rainstorm", START + 2 * HOUR, "440106"),)
    one = simulate(districts, hours=24, scenarios=storm, chunk=DAY)
    assert one == simulate(districts, hours=24, scenarios=storm, chunk=7 * 60 + 0.5)
    assert len(one) > 100


def test_a_later_start_reproduces_the_overlapping_hours_with_incidents_in_flight(districts):
    scenarios = (Scenario("major_incident", START + 30 * HOUR, "440112"), Scenario("rainstorm", START + DAY, "440106"))
    early = simulate(districts, hours=72, scenarios=scenarios, lead_in=LEAD_IN)
    later = simulate(districts, hours=48, scenarios=scenarios, start=START + DAY, lead_in=LEAD_IN)
    assert [e for e in early if seconds(e) > START + DAY] == later
    first_hour = [e for e in later if seconds(e) <= START + DAY + HOUR]
    assert any(e["status"] == "closed" for e in first_hour)  # incidents reported before the start go on


def test_events_come_out_in_time_order_within_the_window(month):
    times = [seconds(e) for e in month]
    assert times == sorted(times)
    assert START < times[0] and times[-1] <= START + 30 * DAY


def test_event_ids_are_unique_and_keys_are_incidents(month):
    assert len({e["event_id"] for e in month}) == len(month)
    assert all(route(e) == ("city.emergency", e["incident_id"]) and e["event_id"].startswith(e["incident_id"] + ".") for e in month)


def test_each_incident_follows_the_lifecycle_and_closes_within_a_bounded_time(month_incidents):
    ends = Counter()
    for incident_id, events in month_incidents.items():
        statuses = [e["status"] for e in events]
        times = [seconds(e) for e in events]
        steps = [LIFECYCLE.index(s) for s in statuses]
        assert steps == sorted(set(steps)) and times == sorted(set(times)), incident_id
        assert statuses[:3] == ["reported", "dispatched", "on_scene"][:len(statuses)], incident_id
        if times[0] < START + 30 * DAY - MAX_LIFE:
            assert statuses[-1] == "closed" and times[-1] - times[0] <= MAX_LIFE, incident_id
            ends[tuple(statuses)] += 1
    assert set(ends) == {LIFECYCLE, LIFECYCLE[:3] + ("closed",)}  # some types close without a contained step


def test_a_few_incidents_are_dispatched_late(month_incidents):
    delays = [(e[1]["level"], seconds(e[1]) - seconds(e[0])) for e in month_incidents.values() if len(e) > 1]
    late = [level for level, d in delays if d > 30 * 60]
    assert 0.005 < len(late) / len(delays) < 0.06
    assert set(late) <= {"III", "IV"}


def test_higher_grades_are_dispatched_faster_and_last_longer(month_incidents):
    dispatch, life = defaultdict(list), defaultdict(list)
    for events in month_incidents.values():
        if events[-1]["status"] == "closed":
            level = events[-1]["level"]
            dispatch[level].append(seconds(events[1]) - seconds(events[0]))
            life[level].append(seconds(events[-1]) - seconds(events[0]))
    median = {level: (statistics.median(dispatch[level]), statistics.median(life[level])) for level in dispatch}
    assert median["II"][0] < median["III"][0] < median["IV"][0] < 15 * 60
    assert median["IV"][1] < median["III"][1] < median["II"][1]


def test_level_iv_is_most_common_and_level_i_rarest(month_incidents):
    levels = Counter(events[-1]["level"] for events in month_incidents.values() if events[-1]["status"] == "closed")
    total = sum(levels.values())
    assert levels["IV"] > 5 * levels["III"] > 5 * levels["II"] > 0
    assert 0 < levels["I"] < levels["II"]
    assert 0.8 < levels["IV"] / total < 0.92


def test_some_reports_come_ungraded_and_get_graded_on_dispatch(month):
    reported = [e for e in month if e["status"] == "reported"]
    ungraded = sum("level" not in e for e in reported)
    assert 0.2 < ungraded / len(reported) < 0.6
    assert all("level" in e for e in month if e["status"] != "reported")


def test_units_grow_and_casualties_are_known_from_on_scene(month_incidents):
    hurt = grown = 0
    for incident_id, events in month_incidents.items():
        assert "units" not in events[0] and "casualties" not in events[0]
        units = [e.get("units", []) for e in events[1:]]
        assert all(units) and all(later[:len(earlier)] == earlier for earlier, later in zip(units, units[1:]))
        casualties = [e.get("casualties") for e in events]
        assert casualties[:2] == [None, None][:len(events)] and None not in casualties[2:], incident_id
        assert casualties[2:] == sorted(casualties[2:]), incident_id
        hurt += bool(casualties[-1])
        grown += len(units[-1]) > len(units[0]) if units else 0
    assert 0.05 < hurt / len(month_incidents) < 0.4
    assert grown > 0.3 * len(month_incidents)  # reinforcements


def test_traffic_and_fire_lead_the_type_mix_at_their_hours(month):
    reports = [e for e in month if e["status"] == "reported"]
    types = Counter(e["type"] for e in reports)
    assert [kind for kind, _ in types.most_common(2)] == ["traffic", "fire"]
    assert types["hazmat"] < 0.05 * len(reports)
    hours = Counter((e["type"], dt.datetime.fromisoformat(e["ts"]).astimezone(SHANGHAI).hour) for e in reports)
    def share(kind: str, local_hours: tuple[int, ...]) -> int:
        return sum(hours[kind, h] for h in local_hours)

    assert share("traffic", (7, 8, 17, 18)) > 1.4 * share("traffic", (11, 12, 13, 14))  # rush hours
    assert share("traffic", (8,)) > 3 * share("traffic", (3,))
    assert share("fire", (18, 19, 20, 21)) > 1.8 * share("fire", (6, 7, 8, 9))  # cooking and lighting


def test_district_shares_follow_the_population_weights(month):
    counts = Counter(e["district_code"] for e in month if e["status"] == "reported")
    total = sum(counts.values())
    assert counts["440111"] > 3 * counts["440117"]  # 白云 3.7 vs 从化 0.7
    for code, weight in DISTRICT_WEIGHT.items():
        assert counts[code] / total == pytest.approx(weight / sum(DISTRICT_WEIGHT.values()), abs=0.02), code


def test_descriptions_are_chinese_and_name_the_district(districts, month):
    for e in month:
        assert e["description"].startswith(districts.names[e["district_code"]] + "："), e
    assert any("消防救援大队" in unit for e in month if e["type"] == "fire" for unit in e.get("units", []))


def test_every_location_lies_in_its_stated_district(districts, month_incidents):
    first = [events[0] for events in month_incidents.values()]
    lon, lat = np.array([[e["location"]["lon"], e["location"]["lat"]] for e in first]).T
    assert districts.locate_many(lon, lat) == [e["district_code"] for e in first]
    assert {e["location"]["crs"] for e in first} == {"GCJ02"}


def test_dry_weather_brings_almost_no_flood_waterlogging_or_landslide(month):
    assert sum(e["status"] == "reported" and e["type"] in WET for e in month) <= 2


def test_a_rainstorm_brings_floods_and_waterlogging_to_the_hit_district(districts):
    storm = Scenario("rainstorm", START + 2 * HOUR, "440106")
    events = simulate(districts, hours=16, scenarios=(storm,))
    wet = [e for e in events if e["status"] == "reported" and e["type"] in WET
           and not e["incident_id"].startswith("EM-")]  # the scripted ones are tested below
    in_tianhe = [e for e in wet if e["district_code"] == "440106"]
    assert len(in_tianhe) >= 4 and {"flood", "waterlogging"} <= {e["type"] for e in in_tianhe}
    assert all(storm.start < seconds(e) < storm.end for e in wet)


@pytest.mark.parametrize("name, district", [("major_incident", "440112"), ("rainstorm", "440106")])
def test_scripted_incidents_happen_exactly_at_their_times(districts, name, district):
    scenario = Scenario(name, START + 2 * HOUR, district)
    scripted = Conditions(7, (scenario,)).scripted_incidents()
    incidents = by_incident(simulate(districts, hours=24, scenarios=(scenario,)))
    for s in scripted:
        events = incidents[s.incident_id]
        assert [(seconds(e), e["status"]) for e in events] == [(s.at + offset, status) for offset, status in s.steps]
        assert {(e["type"], e["level"], e["district_code"]) for e in events} == {(s.type, s.level, district)}
        assert events[0]["description"] == f"{districts.names[district]}：{s.description}"
        assert districts.locate(events[0]["location"]["lon"], events[0]["location"]["lat"]) == district
        assert len(events[-1]["units"]) > len(events[1]["units"]) >= 1


def test_a_major_incident_opens_with_a_level_ii_hazmat_incident_in_its_district(districts):
    scenario = Scenario("major_incident", START + 2 * HOUR, "440112")
    events = [e for e in simulate(districts, hours=4, scenarios=(scenario,)) if seconds(e) == scenario.start]
    assert [(e["type"], e["level"], e["status"], e["district_code"]) for e in events] == [
        ("hazmat", "II", "reported", "440112")]


def test_every_event_of_three_days_passes_the_decoder(districts):
    scenarios = (Scenario("rainstorm", START + DAY, "440106"), Scenario("major_incident", START + 2 * DAY, "440112"))
    events = simulate(districts, hours=72, scenarios=scenarios, per_day=200, lead_in=LEAD_IN)
    decoder = make_decoder(load(environ={}), clock=Clock(START + 4 * DAY))
    records = [Record("city.emergency", 0, i, route(e)[1].encode(), msgspec.json.encode(e)) for i, e in enumerate(events)]
    decoded = decoder.decode_batch(records)
    assert [row for table, row in decoded if table != "emergency_events"] == []
    assert [(row["incident_id"], row["status"], row["district_code"], row["level"]) for _, row in decoded] == [
        (e["incident_id"], e["status"], e["district_code"], e.get("level", "")) for e in events]
    assert {"flood", "waterlogging", "hazmat", "traffic", "fire"} <= {e["type"] for e in events}
