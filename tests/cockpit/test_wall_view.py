"""The wall's pure functions, from hand-built frames shaped like warehouse/queries.py's results."""
import datetime as dt

import pandas as pd
import pytest

from cockpit.components.freshness import format_age, freshness
from cockpit.format import format_count, format_percent
from cockpit.wall_view import (
    WallData,
    alert_ticker,
    alert_tile,
    aqi_tile,
    city_aqi,
    incident_tile,
    kpis,
    local_midnight,
    named,
    ranking,
    ticker,
    trend_figure,
)

UTC = dt.timezone.utc
TZ = "Asia/Shanghai"
NAMES = {"440104": "越秀区", "440106": "天河区"}

ACTIVITY = ["district_code", "received", "completed", "newest_event", "newest_ingest"]
STATES = ["district_code", "orders", "open_orders", "overdue_open", "due", "due_on_time", "rated", "satisfied"]
HOURLY = ["hour", "received"]
CATEGORIES = ["category", "received"]
LATEST = ["order_id", "ts", "district_code", "category", "subcategory", "urgency", "content"]


def epoch(*args) -> float:
    return dt.datetime(*args, tzinfo=UTC).timestamp()


def utc(*args) -> pd.Timestamp:
    """A naive UTC timestamp, as the warehouse returns ``DateTime`` columns."""
    return pd.Timestamp(dt.datetime(*args))


def frame(columns: list[str], rows: list[tuple] = ()) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


INCIDENTS = ["level", "incidents"]
READING = ["station_id", "station_type", "reading_ts"]
ECOLOGY = READING + ["pm25", "pm10", "o3", "no2", "so2", "co", "noise_db", "aqi", "aqi_level"]
INGEST = ["topic", "partition", "rows", "rejects", "lag", "committed", "high_watermark", "rows_per_s", "newest_event",
          "observed"]
ALERT = ["alert_id", "rule_name", "subject_type", "subject_id", "subject_name", "district_code", "state", "severity",
         "first_seen", "last_seen"]
JOBS = ["job", "instance", "state", "since", "attempts", "error", "seen"]
NOW = epoch(2026, 3, 10, 4, 30)


def wall(now: float = NOW, *, today=(), yesterday=(), states=(), hourly=(), latest=(), incidents=(), ecology=(),
         alerts=()) -> WallData:
    return WallData(now=now, day_start=local_midnight(now, TZ), today=frame(ACTIVITY, today),
                    yesterday=frame(ACTIVITY, yesterday), states=frame(STATES, states), hourly=frame(HOURLY, hourly),
                    categories=frame(CATEGORIES), latest=frame(LATEST, latest), incidents=frame(INCIDENTS, incidents),
                    water=frame(READING), ecology=frame(ECOLOGY, ecology), alerts=frame(ALERT, alerts),
                    ingest=frame(INGEST), jobs=frame(JOBS))


def activity(code: str, received: int, completed: int) -> tuple:
    return (code, received, completed, utc(2026, 3, 10, 4, 0), utc(2026, 3, 10, 4, 0, 5))


def air(station: str, minutes_ago: float, pm25: float, pm10: float | None = None) -> tuple:
    ts = pd.Timestamp(NOW - minutes_ago * 60, unit="s")
    return (station, "air", ts, pm25, pm10, None, None, None, None, None, None, None)


def alert(n: int, severity: str, state: str = "open", kind: str = "incident", name: str = "flood") -> tuple:
    return (f"A{n}", "重大突发事件", kind, f"INC-{n}", name, "440106", state, severity, utc(2026, 3, 10, 4, n),
            utc(2026, 3, 10, 4, 20 + n))


# --- KPIs --------------------------------------------------------------------------------------------------------

def tile(value, sub: str, level: str = "", colour: str = "") -> dict:
    return {"value": value, "sub": sub, "level": level, "colour": colour}


def test_kpis_sum_districts_and_compute_rates_exactly():
    data = wall(today=[activity("440104", 30, 12), activity("440106", 50, 8)],
                yesterday=[activity("440104", 40, 10), activity("440106", 24, 10)],
                states=[("440104", 100, 40, 3, 60, 54, 20, 17), ("440106", 200, 90, 0, 40, 30, 30, 28)])
    tiles = kpis(data, [])
    assert tiles["received"] == tile(80, "较昨日同时段 ▲25.0%")
    assert tiles["open"] == tile(130, "其中超期 3 件", "warn")
    assert tiles["on_time"] == tile(84 / 100, "近7日到期 100 件，按时 84 件", "warn")
    assert tiles["satisfaction"] == tile(45 / 50, "近7日回访 50 件")


