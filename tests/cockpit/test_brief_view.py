"""The brief's pure helpers (cockpit/brief_view.py): the URL's period, changes with arrows, the lists and the
whole ``Brief``, from hand-built frames shaped like warehouse/brief_queries.py's results."""
import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from cockpit import brief_view as bv
from warehouse.brief_queries import BriefData, Numbers, Window

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
NAMES = {"440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
         "440112": "黄埔区", "440113": "番禺区"}
ACTIVITY = ["district_code", "received", "completed", "newest_event", "newest_ingest"]
STATES = ["district_code", "orders", "open_orders", "overdue_open", "due", "due_on_time", "rated", "satisfied"]
MAJOR = ["incident_id", "reported_s", "closed_s", "grade", "status", "district_code", "type", "casualties",
         "description"]


def local(*args) -> int:
    return int(dt.datetime(*args, tzinfo=SHANGHAI).timestamp())


NOW = local(2026, 3, 12, 14, 30)  # a Thursday, ISO week 2026-W11 (9–15 March)


def frame(columns, rows=()) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def parse(day=None, week=None):
    return bv.parse_period(day, week, now=NOW, tz=TZ)


# --- the period from the URL -------------------------------------------------------------------------------------

def test_no_period_is_today_without_a_message():
    assert parse() == (bv.Period("day", dt.date(2026, 3, 12)), None)
    assert parse(day="") == (bv.Period("day", dt.date(2026, 3, 12)), None)


def test_a_day_and_a_week_are_read_from_the_url():
    assert parse(day="2026-03-10") == (bv.Period("day", dt.date(2026, 3, 10)), None)
    assert parse(week="2026-W10") == (bv.Period("week", dt.date(2026, 3, 2)), None)
    assert parse(week="2026-W11") == (bv.Period("week", dt.date(2026, 3, 9)), None)  # the running week


@pytest.mark.parametrize("day, week, message", [
    ("2026/03/10", None, "日期“2026/03/10”格式不正确，应为 YYYY-MM-DD（例如 2026-03-10），已显示今日。"),
    ("2026-02-30", None, "日期“2026-02-30”不存在，已显示今日。"),
    ("2026-03-13", None, "“2026-03-13”尚未到来，已显示今日。"),
    (None, "2026-11", "周“2026-11”格式不正确，应为 YYYY-Www（例如 2026-W11），已显示今日。"),
    (None, "2026-W54", "周“2026-W54”不存在，已显示今日。"),
    (None, "2026-W00", "周“2026-W00”不存在，已显示今日。"),
    (None, "2026-W12", "“2026-W12”尚未到来，已显示今日。"),
    ("2026-03-10", "2026-W10", "请只选择一种统计周期（按日或按周），已显示今日。"),
    (["2026-03-10", "2026-03-11"], None, "统计周期参数重复，已显示今日。"),
], ids=["day-format", "day-impossible", "day-future", "week-format", "week-54", "week-0", "week-future", "both",
        "repeated"])
def test_bad_input_gives_today_and_says_why(day, week, message):
    assert parse(day, week) == (bv.Period("day", dt.date(2026, 3, 12)), message)


def test_hostile_input_is_quoted_shortened_and_left_as_text():
    period, message = parse(day="<script>alert(1)</script>' OR 1=1 --")
    assert period == bv.Period("day", dt.date(2026, 3, 12))
    assert message == "日期“<script>alert(1)</sc…”格式不正确，应为 YYYY-MM-DD（例如 2026-03-10），已显示今日。"


def test_a_day_has_its_key_label_and_local_midnights():
    p = bv.Period("day", dt.date(2026, 3, 10))
    assert (p.key, p.query, p.label) == ("2026-03-10", "?day=2026-03-10", "2026年3月10日（星期二）")
    assert p.bounds(TZ) == (local(2026, 3, 10), local(2026, 3, 11))
    assert p.bounds(TZ)[0] == int(dt.datetime(2026, 3, 9, 16, tzinfo=dt.timezone.utc).timestamp())


