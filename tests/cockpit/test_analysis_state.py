"""The analyst screens' URL state (cockpit/analysis_state.py), pure: state ⇄ query string round trips, every bad
parameter → its default and an exact Chinese message (never an exception), the warehouse filters and period of a
state, and the CSV of the table shown (BOM, quoting, formula injection)."""
import csv
import datetime as dt
import io
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import h3
import pytest

from cockpit import analysis_state as st
from warehouse.analysis_queries import Filters, Period

TZ = "Asia/Shanghai"
ZONE = ZoneInfo(TZ)
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZONE).timestamp()  # a Tuesday afternoon
NAMES = {"440104": "越秀区", "440106": "天河区"}
CELL = h3.latlng_to_cell(23.1401, 113.3191, 8)


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE)


DEFAULT = st.ViewState(local(2026, 11, 18), local(2026, 11, 25))


def parse(query: dict, district: str | None = None):
    return st.parse(query, now=NOW, tz=TZ, districts=NAMES, district=district)


def round_trip(state: st.ViewState):
    return parse(parse_qs(st.to_query(state), keep_blank_values=True), district=state.district or None)


# --- the state and its URL ----------------------------------------------------------------------------------------

def test_no_parameters_give_the_last_seven_days_today_included():
    assert parse({}) == (DEFAULT, [])
    assert st.to_query(DEFAULT) == "from=2026-11-18&to=2026-11-25&source=hotline"


@pytest.mark.parametrize("state", [
    DEFAULT,
    st.ViewState(local(2026, 11, 1), local(2026, 11, 8), "hotline", "城市管理", "open", compare=True),
    st.ViewState(local(2026, 11, 23, 8), local(2026, 11, 24, 8, 30), "hotline", status="done"),
    st.ViewState(local(2026, 10, 25), local(2026, 11, 25), "emergency", "waterlogging", "on_scene"),
    st.ViewState(local(2026, 11, 18), local(2026, 11, 25), district="440106"),
    st.ViewState(local(2026, 11, 18), local(2026, 11, 25), "hotline", "水电气", "reopened", True, "440104", 9, CELL),
], ids=["default", "filtered", "hours", "emergency", "district", "district-cell"])
def test_a_state_survives_its_url(state):
    assert round_trip(state) == (state, [])


def test_urls_are_readable_and_carry_only_what_is_set():
    state = st.ViewState(local(2026, 11, 23, 8), local(2026, 11, 24), "hotline", "城市管理", "open", True, "440106",
                         9, CELL)
    assert st.href(state) == ("/district/440106?from=2026-11-23T08:00&to=2026-11-24&source=hotline"
                              "&category=%E5%9F%8E%E5%B8%82%E7%AE%A1%E7%90%86&status=open&res=9"
                              f"&cell={CELL}&compare=1")
    assert st.href(st.ViewState(local(2026, 11, 1), local(2026, 11, 2))) == \
        "/analysis?from=2026-11-01&to=2026-11-02&source=hotline"


def test_values_may_come_as_dash_passes_them_or_as_parse_qs_lists():
    query = {"from": ["2026-11-01"], "to": "2026-11-08", "status": ["open"], "compare": "1"}
    assert parse(query) == (st.ViewState(local(2026, 11, 1), local(2026, 11, 8), status="open", compare=True), [])


def test_parse_search_reads_a_location_search():
    state, errors = st.parse_search(f"?res=7&cell={CELL.upper()}", now=NOW, tz=TZ, districts=NAMES,
                                    district="440106")
    assert (state.resolution, state.cell, state.district, errors) == (7, CELL, "440106", [])
    assert st.parse_search(None, now=NOW, tz=TZ, districts=NAMES) == (DEFAULT, [])


def test_a_missing_end_is_tonight_and_a_missing_start_a_week_before_the_end():
    only_start, only_end = parse({"from": "2026-11-20"})[0], parse({"to": "2026-11-20"})[0]
    assert (only_start.start, only_start.end) == (local(2026, 11, 20), local(2026, 11, 25))
    assert (only_end.start, only_end.end) == (local(2026, 11, 13), local(2026, 11, 20))


def test_an_end_after_now_is_kept_in_the_url_and_cut_at_now_for_the_query():
    state, errors = parse({"from": "2026-11-24", "to": "2026-11-26"})
    assert errors == [] and state.end == local(2026, 11, 26)
    assert st.period(state, NOW) == Period(int(local(2026, 11, 24).timestamp()), int(NOW))


# --- every bad parameter: its default and a message -----------------------------------------------------------------

RANGE_RESET = "已改用默认时段"