def test_kpis_show_a_falling_count_with_a_down_arrow():
    tiles = kpis(wall(today=[activity("440104", 30, 7)], yesterday=[activity("440104", 40, 8)]), [])
    assert tiles["received"]["sub"] == "较昨日同时段 ▼25.0%"


def test_kpis_without_yesterday_show_a_dash_instead_of_a_change():
    assert kpis(wall(today=[activity("440104", 30, 7)]), [])["received"]["sub"] == "较昨日同时段 —"


def test_kpis_of_an_empty_warehouse_have_no_rates_and_nothing_in_alarm():
    tiles = kpis(wall(), [])
    assert tiles["received"] == tile(0, "较昨日同时段 —")
    assert tiles["open"] == tile(0, "其中超期 0 件")
    assert tiles["on_time"] == tile(None, "近7日到期 0 件，按时 0 件")
    assert tiles["satisfaction"] == tile(None, "近7日回访 0 件")
    assert tiles["incidents"] == tile(0, "无在办事件")
    assert tiles["aqi"] == tile(None, "暂无两小时内的空气质量读数")
    assert tiles["stations"] == tile(0, "全部正常")
    assert tiles["alerts"] == tile(0, "无活动预警")


def test_kpis_with_orders_but_none_due_or_rated_have_no_rates():
    tiles = kpis(wall(states=[("440104", 10, 10, 0, 0, 0, 0, 0)]), [])
    assert tiles["on_time"]["value"] is None and tiles["on_time"]["level"] == ""
    assert tiles["satisfaction"]["value"] is None
    assert tiles["open"]["value"] == 10


def test_on_time_rate_of_exactly_ninety_percent_is_not_a_warning():
    tiles = kpis(wall(states=[("440104", 10, 0, 0, 10, 9, 0, 0)]), [])
    assert tiles["on_time"]["value"] == 0.9 and tiles["on_time"]["level"] == ""


def test_kpis_use_thousands_separators_in_their_context_line():
    tiles = kpis(wall(states=[("440104", 5000, 0, 0, 12345, 12000, 2500, 2000)]), [])
    assert tiles["on_time"]["sub"] == "近7日到期 12,345 件，按时 12,000 件"
    assert tiles["satisfaction"]["sub"] == "近7日回访 2,500 件"


def test_incidents_by_grade_and_a_major_one_sounds_the_alarm():
    assert incident_tile(frame(INCIDENTS, [("II", 1), ("IV", 3), ("", 2)])) == tile(6, "Ⅱ级 1 · Ⅳ级 3", "alarm")
    assert incident_tile(frame(INCIDENTS, [("III", 2)])) == tile(2, "Ⅲ级 2")


def test_city_aqi_is_computed_from_the_mean_of_the_fresh_air_stations_by_hand():
    # PM2.5 (130 + 150) / 2 = 140 → 2026 edition: 150 + (200 − 150) / (150 − 115) × (140 − 115) = 185.7 → 186;
    # PM10 (160 + 180) / 2 = 170 → 100 + (150 − 100) / (250 − 120) × (170 − 120) = 119.2 → 120; the stale station
    # (3 h old, PM2.5 500) and a noise station are left out
    ecology = frame(ECOLOGY, [air("A", 50, 130, 160), air("B", 70, 150, 180), air("C", 180, 500)])
    result = city_aqi(ecology, NOW)
    assert (result.aqi, result.level_name, result.primary, result.iaqi) == (186, "中度污染", ("pm25",),
                                                                            {"pm25": 186, "pm10": 120})
    assert aqi_tile(ecology, NOW) == tile(186, "中度污染 · 首要污染物 PM2.5", "alarm", "#FF0000")
    assert aqi_tile(frame(ECOLOGY, [air("A", 30, 20)]), NOW) == tile(29, "优", "", "#00E400")  # 50 × 20 / 35 → 29
    assert city_aqi(frame(ECOLOGY, [air("C", 180, 500)]), NOW) is None


