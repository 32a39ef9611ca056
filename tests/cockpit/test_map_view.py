"""The map page's side panel: an order's and an incident's timeline, and a district's metrics, from hand-built frames
shaped like warehouse/map_queries.py's order_history and incident_history (chDB's and the server's types)."""
import numpy as np
import pandas as pd
import pytest

from cockpit.map_view import district_summary, incident_detail, order_detail
from layers.districts import METRICS

TZ = "Asia/Shanghai"
NAMES = {"440104": "越秀区", "440106": "天河区"}
ORDER = ["ts", "status", "category", "subcategory", "urgency", "district_code", "department", "deadline", "content",
         "satisfaction"]
INCIDENT = ["ts", "status", "type", "level", "district_code", "casualties", "units", "description"]


def utc(text: str, aware: bool = True) -> pd.Timestamp:
    """A warehouse DateTime: tz-aware UTC (chDB) or naive UTC."""
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if aware else stamp


def order_history(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=ORDER)


def incident_history(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=INCIDENT)


def order_row(ts: str, status: str, *, department="", urgency="normal", content="", district="440106",
              category="城市管理", subcategory="占道经营", deadline=None, satisfaction="", aware=True) -> tuple:
    return (utc(ts, aware), status, category, subcategory, urgency, district, department, deadline, content,
            satisfaction)


# --- work orders -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("aware", [True, False], ids=["aware", "naive"])
def test_order_detail_lists_the_timeline_in_local_time_with_departments(aware):
    history = order_history(
        order_row("2026-11-23 01:15:02", "received", content="天河区：路边有流动摊贩占道经营，影响通行", aware=aware),
        order_row("2026-11-23 01:40:00", "dispatched", department="天河区城管局", deadline=utc("2026-11-28 01:40"),
                  aware=aware),
        order_row("2026-11-23 02:05:00", "accepted", department="天河区城管局", aware=aware),
        order_row("2026-11-24 16:30:00", "completed", department="天河区城管局", aware=aware),
        order_row("2026-11-25 02:00:00", "visited", satisfaction="satisfied", aware=aware))
    assert order_detail("WO20261123A1", history, NAMES, TZ) == [
        "工单 WO20261123A1",
        "城市管理 · 占道经营 · 一般",
        "天河区",
        "诉求：天河区：路边有流动摊贩占道经营，影响通行",
        "11-23 09:15 受理",
        "11-23 09:40 派单 · 天河区城管局",
        "11-23 10:05 签收 · 天河区城管局",
        "11-25 00:30 办结 · 天河区城管局",
        "11-25 10:00 回访",
    ]


def test_order_detail_says_urgent_when_any_event_was_urgent():
    history = order_history(order_row("2026-11-23 01:15", "received"),
                            order_row("2026-11-23 01:20", "dispatched", urgency="urgent", department="市水务局"))
    assert order_detail("WO1", history, NAMES, TZ)[1] == "城市管理 · 占道经营 · 紧急"


def test_order_detail_keeps_the_citizens_text_as_text():
    hostile = '<script>alert("x")</script> & <b>路灯</b>不亮'
    lines = order_detail("WO1", order_history(order_row("2026-11-23 01:15", "received", content=hostile)), NAMES, TZ)
    assert lines[3] == f"诉求：{hostile}"
    assert all(type(line) is str for line in lines)


def test_order_detail_takes_the_first_content_and_omits_the_line_without_any():
    history = order_history(order_row("2026-11-23 01:15", "received"),
                            order_row("2026-11-23 01:20", "reopened", content="问题仍未解决"),
                            order_row("2026-11-23 01:25", "processing", content="第二次补充"))
    assert order_detail("WO1", history, NAMES, TZ)[3] == "诉求：问题仍未解决"
    silent = order_detail("WO1", order_history(order_row("2026-11-23 01:15", "received")), NAMES, TZ)
    assert silent == ["工单 WO1", "城市管理 · 占道经营 · 一般", "天河区", "11-23 09:15 受理"]


def test_order_detail_without_a_known_district_says_so():
    for district in ("", "440999"):
        history = order_history(order_row("2026-11-23 01:15", "received", district=district))
        assert order_detail("WO1", history, NAMES, TZ)[2] == "未定位"


def test_order_detail_shows_an_unknown_status_as_it_came():
    history = order_history(order_row("2026-11-23 01:15", "escalated", department="督办组"))
    assert order_detail("WO1", history, NAMES, TZ)[-1] == "11-23 09:15 escalated · 督办组"


def test_order_detail_without_subcategory_has_no_empty_part():
    # BUG (cockpit/map_view.py, order_detail): the header joins category, subcategory and urgency even when the
    # subcategory is empty (the contract's default), giving "城市管理 ·  · 一般". layers/points.py (_single) leaves
    # an empty subcategory out; do the same here, e.g. " · ".join(p for p in (category, subcategory, urgent) if p).
    history = order_history(order_row("2026-11-23 01:15", "received", subcategory=""))
    assert order_detail("WO1", history, NAMES, TZ)[1] == "城市管理 · 一般"


def test_order_detail_of_an_unknown_order_says_it_was_not_found():
    assert order_detail("WO-NONE", order_history(), NAMES, TZ) == ["工单 WO-NONE", "未找到该工单"]


