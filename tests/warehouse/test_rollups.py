"""Sensor rollups kept by materialized views, on both backends: exact, and unmoved by a redelivered reading."""
import pandas as pd

from ingest.sink import COLUMNS, to_columns
from warehouse import queries as q

T0 = pd.Timestamp("2026-11-23 10:00:00", tz="UTC")


def reading(event_id: str, minutes: int, level: float | None, rain: float | None = None) -> dict:
    row = {c: None for c in COLUMNS["water_readings"]}
    row.update(event_id=event_id, station_id="GZ-RV-001", station_type="river_gauge", ts=(T0 + pd.Timedelta(minutes=minutes)).to_pydatetime(),
               interval_s=300, water_level_m=level, rainfall_mm=rain, water_class=0, state="normal",
               district_code="440105", extra="", topic="city.water", partition=0, offset=minutes,
               ingested_at=T0.to_pydatetime())
    return row


def insert(warehouse, rows):
    warehouse.insert_columns("water_readings", to_columns("water_readings", rows))


def series(warehouse, metric, grain):
    start = int(T0.timestamp())
    return q.run(warehouse, q.station_series("GZ-RV-001", metric, start, start + 7200, grain))


def test_hour_and_minute_rollups_are_exact_and_ignore_redelivery(warehouse):
    insert(warehouse, [reading("a", 0, 1.2), reading("b", 5, 1.6, rain=2.0), reading("c", 65, 2.0)])
    insert(warehouse, [reading("b", 5, 1.6, rain=2.0)])  # the same reading again
    hours = series(warehouse, "water_level_m", "hour")
    assert hours["readings"].tolist() == [2, 1]
    assert hours["min_value"].tolist() == [1.2, 2.0] and hours["max_value"].tolist() == [1.6, 2.0]
    assert hours["last_value"].tolist() == [1.6, 2.0]
    assert [round(m, 6) for m in hours["mean"]] == [1.4, 2.0]
    minutes = series(warehouse, "water_level_m", "minute")
    assert minutes["readings"].tolist() == [1, 1, 1] and minutes["last_value"].tolist() == [1.2, 1.6, 2.0]
    rain = series(warehouse, "rainfall_mm", "hour")
    assert rain["readings"].tolist() == [1] and rain["max_value"].tolist() == [2.0]  # missing values are absent
