"""emergency.v1, water.v1 and ecology.v1: rows, derived values (AQI, GB 3838 class, level state), rejects."""
import datetime as dt

import msgspec
import pytest

from config.stations import load_stations
from domain.districts import DistrictIndex
from ingest.decode import Decoder
from streams.kafka_io import Record

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc).timestamp()
DECODER = Decoder(DistrictIndex.for_city("440100"), stations=load_stations(city="440100"), clock=lambda: NOW)
STATIONS = load_stations(city="440100")


def decode(event: dict, topic: str = "city.water"):
    return DECODER.decode(Record(topic, 1, 7, b"k", msgspec.json.encode(event)))


def sensor(schema: str, station_id: str, readings: dict, **more) -> dict:
    station = STATIONS[station_id]
    return {"event_id": f"{station_id}-1", "schema": schema, "ts": "2026-11-23T19:00:00+08:00",
            "station_id": station_id, "station_type": station.type, "readings": readings, **more}


def first_of(station_type: str):
    return STATIONS.of_type(station_type)[0]


def test_incident_row_keeps_grade_status_units_and_place():
    table, row = decode({"event_id": "e1", "schema": "emergency.v1", "ts": "2026-11-23T18:30:00+08:00",
                         "incident_id": "INC-1", "type": "waterlogging", "level": "III", "status": "dispatched",
                         "casualties": 0, "units": ["119-TH-01", "SW-02"], "description": "<b>积水</b> 30cm",
                         "location": {"lon": 113.3612, "lat": 23.1247}}, "city.emergency")
    assert table == "emergency_events"
    assert (row["incident_id"], row["type"], row["level"], row["status"], row["casualties"], row["units"]) == \
        ("INC-1", "waterlogging", "III", "dispatched", 0, ["119-TH-01", "SW-02"])
    assert row["district_code"] == "440106" and row["description"] == "<b>积水</b> 30cm"


def test_ungraded_incident_has_an_empty_level():
    _, row = decode({"event_id": "e2", "schema": "emergency.v1", "ts": int(NOW * 1000) - 60_000, "incident_id": "I",
                     "type": "fire", "status": "reported"}, "city.emergency")
    assert row["level"] == "" and row["casualties"] is None and row["units"] == []


@pytest.mark.parametrize("offset, state", [(-0.01, "normal"), (0.0, "over_warning"), ("guarantee", "over_guarantee")])
def test_river_level_against_warning_and_guarantee_levels(offset, state):
    station = first_of("river_gauge")
    level = station.attrs["guarantee_level_m"] if offset == "guarantee" else station.attrs["warning_level_m"] + offset
    table, row = decode(sensor("water.v1", station.id, {"water_level_m": level}))
    assert table == "water_readings" and row["state"] == state and row["water_class"] == 0


def test_water_quality_reading_gets_its_gb3838_class_and_the_station_place():
    station = first_of("water_quality")
    _, row = decode(sensor("water.v1", station.id, {"do_mg_l": 5.5, "nh3n_mg_l": 1.2, "tp_mg_l": 0.15}))
    # DO 5.5 → III (≥5), NH3-N 1.2 → IV (≤1.5), TP → III for rivers / IV for lakes: the worst is IV either way
    assert row["water_class"] == 4
    assert row["district_code"] == station.district_code
    assert (row["map_lon"], row["map_lat"]) == pytest.approx((station.lon, station.lat))


def test_ponding_and_pipe_pressure_against_their_alarms():
    ponding = first_of("waterlogging")
    _, row = decode(sensor("water.v1", ponding.id, {"ponding_depth_cm": ponding.attrs["ponding_alarm_cm"]}))
    assert row["state"] == "over_alarm"
    pipe = first_of("pipe_pressure")
    _, row = decode(sensor("water.v1", pipe.id, {"pressure_mpa": pipe.attrs["low_pressure_mpa"] - 0.01}))
    assert row["state"] == "low"


def test_hourly_air_reading_gets_aqi_level_primary_pollutant_and_edition():
    station = first_of("air")
    _, row = decode(sensor("ecology.v1", station.id, {"pm25": 75, "pm10": 40, "o3": 90, "no2": 30}),
                    "city.ecology")
    # HJ 633—2026 (from 2026-03-01): PM2.5 75 on the 24h column → (150−100)/(115−60)×(75−60)+100 = 113.6 → 114
    assert (row["aqi"], row["aqi_level"], row["primary_pollutants"]) == (114, 3, ["pm25"])
    assert row["aqi_edition"] == "HJ 633—2026" and row["particulates_from_hourly"] == 1


def test_a_reading_of_2025_is_graded_by_the_2012_edition():
    station = first_of("air")
    event = sensor("ecology.v1", station.id, {"pm25": 75}, ts="2025-12-01T10:00:00+08:00")
    _, row = decode(event, "city.ecology")
    assert (row["aqi"], row["aqi_edition"]) == (100, "HJ 633-2012")


def test_noise_reading_has_no_aqi():
    station = first_of("noise")
    _, row = decode(sensor("ecology.v1", station.id, {"noise_db": 63.5}), "city.ecology")
    assert row["noise_db"] == 63.5 and row["aqi"] is None and row["aqi_level"] == 0 and row["aqi_edition"] == ""


@pytest.mark.parametrize("change, reason", [
    ({"station_id": "GZ-NOPE-999"}, "unknown_station"),
    ({"station_type": "rain_gauge"}, "bad_value"),
    ({"readings": {"pm25": -3}}, "out_of_range"),
    ({"readings": {"pm2.5": 30}}, "bad_value"),
    ({"readings": "35"}, "bad_type"),
    ({"averaging": "8h"}, "bad_value"),
])
def test_bad_sensor_messages_are_rejected_with_their_reason(change, reason):
    event = {**sensor("ecology.v1", first_of("air").id, {"pm25": 30}), **change}
    table, row = decode(event, "city.ecology")
    assert (table, row["reason"]) == ("rejects", reason), row["detail"]
