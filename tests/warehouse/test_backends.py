"""The same tests on chDB and the ClickHouse server (the ``warehouse`` fixture is parametrised)."""
import datetime as dt

import pandas as pd
import pytest

from warehouse import WarehouseError, connect
from warehouse.migrations import MIGRATIONS, current_version, migrate


def test_migrations_apply_once_and_record_the_version(warehouse):
    assert current_version(warehouse) == MIGRATIONS[-1][0]
    assert migrate(warehouse) == []
    tables = warehouse.query_df("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name",
                                {"db": warehouse.database})
    assert tables["name"].tolist() == [
        "alert_actions", "alerts", "ecology_readings", "ecology_readings_hour_mv", "ecology_readings_minute_mv",
        "emergency_events", "hotline_events", "ingest_stats", "job_status", "rejects", "schema_migrations", "sensor_hour",
        "sensor_minute", "session_ends", "signin_failures", "users", "water_readings", "water_readings_hour_mv", "water_readings_minute_mv"]


def test_parameters_are_bound_not_spliced(warehouse):
    hostile = "x'); DROP TABLE hotline_events; --"
    df = warehouse.query_df("SELECT {s:String} AS s, {n:UInt32} + 1 AS n", {"s": hostile, "n": 41})
    assert df["s"].tolist() == [hostile] and df["n"].tolist() == [42]
    assert warehouse.scalar("SELECT count() FROM hotline_events") == 0  # the table is still there


def test_array_parameters(warehouse):
    df = warehouse.query_df("SELECT has({a:Array(String)}, 'o''k') AS h", {"a": ["x", "o'k"]})
    assert df["h"].tolist() == [1]


def test_columnar_insert_round_trips_types_and_nulls(warehouse):
    ts = pd.Timestamp("2026-11-23 08:00:00", tz="UTC")
    data = {"topic": ["city.hotline", "city.hotline"], "partition": [0, 2], "offset": [5, 6],
            "key": ["k1", ""], "raw": ["{\"a\": 1}", "<b>不是JSON</b>"], "reason": ["not_json"] * 2,
            "detail": ["d1", "d2"], "received_at": [ts.to_pydatetime()] * 2}
    assert warehouse.insert_columns("rejects", data) == 2
    back = warehouse.query_df("SELECT partition, offset, raw, received_at FROM rejects ORDER BY offset")
    assert back["raw"].tolist() == ["{\"a\": 1}", "<b>不是JSON</b>"]
    assert back["partition"].tolist() == [0, 2]
    assert [pd.Timestamp(t).tz_localize("UTC") if pd.Timestamp(t).tzinfo is None else pd.Timestamp(t)
            for t in back["received_at"]] == [ts, ts]


def test_insert_checks_columns_up_front(warehouse):
    with pytest.raises(ValueError, match=r"columns of different lengths \[1, 2\]"):
        warehouse.insert_columns("rejects", {"topic": ["t"], "reason": ["a", "b"]})
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        warehouse.insert_columns("rejects; DROP", {"topic": ["t"]})
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        warehouse.insert_columns("rejects", {"topic); DROP TABLE rejects; --": ["t"]})
    assert warehouse.insert_columns("rejects", {"topic": []}) == 0


def test_server_errors_are_wrapped_with_one_line(warehouse):
    with pytest.raises(WarehouseError) as info:
        warehouse.query_df("SELECT no_such_column FROM hotline_events")
    assert "no_such_column" in str(info.value) and "\n" not in str(info.value)


def test_missing_database_says_to_migrate(warehouse_url):
    wh = connect(warehouse_url)  # fresh database name, never migrated
    with pytest.raises(WarehouseError, match="does not exist; run 'python run_cockpit.py migrate'"):
        wh.query_df("SELECT count() FROM hotline_events")


def test_datetime_parameters_as_epoch_seconds(warehouse):
    moment = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp())
    df = warehouse.query_df("SELECT toUnixTimestamp(toDateTime({t:UInt32}, 'UTC')) AS t", {"t": moment})
    assert df["t"].tolist() == [moment]


def test_decoded_events_insert_with_nulls_on_both_backends(warehouse):
    from tests.helpers import simulated_events, store_directly

    events = simulated_events(hours=2, seed=3)
    store_directly(warehouse, events)
    df = warehouse.query_df("SELECT countIf(resolved IS NULL) AS n, countIf(ifNull(resolved, 0) = 1) AS yes, "
                            "countIf(deadline IS NOT NULL) AS d, count() AS rows FROM hotline_events")
    visited = [e for e in events if e["status"] == "visited"]
    assert df["rows"].tolist() == [len(events)]
    assert df["n"].tolist() == [len(events) - len(visited)]
    assert df["yes"].tolist() == [sum(1 for e in visited if e["resolved"])]
    assert df["d"].tolist() == [sum(1 for e in events if e["status"] == "dispatched")]