@pytest.mark.parametrize("query, message", [
    ({"from": "2026/11/01"}, "开始时间「2026/11/01」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），" + RANGE_RESET),
    ({"from": "2026-02-30"}, "开始时间「2026-02-30」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），" + RANGE_RESET),
    ({"to": "2026-11-20T08:00:00"},
     "结束时间「2026-11-20T08:00:00」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），" + RANGE_RESET),
    ({"from": "2026-11-23T25:00"},
     "开始时间「2026-11-23T25:00」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），" + RANGE_RESET),
    ({"from": "yesterday"}, "开始时间「yesterday」不是有效的日期（格式如 2026-11-23 或 2026-11-23T08:00），" + RANGE_RESET),
    ({"from": "2026-11-10", "to": "2026-11-10"}, "开始时间（2026-11-10）须早于结束时间（2026-11-10），" + RANGE_RESET),
    ({"from": "2026-11-10T09:00", "to": "2026-11-10T08:00"},
     "开始时间（2026-11-10T09:00）须早于结束时间（2026-11-10T08:00），" + RANGE_RESET),
    ({"from": "2026-09-01", "to": "2026-11-01"}, "时间范围最长 31 天，所选为 61 天，" + RANGE_RESET),
    ({"from": "2026-10-01"}, "时间范围最长 31 天，所选为 55 天，" + RANGE_RESET),  # to tonight
    ({"from": "2026-11-25", "to": "2026-11-26"}, "开始时间（2026-11-25）晚于当前时间，" + RANGE_RESET),
    ({"source": "water"}, "数据来源「water」无效（可选：12345 热线工单、突发事件），已改用 12345 热线工单"),
    ({"category": "火灾"}, "类别「火灾」无效（可选：城市管理、环境保护、交通出行、住房建设、市场监管、劳动社保、公共安全、教育医疗、水电气、其他），已忽略"),
    ({"source": "emergency", "category": "城市管理"},
     "类别「城市管理」无效（可选：火灾、交通事故、洪涝、城市内涝、山体滑坡、危化品事故、公共卫生、人员聚集、停电、其他），已忽略"),
    ({"status": "closed"}, "状态「closed」无效（可选：未办结（全部）、已办结（含回访）、受理、派单、签收、办理中、办结、回访、重办），已忽略"),
    ({"source": "emergency", "status": "done"},
     "状态「done」无效（可选：未结案（全部）、接报、已调度、现场处置、已控制、已结案），已忽略"),
    ({"compare": "yes"}, "参数 compare 只能为 1 或 0，「yes」已忽略"),
    ({"foo": "1"}, "未知参数「foo」，已忽略"),
    ({"cell": CELL}, "未知参数「cell」，已忽略"),  # the city page has no cells
    ({"res": "8"}, "未知参数「res」，已忽略"),
    ({"source": ["hotline", "emergency"]}, "参数「source」出现了多次，已改用默认值"),
    ({"x" * 40: "1"}, f"未知参数「{'x' * 24}…」，已忽略"),
    ({"category": "<img src=x onerror=alert(1)>" * 2},
     "类别「<img src=x onerror=alert…」无效（可选：城市管理、环境保护、交通出行、住房建设、市场监管、劳动社保、公共安全、教育医疗、水电气、其他），已忽略"),
])
def test_a_bad_parameter_gives_a_message_never_an_exception(query, message):
    state, errors = parse(query)
    assert errors == [message]
    assert state == parse({k: v for k, v in query.items() if k == "source" and v == "emergency"})[0]


@pytest.mark.parametrize("query, state", [
    ({"from": "2026/11/01", "to": "2026-11-20"}, DEFAULT),  # a bad date resets the whole range
    ({"source": "water", "category": "城市管理"}, st.ViewState(DEFAULT.start, DEFAULT.end, category="城市管理")),
    ({"source": "emergency", "category": "城市管理", "status": "closed"},
     st.ViewState(DEFAULT.start, DEFAULT.end, "emergency", status="closed")),
    ({"compare": "2", "status": "open"}, st.ViewState(DEFAULT.start, DEFAULT.end, status="open")),
    ({"foo": "1", "compare": "1"}, st.ViewState(DEFAULT.start, DEFAULT.end, compare=True)),
])
def test_only_the_bad_parameter_is_dropped(query, state):
    got, errors = parse(query)
    assert got == state and len(errors) == 1