def test_a_week_runs_monday_to_sunday():
    p = bv.Period("week", dt.date(2026, 3, 9))
    assert (p.key, p.query, p.label) == ("2026-W11", "?week=2026-W11", "2026年第11周（3月9日—3月15日）")
    assert p.bounds(TZ) == (local(2026, 3, 9), local(2026, 3, 16))


def test_a_week_across_new_year_names_the_years():
    p = bv.parse_period(week="2026-W01", now=NOW, tz=TZ)[0]
    assert p.first == dt.date(2025, 12, 29)
    assert p.label == "2026年第1周（2025年12月29日—2026年1月4日）"


def test_steps_and_neighbours_stop_at_today():
    day = bv.Period("day", dt.date(2026, 3, 1))
    assert day.step(-1) == bv.Period("day", dt.date(2026, 2, 28))
    assert bv.neighbours(day, NOW, TZ) == ("?day=2026-02-28", "?day=2026-03-02")
    assert bv.neighbours(bv.Period("day", dt.date(2026, 3, 12)), NOW, TZ) == ("?day=2026-03-11", None)
    assert bv.neighbours(bv.Period("week", dt.date(2026, 3, 9)), NOW, TZ) == ("?week=2026-W10", None)
    assert bv.neighbours(bv.Period("week", dt.date(2026, 3, 2)), NOW, TZ) == ("?week=2026-W09", "?week=2026-W11")


@pytest.mark.parametrize("kind, date, query", [
    ("day", "2026-03-11", "?day=2026-03-11"),
    ("week", "2026-03-11", "?week=2026-W11"),
    ("week", "2026-03-15T00:00:00", "?week=2026-W11"),
    ("day", None, "?day=2026-03-12"),
    ("day", "yesterday", "?day=2026-03-12"),
    ("<b>", "2026-03-01", "?day=2026-03-01"),
])
def test_the_picker_writes_the_url_query(kind, date, query):
    assert bv.picker_query(kind, date, NOW, TZ) == query


@pytest.mark.parametrize("stored, period", [
    ({"kind": "week", "key": "2026-W10"}, bv.Period("week", dt.date(2026, 3, 2))),
    ({"kind": "day", "key": "2026-03-01"}, bv.Period("day", dt.date(2026, 3, 1))),
    ({"kind": "__class__", "key": "x"}, bv.Period("day", dt.date(2026, 3, 12))),
    ({"kind": "day", "key": 5}, bv.Period("day", dt.date(2026, 3, 12))),
    (None, bv.Period("day", dt.date(2026, 3, 12))),
    ("2026-03-01", bv.Period("day", dt.date(2026, 3, 12))),
])
def test_the_stored_period_is_parsed_again(stored, period):
    assert bv.stored_period(stored, NOW, TZ) == period


def test_comparison_labels():
    day, week = bv.Period("day", dt.date(2026, 3, 10)), bv.Period("week", dt.date(2026, 3, 2))
    assert bv.comparison_labels(day, running=False) == ("前一日", "上周同日")
    assert bv.comparison_labels(day, running=True) == ("昨日同时段", "上周同日同时段")
    assert bv.comparison_labels(week, running=False) == ("上周", None)
    assert bv.comparison_labels(week, running=True) == ("上周同期", None)


# --- changes -----------------------------------------------------------------------------------------------------

KPI = {k.id: k for k in bv.KPIS}