# --- incidents ---------------------------------------------------------------------------------------------------

FIRE = "越秀区：北京路某商铺起火"


def incident_rows(*, casualties: tuple, units: tuple, aware: bool = True) -> pd.DataFrame:
    return incident_history(
        (utc("2026-11-23 06:05", aware), "reported", "fire", "", "440104", casualties[0], units[0], FIRE),
        (utc("2026-11-23 06:12", aware), "dispatched", "fire", "III", "440104", casualties[1], units[1], FIRE),
        (utc("2026-11-23 06:40", aware), "on_scene", "fire", "II", "440104", casualties[2], units[2], FIRE),
        (utc("2026-11-23 09:30", aware), "closed", "fire", "", "440104", casualties[3], units[3], FIRE))


EXPECTED_FIRE = ["突发事件 EM1", "火灾 · Ⅱ级 重大", "越秀区", FIRE,
                 "11-23 14:05 接报",
                 "11-23 14:12 已调度 · 出动 2 支力量",
                 "11-23 14:40 现场处置 · 出动 3 支力量 · 伤亡 3 人",
                 "11-23 17:30 已结案 · 出动 3 支力量 · 伤亡 3 人"]


def test_incident_detail_from_chdb_types():
    # chDB: Nullable(UInt32) as pandas' nullable UInt32 (NULL is <NA>), arrays as numpy object arrays
    units = (np.array([], dtype=object), np.array(["U1", "U2"], dtype=object),
             np.array(["U1", "U2", "U3"], dtype=object), np.array(["U1", "U2", "U3"], dtype=object))
    history = incident_rows(casualties=(None, 0, 3, 3), units=units).astype({"casualties": "UInt32"})
    assert incident_detail("EM1", history, NAMES, TZ) == EXPECTED_FIRE


def test_incident_detail_from_server_types():
    # clickhouse-driver: NULL as None in an object column, arrays as lists; naive UTC times
    history = incident_rows(casualties=(None, 0, 3, 3), units=([], ["U1", "U2"], ["U1", "U2", "U3"],
                                                                ["U1", "U2", "U3"]), aware=False)
    history["casualties"] = history["casualties"].astype(object).where(history["casualties"].notna(), None)
    assert incident_detail("EM1", history, NAMES, TZ) == EXPECTED_FIRE


def test_incident_detail_with_nan_casualties_shows_none():
    history = incident_rows(casualties=(float("nan"),) * 4, units=([],) * 4)
    assert incident_detail("EM1", history, NAMES, TZ)[4:] == [
        "11-23 14:05 接报", "11-23 14:12 已调度", "11-23 14:40 现场处置", "11-23 17:30 已结案"]


def test_incident_detail_of_an_ungraded_incident_says_not_yet_graded():
    history = incident_history((utc("2026-11-23 06:05"), "reported", "crowd", "", "440106", None, [], "天河路人员聚集"))
    assert incident_detail("EM2", history, NAMES, TZ) == [
        "突发事件 EM2", "人员聚集 · 待定级", "天河区", "天河路人员聚集", "11-23 14:05 接报"]


def test_incident_detail_keeps_the_description_as_text_and_unknown_codes_as_they_came():
    hostile = '<img src=x onerror="alert(1)">'
    history = incident_history((utc("2026-11-23 06:05"), "escalated", "meteor", "IV", "", None, [], hostile))
    assert incident_detail("EM3", history, NAMES, TZ) == [
        "突发事件 EM3", "meteor · Ⅳ级 一般", "未定位", hostile, "11-23 14:05 escalated"]


def test_incident_detail_of_an_unknown_incident_says_it_was_not_found():
    assert incident_detail("EM-NONE", incident_history(), NAMES, TZ) == ["突发事件 EM-NONE", "未找到该事件"]


# --- a district's metrics ----------------------------------------------------------------------------------------

TITLES = {k: (m.title, m.unit, m.decimals) for k, m in METRICS.items()}


def test_district_summary_formats_each_metric_and_shows_a_dash_where_there_is_none():
    values = {"open_orders": {"440106": 1234.0, "440104": 5.0}, "orders_per_10k": {"440104": 0.4},
              "open_incidents": {"440106": 0.0}, "aqi": {}, "overdue_rate": {"440106": 12.345}}
    assert district_summary("440106", "天河区", values, TITLES) == [
        "天河区", "在办工单：1,234 件", "每万人在办工单：—", "在办突发事件：0 起", "空气质量指数 AQI：—",
        "在办工单超期率：12.3 %"]


def test_district_summary_with_a_unitless_value_has_no_trailing_space():
    assert district_summary("440104", "越秀区", {"aqi": {"440104": 92}}, {"aqi": TITLES["aqi"]}) == [
        "越秀区", "空气质量指数 AQI：92"]


def test_district_summary_of_metrics_not_computed_at_all_shows_dashes():
    assert district_summary("440104", "越秀区", {}, TITLES) == [
        "越秀区", "在办工单：—", "每万人在办工单：—", "在办突发事件：—", "空气质量指数 AQI：—", "在办工单超期率：—"]