@pytest.mark.parametrize("query, message", [
    ({"res": "10"}, "网格级别「10」无效（可选：7、8、9），已改用 8 级"),
    ({"res": "eight"}, "网格级别「eight」无效（可选：7、8、9），已改用 8 级"),
    ({"cell": "not-a-cell"}, "网格编号「not-a-cell」不是有效的 7–9 级 H3 网格，已忽略"),
    ({"cell": "8841aa5c07ffff"}, "网格编号「8841aa5c07ffff」不是有效的 7–9 级 H3 网格，已忽略"),  # 14 digits
    ({"cell": "0000000000000ff"}, "网格编号「0000000000000ff」不是有效的 7–9 级 H3 网格，已忽略"),  # hex, not H3
    ({"cell": h3.latlng_to_cell(23.14, 113.32, 10)},
     f"网格编号「{h3.latlng_to_cell(23.14, 113.32, 10)}」不是有效的 7–9 级 H3 网格，已忽略"),
    ({"cell": h3.latlng_to_cell(23.14, 113.32, 6)},
     f"网格编号「{h3.latlng_to_cell(23.14, 113.32, 6)}」不是有效的 7–9 级 H3 网格，已忽略"),
    ({"adcode": "440104"}, "未知参数「adcode」，已忽略"),
])
def test_bad_district_page_parameters(query, message):
    state, errors = parse(query, district="440106")
    assert errors == [message]
    assert (state.district, state.resolution, state.cell) == ("440106", 8, "")


@pytest.mark.parametrize("adcode", ["440199", "110101", "../../etc", "", "4401061"])
def test_an_adcode_not_in_the_city_leaves_no_district(adcode):
    state, errors = parse({"res": "9"}, district=adcode)
    assert state.district == ""
    assert errors == [f"行政区划代码「{adcode}」不是本市的区"]


def test_several_bad_parameters_give_one_message_each_and_never_raise():
    state, errors = parse({"from": "x", "source": "y", "status": "z", "compare": "w", "cell": "v", "res": "u",
                           "q": "1"}, district="440106")
    assert len(errors) == 7 and state == st.ViewState(DEFAULT.start, DEFAULT.end, district="440106")


@pytest.mark.parametrize("query, shown", [
    ({"from": "1900-01-01", "to": "1900-01-08"}, "1900-01-01"),  # before 1970: no UInt32 epoch for the warehouse
    ({"from": "0001-01-01", "to": "0001-01-02"}, "0001-01-01"),
    ({"from": "2025-01-01", "to": "2025-01-08"}, "2025-01-01"),  # older than anything stored
])
def test_a_period_older_than_the_warehouse_keeps_is_refused_with_the_earliest_day(query, shown):
    state, errors = parse(query)
    assert state == DEFAULT
    assert errors == [f"开始时间（{shown}）早于可查询的最早日期（2025-10-20，数据保留 {st.MAX_AGE_DAYS} 天），"
                      + RANGE_RESET]
    assert st.MAX_AGE_DAYS == 400


def test_the_oldest_day_kept_is_accepted():
    state, errors = parse({"from": "2025-10-20", "to": "2025-10-27"})
    assert errors == [] and state.start == local(2025, 10, 20)


def test_an_overlong_query_string_is_not_read_at_all():
    search = "?" + "&".join(f"k{i}=1" for i in range(2000))
    state, errors = st.parse_search(search, now=NOW, tz=TZ, districts=NAMES)
    assert state == DEFAULT
    assert errors == [f"地址参数过长（{len(search) - 1:,} 个字符，最多 {st.MAX_QUERY_CHARS:,} 个），已改用默认视图"]


# --- the warehouse's filters and period -----------------------------------------------------------------------------

@pytest.mark.parametrize("source, status, statuses", [
    ("hotline", "", ()),
    ("hotline", "open", ("received", "dispatched", "accepted", "processing", "reopened")),
    ("hotline", "done", ("completed", "visited")),
    ("hotline", "reopened", ("reopened",)),
    ("emergency", "open", ("reported", "dispatched", "on_scene", "contained")),
    ("emergency", "closed", ("closed",)),
])
def test_filters_of_a_state(source, status, statuses):
    state = st.ViewState(DEFAULT.start, DEFAULT.end, source, status=status, district="440106", cell=CELL)
    assert st.filters(state) == Filters(source, "", statuses, "440106", h3.str_to_int(CELL))


def test_period_and_grain():
    week = st.ViewState(local(2026, 11, 10), local(2026, 11, 17), compare=True)
    start, end = int(local(2026, 11, 10).timestamp()), int(local(2026, 11, 17).timestamp())
    assert st.period(week, NOW) == Period(start, end, True) and st.period(week, NOW).since == start - 7 * 86400
    assert st.grain(week) == "day"
    assert st.grain(st.ViewState(local(2026, 11, 20), local(2026, 11, 23))) == "hour"  # 3 days
    assert st.grain(st.ViewState(local(2026, 11, 20), local(2026, 11, 23, 1))) == "day"


# --- the filter bar -----------------------------------------------------------------------------------------------

def test_the_date_picker_sets_whole_days_the_last_one_included():
    assert st.picker_days(DEFAULT) == ("2026-11-18", "2026-11-24")
    state = st.with_dates(DEFAULT, "2026-11-01", "2026-11-03", TZ)
    assert (state.start, state.end) == (local(2026, 11, 1), local(2026, 11, 4))