@pytest.mark.parametrize("kpi, current, previous, expected", [
    ("received", 120, 100, ("↑", "20.0%", "neutral")),
    ("received", 80, 100, ("↓", "20.0%", "neutral")),
    ("completed", 120, 100, ("↑", "20.0%", "better")),
    ("completed", 90, 120, ("↓", "25.0%", "worse")),
    ("overdue", 12, 10, ("↑", "20.0%", "worse")),
    ("overdue", 5, 10, ("↓", "50.0%", "better")),
    ("incidents", 3, 0, ("↑", "3起（基数为 0）", "worse")),
    ("completed", 0, 0, ("→", "持平", "same")),
    ("on_time", 0.9, 0.85, ("↑", "5.0个百分点", "better")),
    ("satisfaction", 0.801, 0.9, ("↓", "9.9个百分点", "worse")),
    ("on_time", 0.9, 0.9004, ("→", "持平", "same")),
    ("on_time", None, 0.9, ("", "无可比数据", "none")),
    ("satisfaction", 0.9, None, ("", "无可比数据", "none")),
])
def test_delta_has_an_arrow_and_a_tone_per_kpi(kpi, current, previous, expected):
    d = bv.delta(current, previous, kpi=KPI[kpi], against="较前一日")
    assert (d.arrow, d.text, d.tone) == expected and d.against == "较前一日"


def numbers(start=0, end=1, **values) -> Numbers:
    return Numbers(Window(start, end), **values)


def test_kpi_cards_show_values_context_and_both_comparisons():
    now = numbers(received=1234, completed=1000, due=200, due_on_time=180, rated=50, satisfied=45, overdue_open=7,
                  incidents={"I": 1, "III": 2})
    before = numbers(received=1000, completed=1000, due=100, due_on_time=95, rated=0, overdue_open=7,
                     incidents={"IV": 1})
    cards = {c["id"]: c for c in bv.kpi_cards(now, before, numbers(received=1234), ("前一日", "上周同日"))}
    assert [c["id"] for c in bv.kpi_cards(now, before, None, ("上周", None))] == [k.id for k in bv.KPIS]
    assert (cards["received"]["value"], cards["received"]["unit"]) == ("1,234", "件")
    assert [(d.against, d.arrow, d.text) for d in cards["received"]["deltas"]] == [
        ("较前一日", "↑", "23.4%"), ("较上周同日", "→", "持平")]
    assert cards["on_time"]["value"] == "90.0" and cards["on_time"]["sub"] == "到期 200 件，按时办结 180 件"
    assert cards["on_time"]["deltas"][0].text == "5.0个百分点" and cards["on_time"]["deltas"][0].tone == "worse"
    assert cards["satisfaction"]["value"] == "90.0"
    assert cards["satisfaction"]["deltas"][0].text == "无可比数据"  # nothing rated the day before
    assert cards["overdue"]["deltas"][0].text == "持平"
    assert cards["incidents"]["value"] == "3" and cards["incidents"]["sub"] == "其中重大及以上（Ⅰ、Ⅱ级）1 起"
    assert "本项目定义" in cards["on_time"]["help"] and "本项目定义" in cards["satisfaction"]["help"]


def test_a_week_has_one_comparison_per_card():
    cards = bv.kpi_cards(numbers(), numbers(), None, ("上周", None))
    assert all(len(c["deltas"]) == 1 for c in cards)
    assert {c["value"] for c in cards if c["id"] in ("on_time", "satisfaction")} == {"—"}


# --- lists -------------------------------------------------------------------------------------------------------

def test_ranked_gives_shares_of_the_total_and_bars_of_the_largest():
    assert bv.ranked({"城市管理": 50, "交通出行": 25, "水电气": 25}, top=2) == [
        {"name": "城市管理", "value": 50, "bar": 1.0, "share": 0.5},
        {"name": "交通出行", "value": 25, "bar": 0.5, "share": 0.25}]
    assert bv.ranked({}) == []
    assert bv.ranked({"a": 0}) == [{"name": "a", "value": 0, "bar": 0.0, "share": 0.0}]