def test_alerts_by_severity_and_the_ticker_most_severe_first():
    alerts = frame(ALERT, [alert(1, "orange"), alert(2, "red", "acknowledged"), alert(3, "orange", name="fire")])
    assert alert_tile(alerts) == tile(3, "红 1 · 橙 2", "alarm")
    assert alert_tile(frame(ALERT, [alert(1, "orange")])) == tile(1, "橙 1", "warn")
    rows = alert_ticker(alerts, NAMES, TZ)
    assert [(r["severity"], r["subject"], r["time"], r["district"]) for r in rows] == [
        ("red", "洪涝 INC-2", "12:02", "天河区"), ("orange", "火灾 INC-3", "12:03", "天河区"),
        ("orange", "洪涝 INC-1", "12:01", "天河区")]


# --- local midnight ----------------------------------------------------------------------------------------------

def test_local_midnight_is_the_start_of_the_day_in_shanghai():
    # 2026-03-10 17:30 UTC is 2026-03-11 01:30 in Shanghai: the local day began at 16:00 UTC.
    assert local_midnight(epoch(2026, 3, 10, 17, 30), TZ) == epoch(2026, 3, 10, 16, 0)
    # 15:59 UTC is 23:59 local, still the 10th.
    assert local_midnight(epoch(2026, 3, 10, 15, 59), TZ) == epoch(2026, 3, 9, 16, 0)
    assert local_midnight(epoch(2026, 3, 10, 16, 0), TZ) == epoch(2026, 3, 10, 16, 0)


# --- ranking and names -------------------------------------------------------------------------------------------

def test_ranking_sorts_high_to_low_and_scales_to_the_largest():
    assert ranking({"越秀区": 20, "天河区": 80, "海珠区": 40, "白云区": 40}) == [
        ("天河区", 80, 1.0), ("海珠区", 40, 0.5), ("白云区", 40, 0.5), ("越秀区", 20, 0.25)]


def test_ranking_keeps_the_top_entries():
    assert [label for label, _, _ in ranking({"a": 1, "b": 3, "c": 2}, top=2)] == ["b", "c"]


def test_ranking_of_all_zeros_has_zero_shares():
    assert ranking({"a": 0, "b": 0}) == [("a", 0, 0.0), ("b", 0, 0.0)]
    assert ranking({}) == []


def test_named_rekeys_by_district_name_and_drops_unknown_codes():
    assert named({"440104": 3, "440106": 5, "999999": 7, "": 1}, NAMES) == {"越秀区": 3, "天河区": 5}


# --- trend -------------------------------------------------------------------------------------------------------

def test_trend_has_24_hourly_points_per_trace_labelled_in_local_time():
    # now = 04:30 UTC = 12:30 Shanghai; the 24 hours end with the current hour 04:00 UTC = 12时.
    data = wall(hourly=[(utc(2026, 3, 10, 2), 17), (utc(2026, 3, 10, 4), 5), (utc(2026, 3, 9, 2), 11),
                        (utc(2026, 3, 9, 4, 0), 3), (utc(2026, 3, 8, 2), 99)])
    before, today = trend_figure(data, TZ).data
    assert (before.name, today.name) == ("前一日", "近24小时")
    assert len(today.x) == len(today.y) == len(before.x) == len(before.y) == 24
    labels = list(today.x)
    assert labels == [f"{(13 + i) % 24:02d}时" for i in range(24)]
    assert list(before.x) == labels
    assert dict(zip(labels, today.y)) == {**{label: 0 for label in labels}, "10时": 17, "12时": 5}
    assert dict(zip(labels, before.y)) == {**{label: 0 for label in labels}, "10时": 11, "12时": 3}


def test_trend_accepts_timezone_aware_hours():
    data = wall(hourly=[(pd.Timestamp("2026-03-10 10:00", tz=TZ), 8)])
    _, today = trend_figure(data, TZ).data
    assert dict(zip(today.x, today.y))["10时"] == 8


def test_trend_of_an_empty_warehouse_is_flat_zero():
    before, today = trend_figure(wall(), TZ).data
    assert list(today.y) == [0] * 24 and list(before.y) == [0] * 24


# --- ticker ------------------------------------------------------------------------------------------------------

def test_ticker_shows_local_time_district_name_and_urgency():
    data = wall(latest=[
        ("o-2", utc(2026, 3, 10, 4, 29, 7), "440106", "城市管理", "占道经营", "urgent", "天河路有人占道"),
        ("o-1", utc(2026, 3, 10, 3, 0, 0), "999999", "交通", "噪音", "normal", ""),
    ])
    assert ticker(data, NAMES, TZ) == [
        {"time": "12:29:07", "district": "天河区", "category": "城市管理", "text": "天河路有人占道", "urgent": True},
        {"time": "11:00:00", "district": "未定位", "category": "交通", "text": "噪音", "urgent": False},
    ]


