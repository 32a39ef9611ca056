"""SensorSimulator: seeded and restartable, valid against the contract, every station at its interval, and physics
that react to the conditions — rain lifts rivers hours later and floods streets at once, a pollution episode brings
重度污染, ozone peaks in the afternoon, pressure sags at the morning peak."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import mean
from zoneinfo import ZoneInfo

import msgspec
import pytest

from config.settings import load
from config.stations import load_stations
from domain.aqi import hourly_aqi
from domain.contract import FIELDS, EcologyReadings, WaterReadings
from domain.stations import Registry
from domain.topics import TOPICS, route
from ingest.consume import make_decoder
from simulator.scenarios import Conditions, Scenario
from simulator.sensors import INTERVAL_S, SensorSimulator
from streams.kafka_io import Record
from tests.helpers import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR, DAY = 3600, 86400
SEED = 7
# Local midnights of fixed dates (the decoder is given a clock on TODAY, so they never grow too old for it).
TODAY = int(dt.datetime(2026, 12, 7, tzinfo=SHANGHAI).timestamp())
YESTERDAY = TODAY - DAY
READINGS = {"rain_gauge": {"rainfall_mm"}, "river_gauge": {"water_level_m"}, "waterlogging": {"ponding_depth_cm"},
            "pipe_pressure": {"pressure_mpa"}, "air": {"pm25", "pm10", "no2", "so2", "co", "o3"},
            "noise": {"noise_db"},
            "water_quality": {"do_mg_l", "codmn_mg_l", "nh3n_mg_l", "tp_mg_l", "ph", "turbidity_ntu"}}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_stations()


def of_types(registry: Registry, *types: str) -> Registry:
    return Registry(s for s in registry if s.type in types)


def simulate(registry: Registry, start: float, end: float, *scenarios: Scenario, seed: int = SEED) -> list[dict]:
    sim = SensorSimulator(registry, Conditions(seed, scenarios), seed=seed, start=start)
    return sim.advance(end)


def epoch(event: dict) -> int:
    return int(dt.datetime.fromisoformat(event["ts"]).timestamp())


def local_hour(event: dict) -> int:
    return dt.datetime.fromisoformat(event["ts"]).astimezone(SHANGHAI).hour


def series(events: list[dict], reading: str) -> dict[str, list[tuple[int, float]]]:
    """station_id → [(epoch seconds, value)] of one reading."""
    out = defaultdict(list)
    for e in events:
        if reading in e["readings"]:
            out[e["station_id"]].append((epoch(e), e["readings"][reading]))
    return out


def by_hour(events: list[dict], reading: str, hours: range) -> float:
    return mean(e["readings"][reading] for e in events if local_hour(e) in hours)


def aqi(event: dict) -> int:
    return hourly_aqi(event["readings"], dt.datetime.fromisoformat(event["ts"])).aqi


@pytest.fixture(scope="module")
def day(registry) -> list[dict]:
    """Yesterday, every station, no scenario."""
    return simulate(registry, YESTERDAY, TODAY)


@pytest.fixture(scope="module")
def air_days(registry) -> list[dict]:
    """Four days of the air stations: enough for diurnal means that a passing shower does not upset."""
    return simulate(of_types(registry, "air"), TODAY - 4 * DAY, TODAY)


# ---- reproducibility ------------------------------------------------------------------------------------------------

def test_same_seed_and_times_give_identical_readings(registry):
    assert simulate(registry, YESTERDAY, YESTERDAY + 6 * HOUR) == simulate(registry, YESTERDAY, YESTERDAY + 6 * HOUR)


def test_different_seed_gives_different_readings(registry):
    assert simulate(registry, YESTERDAY, YESTERDAY + HOUR, seed=1) != simulate(registry, YESTERDAY,
                                                                               YESTERDAY + HOUR, seed=2)


def test_advancing_in_chunks_equals_one_advance(registry, day):
    sim = SensorSimulator(registry, Conditions(SEED), seed=SEED, start=YESTERDAY)
    events = []
    for until in (YESTERDAY + 1, YESTERDAY + 299.5, YESTERDAY + 300, YESTERDAY + 7 * 60, YESTERDAY + 4 * HOUR + 13,
                  YESTERDAY + 4 * HOUR + 13, TODAY):
        events += sim.advance(until)
    assert events == day


def test_a_restarted_simulator_publishes_the_same_readings(registry, day):
    """What carries over time (a river's memory of the night's rain) comes from the conditions, not from state."""
    noon = YESTERDAY + 12 * HOUR
    assert simulate(registry, noon, TODAY) == [e for e in day if epoch(e) > noon]


# ---- the contract -----------------------------------------------------------------------------------------------------

def test_every_event_decodes_without_reject(registry, day):
    decoder = make_decoder(load(environ={}), clock=Clock(TODAY))
    topic = {"water.v1": TOPICS["water"], "ecology.v1": TOPICS["ecology"]}
    records = [Record(topic[e["schema"]], 0, i, route(e)[1].encode(), msgspec.json.encode(e)) for i, e in enumerate(day)]
    rows = decoder.decode_batch(records)
    assert [row for table, row in rows if table == "rejects"] == []
    assert {table for table, _ in rows} == {"water_readings", "ecology_readings"}
    assert all(row["station_id"] == route(e)[1] and row["district_code"] == registry[route(e)[1]].district_code
               for e, (_, row) in zip(day, rows))


def test_events_hold_only_the_contract_fields_and_their_type_readings(registry, day):
    assert all(set(e) <= FIELDS[e["schema"]] for e in day)
    assert all(set(e["readings"]) == READINGS[e["station_type"]] for e in day)
    assert set(READINGS["air"]) | READINGS["noise"] == set(EcologyReadings.__struct_fields__)
    assert set().union(*(READINGS[t] for t in ("rain_gauge", "river_gauge", "waterlogging", "pipe_pressure",
                                               "water_quality"))) == set(WaterReadings.__struct_fields__)


def test_every_station_reports_once_per_interval_in_time_order(registry, day):
    times = series([{**e, "readings": {"any": 0}} for e in day], "any")
    assert set(times) == {s.id for s in registry}
    for station in registry:
        interval = INTERVAL_S[station.type]
        assert [t for t, _ in times[station.id]] == list(range(YESTERDAY + interval, TODAY + 1, interval)), station.id
    assert [epoch(e) for e in day] == sorted(epoch(e) for e in day)
    assert len({e["event_id"] for e in day}) == len(day)
    assert INTERVAL_S == {"rain_gauge": 300, "river_gauge": 300, "waterlogging": 300, "pipe_pressure": 300,
                          "water_quality": 4 * HOUR, "air": HOUR, "noise": HOUR}


def test_readings_stay_inside_their_ranges(day):
    values = defaultdict(list)
    for e in day:
        for name, value in e["readings"].items():
            values[name].append(value)
    assert all(v >= 0 for name, vs in values.items() if name != "water_level_m" for v in vs)
    assert 6 <= min(values["ph"]) and max(values["ph"]) <= 9
    assert 35 <= min(values["noise_db"]) and max(values["noise_db"]) <= 80
    assert 0.05 < min(values["pressure_mpa"]) and max(values["pressure_mpa"]) < 0.5


# ---- a normal day -----------------------------------------------------------------------------------------------------

def test_a_normal_day_keeps_rivers_below_warning_and_ponding_below_alarm(registry, day):
    for station_id, levels in series(day, "water_level_m").items():
        warning = registry[station_id].attrs["warning_level_m"]
        assert max(v for _, v in levels) < warning, station_id
        swing = max(v for _, v in levels) - min(v for _, v in levels)
        assert swing > 0.6 if warning < 3 else swing < 0.3, station_id  # the tide reaches the Pearl River gauges
    assert max(v for ponding in series(day, "ponding_depth_cm").values() for _, v in ponding) < 15


def test_ozone_peaks_in_the_afternoon_and_is_lowest_at_night(air_days):
    assert by_hour(air_days, "o3", range(13, 18)) > 2.5 * by_hour(air_days, "o3", range(0, 7))


def test_pm25_has_morning_and_evening_bumps_over_midday(air_days):
    midday = by_hour(air_days, "pm25", range(13, 17))
    assert by_hour(air_days, "pm25", range(8, 11)) > 1.2 * midday
    assert by_hour(air_days, "pm25", range(19, 22)) > 1.2 * midday
    assert all(e["readings"]["pm10"] > e["readings"]["pm25"] for e in air_days)


def test_air_quality_is_mostly_good_without_an_episode(air_days):
    indices = [aqi(e) for e in air_days]
    assert sum(i <= 150 for i in indices) >= 0.95 * len(indices)
    assert mean(indices) < 100


def test_pipe_pressure_sags_at_the_morning_peak_and_recovers_at_night(day):
    pressure = [e for e in day if e["station_type"] == "pipe_pressure"]
    assert by_hour(pressure, "pressure_mpa", range(7, 9)) < by_hour(pressure, "pressure_mpa", range(3, 4)) - 0.03


def test_noise_is_louder_by_day_than_at_night(day):
    noise = [e for e in day if e["station_type"] == "noise"]
    assert by_hour(noise, "noise_db", range(10, 18)) > by_hour(noise, "noise_db", range(1, 5)) + 5


# ---- scenarios --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def storm_start() -> int:
    return TODAY - 2 * DAY + 6 * HOUR


def storm(registry: Registry, start: int, district: str, *types: str) -> list[dict]:
    """12 h before to 18 h after a rainstorm in ``district``."""
    return simulate(of_types(registry, *types), start - 12 * HOUR, start + 18 * HOUR,
                    Scenario("rainstorm", start, district))


@pytest.mark.parametrize("district", ["440105", "440117"])  # 海珠: tidal Pearl River; 从化: mountain 流溪河
def test_rainstorm_lifts_the_district_rivers_over_warning_hours_after_the_peak(registry, storm_start, district):
    events = storm(registry, storm_start, district, "river_gauge")
    gauges = [s for s in registry.of_type("river_gauge") if s.district_code == district]
    assert gauges
    levels = series(events, "water_level_m")
    for gauge in gauges:
        warning = gauge.attrs["warning_level_m"]
        over = [t for t, v in levels[gauge.id] if v >= warning]
        assert over, gauge.id
        assert min(over) > storm_start + 2 * HOUR, gauge.id  # the rain peaks from +1 h: the river lags
        highest = max(levels[gauge.id], key=lambda tv: tv[1])[0]
        assert storm_start + 4 * HOUR <= highest <= storm_start + 14 * HOUR, gauge.id


def test_rainstorm_floods_the_district_streets_at_once_and_they_drain(registry, storm_start):
    events = storm(registry, storm_start, "440106", "waterlogging")
    points = series(events, "ponding_depth_cm")
    for station in registry.of_type("waterlogging"):
        depth = points[station.id]
        alarm = station.attrs["ponding_alarm_cm"]
        if station.district_code == "440106":
            assert all(v == 0 for t, v in depth if t <= storm_start), station.id
            assert min(v for t, v in depth if storm_start + 1.5 * HOUR <= t <= storm_start + 4 * HOUR) > alarm
            assert all(v == 0 for t, v in depth if t >= storm_start + 9 * HOUR), station.id
        else:  # 45 % of the storm: wet, not flooded
            assert max(v for _, v in depth) < alarm, station.id


def test_rain_gauges_measure_the_rain_that_fell(registry, storm_start):
    """The storm district's gauges add up to the integral of the rain intensity (±5 %)."""
    events = storm(registry, storm_start, "440106", "rain_gauge")
    conditions = Conditions(SEED, (Scenario("rainstorm", storm_start, "440106"),))
    fell = sum(conditions.rain_mm_h(t + 30, "440106") / 60 for t in range(storm_start, storm_start + 8 * HOUR, 60))
    assert fell > 250
    for station_id, rain in series(events, "rainfall_mm").items():
        if registry[station_id].district_code == "440106":
            measured = sum(v for t, v in rain if storm_start < t <= storm_start + 8 * HOUR)
            assert measured == pytest.approx(fell, rel=0.05), station_id


def test_pollution_episode_brings_heavy_pollution_to_its_district(registry):
    start = TODAY - 3 * DAY
    events = simulate(of_types(registry, "air"), start + 6 * HOUR, start + 30 * HOUR,  # the 24 h at full strength
                      Scenario("pollution", start, "440111"))
    district = [aqi(e) for e in events if e["district_code"] == "440111"]
    assert any(201 <= i <= 300 for i in district)  # 重度污染
    assert max(district) <= 300
    assert mean(district) > 1.2 * mean(aqi(e) for e in events if e["district_code"] in ("440103", "440104"))