def test_categories_name_the_unnamed_and_districts_drop_codes_outside_the_city():
    assert bv.category_values(frame(["category", "received"], [("城市管理", 3), ("", 1)])) == {"城市管理": 3, "未分类": 1}
    activity = frame(ACTIVITY, [("440106", 3, 1, None, None), ("", 2, 0, None, None), ("999999", 1, 0, None, None)])
    assert bv.district_values(activity, NAMES) == {"天河区": 3}
    assert bv.category_values(frame(["category", "received"])) == {}
    assert bv.district_values(frame(ACTIVITY), NAMES) == {}


def test_hotspot_cells_carry_district_category_and_hex_id():
    cells = frame(["cell", "received", "district_code", "category"],
                  [(np.uint64(0x88411d4d29fffff), 9, "440106", "城市管理"), (0x88411d4d2bfffff, 2, "", "")])
    assert bv.hotspot_cells(cells, NAMES) == [
        {"district": "天河区", "category": "城市管理", "value": 9, "cell": "88411d4d29fffff"},
        {"district": "未定位", "category": "未分类", "value": 2, "cell": "88411d4d2bfffff"}]


def states_row(code, due, on_time, rated, satisfied):
    return (code, 0, 0, 0, due, on_time, rated, satisfied)


def test_ranking_orders_by_on_time_then_satisfaction_and_tags_three_each_way():
    states = frame(STATES, [
        states_row("440103", 10, 10, 10, 9),  # 100%, 90%
        states_row("440104", 10, 10, 10, 10),  # 100%, 100%
        states_row("440105", 20, 18, 0, 0),  # 90%, no answers
        states_row("440106", 10, 9, 4, 4),  # 90%, 100%
        states_row("440111", 10, 5, 10, 5),  # 50%
        states_row("440112", 20, 18, 5, 1),  # 90%, 20%
        states_row("440113", 0, 0, 3, 3),  # nothing due: unranked
    ])
    activity = frame(ACTIVITY, [("440106", 30, 0, None, None)])
    rows = bv.district_ranking(states, activity, NAMES)
    assert [(r["name"], r["rank"], r["tag"]) for r in rows] == [
        ("越秀区", 1, "红榜"), ("荔湾区", 2, "红榜"), ("天河区", 3, "红榜"), ("黄埔区", 4, "黑榜"),
        ("海珠区", 5, "黑榜"), ("白云区", 6, "黑榜"), ("番禺区", None, "")]
    by_name = {r["name"]: r for r in rows}
    assert by_name["天河区"]["received"] == 30 and by_name["越秀区"]["received"] == 0
    assert by_name["海珠区"]["satisfaction"] is None and by_name["番禺区"]["on_time"] is None
    assert by_name["白云区"]["on_time"] == 0.5 and by_name["黄埔区"]["satisfaction"] == 0.2


def test_a_short_ranking_tags_half_each_way_and_one_district_none():
    states = frame(STATES, [states_row("440103", 4, 4, 0, 0), states_row("440104", 4, 3, 0, 0),
                            states_row("440105", 4, 2, 0, 0)])
    assert [r["tag"] for r in bv.district_ranking(states, frame(ACTIVITY), NAMES)][:3] == ["红榜", "", "黑榜"]
    one = frame(STATES, [states_row("440103", 4, 4, 0, 0)])
    assert [r["tag"] for r in bv.district_ranking(one, frame(ACTIVITY), NAMES)] == [""] * len(NAMES)
    empty = bv.district_ranking(frame(STATES), frame(ACTIVITY), NAMES)
    assert [r["name"] for r in empty] == list(NAMES.values()) and all(r["rank"] is None for r in empty)


def test_level_rows_list_the_four_grades_and_ungraded_only_when_present():
    rows = bv.level_rows(numbers(incidents={"I": 1, "IV": 3}), numbers(incidents={"I": 2}))
    assert [(r["label"], r["colour"], r["count"], r["previous"]) for r in rows] == [
        ("Ⅰ级", "red", 1, 2), ("Ⅱ级", "orange", 0, 0), ("Ⅲ级", "yellow", 0, 0), ("Ⅳ级", "blue", 3, 0)]
    assert bv.level_rows(numbers(incidents={"": 2}), numbers())[-1]["label"] == "未定级"