def test_ticker_accepts_timezone_aware_times():
    data = wall(latest=[("o-1", pd.Timestamp("2026-03-10 23:59:59", tz="UTC"), "440104", "咨询", "其他",
                         "normal", "问路")])
    assert ticker(data, NAMES, TZ)[0]["time"] == "07:59:59"


def test_ticker_keeps_markup_in_content_as_plain_text():
    script = "<script>alert('x')</script>"
    data = wall(latest=[("o-1", utc(2026, 3, 10, 4, 0), "440104", "<b>投诉</b>", "其他", "normal", script)])
    row = ticker(data, NAMES, TZ)[0]
    assert row["text"] == script and type(row["text"]) is str
    assert row["category"] == "<b>投诉</b>"


# --- freshness and formatting ------------------------------------------------------------------------------------

NOW = 1_800_000_000.0


@pytest.mark.parametrize("age, level", [(0, "ok"), (119, "ok"), (120, "warn"), (599, "warn"), (600, "alarm"),
                                        (86_400, "alarm")])
def test_freshness_level_changes_at_the_thresholds(age, level):
    assert freshness(NOW - age, NOW - age, NOW, warn_after=120, alarm_after=600)[0] == level


def test_freshness_text_names_the_level_and_the_age_of_the_newest_event():
    assert freshness(NOW - 30, NOW - 2, NOW, 120, 600) == ("ok", "数据正常 · 最新事件 30秒前")
    assert freshness(NOW - 150, NOW - 2, NOW, 120, 600) == ("warn", "数据延迟 · 最新事件 2分钟前")
    assert freshness(NOW - 7_500, NOW - 7_500, NOW, 120, 600) == ("alarm", "数据中断 · 最新事件 2小时5分前")


def test_freshness_is_decided_by_the_older_of_event_and_insert():
    # events are fresh but nothing was inserted for 10 minutes: the ingest has stopped
    assert freshness(NOW - 5, NOW - 700, NOW, 120, 600)[0] == "alarm"


def test_an_ingest_lag_past_its_thresholds_raises_the_level_and_says_so():
    assert freshness(NOW - 5, NOW - 2, NOW, 120, 600, 19_999, 20_000, 200_000) == ("ok", "数据正常 · 最新事件 5秒前")
    assert freshness(NOW - 5, NOW - 2, NOW, 120, 600, 20_000, 20_000, 200_000) == (
        "warn", "数据延迟 · 最新事件 5秒前 · 积压 20,000 条")
    assert freshness(NOW - 150, NOW - 2, NOW, 120, 600, 250_000, 20_000, 200_000)[0] == "alarm"
    assert freshness(NOW - 700, NOW - 2, NOW, 120, 600, 0, 20_000, 200_000)[0] == "alarm"  # the age still counts
    assert freshness(NOW - 5, NOW - 2, NOW, 120, 600, None, 20_000, 200_000)[0] == "ok"  # no ingest reporting


def test_freshness_without_data_is_an_alarm_saying_no_data():
    assert freshness(None, None, NOW, 120, 600) == ("alarm", "数据中断 · 暂无数据")
    assert freshness(NOW, None, NOW, 120, 600) == ("alarm", "数据中断 · 暂无数据")


@pytest.mark.parametrize("seconds, text", [(-5, "0秒"), (0, "0秒"), (59.9, "59秒"), (60, "1分钟"), (3599, "59分钟"),
                                           (3600, "1小时0分"), (7_500, "2小时5分"), (86_399, "23小时59分"),
                                           (86_400, "1天"), (3 * 86_400 + 5, "3天")])
def test_format_age_reads_in_the_largest_sensible_unit(seconds, text):
    assert format_age(seconds) == text


@pytest.mark.parametrize("value, text", [(None, "—"), (0, "0"), (1234567, "1,234,567"), (12.6, "13")])
def test_format_count_groups_thousands(value, text):
    assert format_count(value) == text


@pytest.mark.parametrize("value, text", [(None, "—"), (0.0, "0.0"), (0.9234, "92.3"), (1.0, "100.0"),
                                         (84 / 100, "84.0")])
def test_format_percent_shows_one_decimal_of_a_ratio(value, text):
    assert format_percent(value) == text
