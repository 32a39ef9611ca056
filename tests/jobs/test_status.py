"""Heartbeats in the warehouse (both backends) and what the screens make of them: which job has been failing
since when, which has gone silent."""
import time

import pandas as pd
import pytest

from cockpit import job_view
from cockpit.wall_view import local_midnight
from jobs.status import Board, Heartbeat
from tests.helpers import Clock
from warehouse import WarehouseUnavailable
from warehouse import queries as q

FIXED = 1_796_048_000.0  # 2026-11-30 22:13:20 Asia/Shanghai, for the pure tests
# job_status keeps 7 days (TTL): the tests that store heartbeats use yesterday 22:13:20 local time
T0 = local_midnight(time.time(), "Asia/Shanghai") - 86400 + 22 * 3600 + 13 * 60 + 20


def beat(warehouse, board: Board, instance: str) -> None:
    hb = Heartbeat(board, warehouse)
    hb.instance = instance
    assert hb.beat()


def status(warehouse, now: float) -> pd.DataFrame:
    return q.run(warehouse, q.job_status(int(now) - job_view.LOOKBACK))


def test_the_newest_beat_of_each_instance_says_which_job_fails_since_when(warehouse):
    clock = Clock(T0)
    alerts, ingest = Board(clock), Board(clock)
    alerts.started("alerts")
    ingest.started("ingest")
    beat(warehouse, alerts, "a:1")
    beat(warehouse, ingest, "b:2")
    clock.now = T0 + 15
    alerts.failing("alerts", WarehouseUnavailable("down"), 1)
    beat(warehouse, alerts, "a:1")
    clock.now = T0 + 30
    alerts.failing("alerts", KeyError("bug"), 2)
    beat(warehouse, alerts, "a:1")
    beat(warehouse, ingest, "b:2")
    df = status(warehouse, clock.now)
    assert df[["job", "instance", "state", "attempts", "error"]].values.tolist() == [
        ["alerts", "a:1", "failing", 2, "KeyError"], ["ingest", "b:2", "ok", 0, ""]]
    assert job_view.problems(df, clock.now) == [
        {"job": "alerts", "kind": "failing", "since": T0 + 15, "attempts": 2, "error": "KeyError"}]
    [p] = job_view.problems(df, clock.now)
    assert job_view.describe(p, "Asia/Shanghai", clock.now) == "预警计算中断 22:13 起"


def test_a_job_gone_silent_shows_until_another_instance_beats_and_a_clean_stop_does_not(warehouse):
    clock = Clock(T0)
    first = Board(clock)
    first.started("alerts")
    beat(warehouse, first, "a:1")  # then the process is killed: no more beats
    clock.now = T0 + job_view.SILENT_AFTER + 1
    assert job_view.problems(status(warehouse, clock.now), clock.now) == [
        {"job": "alerts", "kind": "silent", "since": T0, "attempts": 0, "error": ""}]
    second = Board(clock)
    second.started("alerts")
    beat(warehouse, second, "a:2")  # restarted as a new process
    assert job_view.problems(status(warehouse, clock.now), clock.now) == []
    clock.now += job_view.SILENT_AFTER + 1
    second.stopped("alerts")
    beat(warehouse, second, "a:2")
    clock.now += job_view.SILENT_AFTER + 1
    assert job_view.problems(status(warehouse, clock.now), clock.now) == []


def test_a_heartbeat_into_an_unreachable_warehouse_is_lost_not_raised(server_warehouse):
    from warehouse import connect

    gone = connect(f"clickhouse://default:@127.0.0.1:1/{server_warehouse.database}")
    board = Board()
    board.started("ingest")
    assert Heartbeat(board, gone).beat() is False


@pytest.mark.parametrize("since, now, text", [
    (FIXED, FIXED + 60, "数据接入中断 22:13 起"), (FIXED, FIXED + 86400, "数据接入中断 11-30 22:13 起")])
def test_describe_names_the_day_when_it_is_not_today(since, now, text):
    p = {"job": "ingest", "kind": "failing", "since": since, "attempts": 3, "error": "StreamError"}
    assert job_view.describe(p, "Asia/Shanghai", now) == text