def test_major_rows_are_plain_text_in_local_time():
    hostile = "<img src=x onerror=alert(1)>"
    major = frame(MAJOR, [
        ("EM-1", local(2026, 3, 10, 14, 5), 0, "I", "on_scene", "440106", "fire", 2.0, hostile),
        ("EM-2", local(2026, 3, 10, 9, 0), local(2026, 3, 10, 11), "II", "closed", "", "flood", np.nan, ""),
    ])
    assert bv.major_rows(major, NAMES, TZ) == [
        {"time": "03-10 14:05", "district": "天河区", "type": "火灾", "grade": "Ⅰ级 特别重大", "colour": "red",
         "open": True, "status": "现场处置", "casualties": "2 人", "description": hostile},
        {"time": "03-10 09:00", "district": "未定位", "type": "洪涝", "grade": "Ⅱ级 重大", "colour": "orange",
         "open": False, "status": "已结案", "casualties": "未报告", "description": ""}]


# --- the whole brief ---------------------------------------------------------------------------------------------

def data(start: int, cut: int, last_week: bool = True) -> BriefData:
    return BriefData(
        now=cut, current=numbers(start, cut, received=10, completed=4, due=4, due_on_time=3, rated=2, satisfied=2),
        previous=numbers(start - 86400, cut - 86400, received=8),
        last_week=numbers(start - 7 * 86400, cut - 7 * 86400, received=5) if last_week else None,
        activity=frame(ACTIVITY, [("440106", 10, 4, None, None)]),
        states=frame(STATES, [states_row("440106", 4, 3, 2, 2)]),
        categories=frame(["category", "received"], [("城市管理", 10)]),
        cells=frame(["cell", "received", "district_code", "category"]), major=frame(MAJOR))


def test_a_past_day_is_a_finished_brief_with_two_comparisons():
    period = bv.Period("day", dt.date(2026, 3, 10))
    start, end = period.bounds(TZ)
    brief = bv.build(data(start, end), period, NAMES, "广州市", TZ)
    assert (brief.title, brief.period, brief.as_of) == ("广州市城市运行简报", "2026年3月10日（星期二）", "统计周期已结束")
    assert brief.compared == "对比：前一日、上周同日"
    assert brief.summary[0] == "2026年3月10日（星期二），全市受理 12345 热线工单 10 件、办结 4 件，受理量较前一日上升 25.0%。"
    assert [d.against for d in brief.kpis[0]["deltas"]] == ["较前一日", "较上周同日"]
    assert brief.categories == [{"name": "城市管理", "value": 10, "bar": 1.0, "share": 1.0}]
    assert brief.ranking[0]["name"] == "天河区" and brief.major == [] and brief.cells == []
    assert not any("尚未结束" in n for n in brief.notes)


def test_a_running_day_says_until_when_and_compares_the_same_hours():
    period = bv.Period("day", dt.date(2026, 3, 12))
    start, _ = period.bounds(TZ)
    brief = bv.build(data(start, NOW), period, NAMES, "广州市", TZ)
    assert brief.as_of == "数据截至 2026-03-12 14:30"
    assert brief.compared == "对比：昨日同时段、上周同日同时段"
    assert brief.summary[0].startswith("今日截至 14:30，")
    assert brief.notes[0] == "统计周期尚未结束：对比期取相同时长。"


def test_a_week_says_its_previous_period_is_last_week():
    period = bv.Period("week", dt.date(2026, 3, 2))
    start, end = period.bounds(TZ)
    brief = bv.build(data(start, end, last_week=False), period, NAMES, "广州市", TZ)
    assert brief.compared == "对比：上周（按周统计时上期即上周，不再单列上周同期）"
    assert all(len(k["deltas"]) == 1 for k in brief.kpis)
    assert brief.summary[0].startswith("2026年第10周（3月2日—3月8日），")