def test_the_date_picker_keeps_a_period_of_hours_it_shows_unchanged():
    hours = st.ViewState(local(2026, 11, 23, 8), local(2026, 11, 24, 8))
    assert st.with_dates(hours, "2026-11-23", "2026-11-24", TZ) == hours
    assert st.with_dates(hours, None, "2026-11-24", TZ) == hours
    assert st.with_dates(hours, "2026-11-23", "garbage", TZ) == hours


def test_a_changed_source_drops_the_category_and_status_it_does_not_have():
    state = st.ViewState(DEFAULT.start, DEFAULT.end, "hotline", "城市管理", "visited")
    assert st.with_filters(state, "emergency", "城市管理", "visited", ["1"]) == \
        st.ViewState(DEFAULT.start, DEFAULT.end, "emergency", compare=True)
    assert st.with_filters(state, "bogus", "水电气", "open", []) == \
        st.ViewState(DEFAULT.start, DEFAULT.end, "hotline", "水电气", "open")


# --- CSV ----------------------------------------------------------------------------------------------------------

COLUMNS = [{"id": "name", "name": "区"}, {"id": "n", "name": "受理工单", "type": "numeric"},
           {"id": "rate", "name": "办结率（%）"}, {"id": "change", "name": "环比（%）"}, {"id": "text", "name": "诉求内容"}]


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_holds_exactly_the_columns_and_rows_shown_with_a_bom():
    rows = [{"name": "天河区", "n": 1818, "rate": 70.2, "change": -12.5, "text": "路边摊，占道\n经营", "place": "440106"},
            {"name": "越秀区", "n": 0, "rate": None, "change": float("nan"), "text": '他说"快来"'}]
    data = st.to_csv(COLUMNS, rows)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens the Chinese correctly
    assert data.decode("utf-8-sig").split("\r\n")[0] == "区,受理工单,办结率（%）,环比（%）,诉求内容"
    assert read(data) == [["区", "受理工单", "办结率（%）", "环比（%）", "诉求内容"],
                          ["天河区", "1818", "70.2", "-12.5", "路边摊，占道\n经营"],  # a number is not a formula
                          ["越秀区", "0", "", "", '他说"快来"']]


@pytest.mark.parametrize("text, cell", [
    ("=HYPERLINK(\"http://x\",\"点我\")", "'=HYPERLINK(\"http://x\",\"点我\")"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\r=1", "'\r=1"),
    ("普通 = 文本", "普通 = 文本"), ("", ""), ("'已转义", "'已转义"),
    # a formula behind leading spaces, fullwidth signs (Excel and WPS take ＝ for =), a separator or a line end
    (" =1+1", "' =1+1"), ("\u3000\u00a0=1", "'\u3000\u00a0=1"), ("\n@x", "'\n@x"), ("＝SUM(A1)", "'＝SUM(A1)"),
    ("＋1", "'＋1"), ("－1", "'－1"), ("＠x", "'＠x"), (";=1", "';=1"), ("  ,+1", "'  ,+1"), ("；＝1", "'；＝1"),
    ("\t", "'\t"), ("\r", "'\r"), ("a;=1", "a;=1"), (" 普通", " 普通"), ("；文本", "；文本"),
])
def test_csv_text_that_a_spreadsheet_would_run_is_prefixed(text, cell):
    assert st.csv_cell(text) == cell
    assert read(st.to_csv([{"id": "t", "name": "内容"}], [{"t": text}]))[1] == [cell]


def test_csv_cells_of_every_type():
    assert [st.csv_cell(v) for v in (None, float("nan"), 3, 2.0, 0.5, -7, True, False)] == \
        ["", "", "3", "2", "0.5", "-7", "是", "否"]


def test_csv_of_malformed_client_data_skips_what_it_cannot_read():
    columns = [{"id": "a", "name": ["上", "下"]}, {"name": "no id"}, "junk", {"id": "b"}]
    rows = [{"a": 1, "b": "x"}, "junk", None, {"b": "=1"}]
    assert read(st.to_csv(columns, rows)) == [["上 下", "b"], ["1", "x"], ["", "'=1"]]
    assert st.to_csv(None, None) == b"\xef\xbb\xbf\r\n"


def test_csv_filename_names_source_place_and_days():
    assert st.csv_filename(DEFAULT, "天河区") == "12345热线工单_天河区_20261118-20261124.csv"
    assert st.csv_filename(st.ViewState(local(2026, 11, 1), local(2026, 11, 1, 12), "emergency"), "a/b") == \
        "突发事件_a_b_20261101-20261101.csv"
