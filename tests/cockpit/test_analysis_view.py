"""The analyst screens' presentation (cockpit/analysis_view.py) from hand-built query results, then the pages'
callbacks (cockpit/pages/analysis.py, district.py) called directly on both warehouse backends."""
import datetime as dt
import sys
import time
from functools import lru_cache
from zoneinfo import ZoneInfo

import h3
import pandas as pd
import pytest

from cockpit import analysis_state as st
from cockpit import analysis_view as av
from cockpit.app import create_app
from config.settings import load
from ingest.consume import make_decoder
from ingest.direct import store_events
from warehouse.analysis_queries import Period, split

TZ = "Asia/Shanghai"
ZONE = ZoneInfo(TZ)
NAMES = {"440104": "越秀区", "440105": "海珠区", "440106": "天河区"}
CELL = h3.latlng_to_cell(23.1401, 113.3191, 8)
HOSTILE = '<img src=x onerror="alert(1)">=cmd|\'/c calc\'!A1'


def overview(rows: list[tuple]) -> av.Overview:
    """An Overview from rows (previous, dim, key, n, done, major[, dx, dy]) as the overview query returns them."""
    columns = ["previous", "dim", "key", "n", "done", "major"] + (["dx", "dy"] if rows and len(rows[0]) == 8 else [])
    return split(pd.DataFrame(rows, columns=columns))


CITY = overview([
    (0, "total", "", 10, 6, 2), (0, "place", "440106", 7, 4, 2), (0, "place", "440104", 2, 2, 0),
    (0, "place", "", 1, 0, 0), (0, "kind", "城市管理", 6, 4, 0), (0, "kind", "水电气", 3, 1, 2), (0, "kind", "", 1, 1, 0),
    (0, "slot", "0", 4, 3, 1), (0, "slot", "2", 6, 3, 1),
    (1, "total", "", 8, 6, 1), (1, "place", "440106", 8, 6, 1), (1, "kind", "城市管理", 8, 6, 1), (1, "slot", "1", 8, 6, 1),
])


# --- numbers ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("current, previous, points, expected", [
    (10, 8, False, ("▲25.0%", "up")), (6, 8, False, ("▼25.0%", "down")), (8, 8, False, ("＝0.0%", "flat")),
    (5, 0, False, ("—", "")), (None, 3, False, ("—", "")),
    (60.0, 75.0, True, ("▼15.0 个百分点", "down")), (75.0, 75.0, True, ("＝0.0 个百分点", "flat")),
    (50.0, None, True, ("—", "")),
])
def test_change_against_the_previous_period(current, previous, points, expected):
    assert av.change(current, previous, points=points) == expected


def test_kpi_cards_with_comparison():
    cards = {c["key"]: c for c in av.kpi_cards(CITY, "hotline", compare=True)}
    assert [(c["label"], c["value"], c["unit"]) for c in cards.values()] == [
        ("受理工单", "10", "件"), ("在办", "4", "件"), ("已办结", "6", "件"), ("办结率", "60.0", "%"), ("紧急工单", "2", "件")]
    assert cards["n"]["sub"] == "上期 8 · ▲25.0%" and cards["n"]["trend"] == "up"
    assert cards["open"]["sub"] == "上期 2 · ▲100.0%"
    assert cards["rate"]["sub"] == "上期 75.0% · ▼15.0 个百分点" and cards["rate"]["trend"] == "down"
    assert "本项目定义" in cards["rate"]["help"]


def test_kpi_cards_without_comparison_or_data():
    empty = overview([])
    cards = av.kpi_cards(empty, "emergency", compare=False)
    assert [(c["label"], c["value"], c["sub"], c["trend"]) for c in cards] == [
        ("接报事件", "0", "", ""), ("处置中", "0", "", ""), ("已结案", "0", "", ""), ("结案率", "—", "", ""),
        ("重大及以上", "0", "", "")]


# --- charts -------------------------------------------------------------------------------------------------------

def epoch(*args) -> int:
    return int(dt.datetime(*args, tzinfo=ZONE).timestamp())


def test_slot_labels_in_local_time():
    assert av.slot_labels(Period(epoch(2026, 11, 20), epoch(2026, 11, 23)), "day", TZ) == ["11-20", "11-21", "11-22"]
    assert av.slot_labels(Period(epoch(2026, 11, 20, 22), epoch(2026, 11, 21, 0, 30)), "hour", TZ) == [
        "11-20 22时", "11-20 23时", "11-21 00时"]
    assert av.slot_labels(Period(epoch(2026, 11, 20, 8), epoch(2026, 11, 22)), "day", TZ) == [
        "11-20 08时", "11-21 08时"]


def test_series_figure_aligns_the_previous_period_by_slot():
    period = Period(epoch(2026, 11, 20), epoch(2026, 11, 23), compare=True)
    fig = av.series_figure(CITY, period, "day", TZ, "hotline", compare=True)
    assert [list(t.y) for t in fig.data] == [[4, 0, 6], [0, 8, 0]]
    assert [t.name for t in fig.data] == ["本期", "上期（同位置）"]
    assert len(av.series_figure(CITY, period, "day", TZ, "hotline", compare=False).data) == 1
    assert av.series_figure(overview([]), period, "day", TZ, "hotline", False).layout.annotations[0].text == "暂无数据"


def test_kinds_figure_largest_on_top_with_labels_as_plain_text():
    o = overview([(0, "kind", "城市管理", 6, 0, 0), (0, "kind", "<b>x</b>&lt;", 2, 0, 0), (0, "kind", "", 1, 0, 0)])
    bars = av.kinds_figure(o, "hotline", compare=False).data[0]
    assert list(bars.y) == ["未分类", "＜b＞x＜/b＞＆lt;", "城市管理"] and list(bars.x) == [1, 2, 6]
    fire = av.kinds_figure(overview([(0, "kind", "fire", 1, 0, 0)]), "emergency", compare=True).data
    assert [list(t.y) for t in fire] == [["火灾"], ["火灾"]] and [list(t.x) for t in fire] == [[0], [1]]


# --- tables -------------------------------------------------------------------------------------------------------

def test_city_table_lists_every_district_and_the_unlocated_with_comparison():
    columns, rows = av.place_table(CITY, "hotline", True, NAMES)
    assert [c["name"] for c in columns] == ["区", "受理工单", "在办", "已办结", "办结率（%）", "紧急工单", "上期受理工单", "环比（%）"]
    fields = ("name", "n", "open", "done", "rate", "major", "before", "change")
    assert [tuple(r[f] for f in fields) for r in rows] == [
        ("天河区", 7, 3, 4, 57.1, 2, 8, -12.5), ("越秀区", 2, 0, 2, 100.0, 0, 0, None),
        ("未定位", 1, 1, 0, 0.0, 0, 0, None), ("海珠区", 0, 0, 0, None, 0, 0, None)]
    assert [r["place"] for r in rows] == ["440106", "440104", "", "440105"]


def test_cell_table_names_cells_by_their_h3_index():
    key = str(h3.str_to_int(CELL))
    o = overview([(0, "place", key, 3, 1, 0, 0.005, -0.002), (0, "place", "0", 1, 0, 0, None, None),
                  (1, "place", key, 1, 1, 0, 0.005, -0.002)])
    columns, rows = av.place_table(o, "emergency", False)
    assert [c["name"] for c in columns] == ["网格（H3）", "接报事件", "处置中", "已结案", "结案率（%）", "重大及以上"]
    assert [(r["name"], r["n"], r["place"]) for r in rows] == [(CELL, 3, key), ("未定位", 1, "0")]
    assert "before" not in rows[0]


def test_entity_table_in_chinese_with_event_text_kept_verbatim():
    frame = pd.DataFrame([("WO1", epoch(2026, 11, 23, 9, 15), "440106", "城市管理", "占道经营", "reopened", 1, HOSTILE),
                          ("WO2", epoch(2026, 11, 23, 8), "", "", "", "received", 0, "")],
                         columns=["id", "opened_at", "district", "kind", "subkind", "state", "major", "text"])
    columns, rows = av.entity_table(frame, "hotline", NAMES, TZ)
    assert [c["name"] for c in columns] == ["工单编号", "受理时间", "区", "类别", "子类", "期末状态", "紧急", "诉求内容"]
    assert rows == [
        {"id": "WO1", "opened": "2026-11-23 09:15", "district": "天河区", "kind": "城市管理", "subkind": "占道经营",
         "state": "重办", "major": "是", "text": HOSTILE},
        {"id": "WO2", "opened": "2026-11-23 08:00", "district": "未定位", "kind": "未分类", "subkind": "",
         "state": "受理", "major": "", "text": ""}]
    incidents = frame.assign(kind=["flood", "fire"], subkind=["II", ""], state=["on_scene", "closed"])
    _, rows = av.entity_table(incidents, "emergency", NAMES, TZ)
    assert [(r["kind"], r["subkind"], r["state"]) for r in rows] == [("洪涝", "Ⅱ级 重大", "现场处置"), ("火灾", "待定级", "已结案")]


def test_the_csv_of_a_table_is_its_rows_and_columns():
    columns, rows = av.place_table(CITY, "hotline", True, NAMES)
    lines = st.to_csv(columns, rows).decode("utf-8-sig").split("\r\n")
    assert lines[:3] == ["区,受理工单,在办,已办结,办结率（%）,紧急工单,上期受理工单,环比（%）", "天河区,7,3,4,57.1,2,8,-12.5",
                         "越秀区,2,0,2,100,0,0,"]


# --- the map ------------------------------------------------------------------------------------------------------

def test_district_values_and_grid_cells_of_the_period():
    assert av.district_values(CITY) == {"440106": 7.0, "440104": 2.0}
    key = h3.str_to_int(CELL)
    o = overview([(0, "place", str(key), 3, 1, 0, 0.005, -0.002), (0, "place", "0", 1, 0, 0, None, None),
                  (1, "place", "123", 9, 0, 0, 0.0, 0.0)])
    cells = av.grid_cells(o)
    assert cells.to_dict("records") == [{"cell": key, "n": 3, "dx": 0.005, "dy": -0.002}]


def test_a_cells_outline_is_shifted_into_the_maps_crs():
    key = str(h3.str_to_int(CELL))
    o = overview([(0, "place", key, 3, 1, 0, 0.005, -0.002)])
    outline = av.cell_outline(CELL, o)
    assert outline == [[round(lat - 0.002, 6), round(lng + 0.005, 6)] for lat, lng in h3.cell_to_boundary(CELL)]
    assert av.cell_outline("", o) == []
    other = h3.latlng_to_cell(23.2, 113.4, 9)  # not a row of its own: the district's mean offset
    assert av.cell_outline(other, o)[0] == [round(h3.cell_to_boundary(other)[0][0] - 0.002, 6),
                                            round(h3.cell_to_boundary(other)[0][1] + 0.005, 6)]


# --- the pages' callbacks, called directly ----------------------------------------------------------------------------

TIANHE, YUEXIU = (113.3245, 23.1375), (113.2644, 23.1291)


@lru_cache(maxsize=1)
def decoder():
    return make_decoder(load(environ={}))


def order(order_id: str, steps: list[tuple[int, str]], place, category="城市管理", content="") -> list[dict]:
    return [{"event_id": f"{order_id}.{i}", "schema": "hotline.v1", "ts": at * 1000, "order_id": order_id,
             "status": status, "category": category, "content": content if status == "received" else "",
             "location": {"lon": place[0], "lat": place[1], "crs": "GCJ02"}} for i, (at, status) in enumerate(steps, 1)]


@pytest.fixture
def pages(warehouse, settings_for):
    """Both pages on a warehouse holding three orders received in the last hours (one redelivered)."""
    now = int(time.time())
    events = [*order("WO-A", [(now - 3 * 3600, "received"), (now - 2 * 3600, "completed")], TIANHE),
              *order("WO-B", [(now - 2 * 3600, "received")], TIANHE, "水电气", HOSTILE),
              *order("WO-C", [(now - 3600, "received")], YUEXIU)]
    assert store_events(warehouse, decoder(), events + events[:2]) == len(events) + 2
    create_app(settings_for(), warehouse)
    return sys.modules["pages.analysis"], sys.modules["pages.district"]


def outputs(page, values) -> dict:
    return {f"{o.component_id}.{o.component_property}": v for o, v in zip(page.OUTPUTS, values)}


def kpi_values(cards) -> list[str]:
    return [card.children[1].children[0].children for card in cards]


def test_the_city_page_shows_the_period_by_district(pages):
    city, _ = pages
    out = outputs(city, city.refresh("?compare=1", None))
    assert out["analysis-errors.children"] == []
    assert kpi_values(out["analysis-kpis.children"]) == ["3", "2", "1", "33.3", "0"]
    rows = {r["name"]: (r["n"], r["open"], r["done"]) for r in out["analysis-table.data"]}
    assert rows["天河区"] == (2, 1, 1) and rows["越秀区"] == (1, 1, 0) and rows["海珠区"] == (0, 0, 0)
    assert out["analysis-districts.hideout"]["values"] == {"440106": 2.0, "440104": 1.0}
    assert [c["id"] for c in out["analysis-table.columns"]][-2:] == ["before", "change"]


def test_the_city_page_reports_bad_parameters_and_shows_the_rest(pages):
    city, _ = pages
    out = outputs(city, city.refresh("?status=visited&source=emergency&foo=<b>", None))
    assert [e.children for e in out["analysis-errors.children"]] == [
        "未知参数「foo」，已忽略", "状态「visited」无效（可选：未结案（全部）、接报、已调度、现场处置、已控制、已结案），已忽略"]
    assert kpi_values(out["analysis-kpis.children"]) == ["0", "0", "0", "—", "0"]


def test_a_flood_of_bad_parameters_gives_a_few_messages(pages):
    city, _ = pages
    errors = city.refresh("?" + "&".join(f"p{i}=1" for i in range(40)), None)[0]
    assert [e.children for e in errors] == [*(f"未知参数「p{i}」，已忽略" for i in range(4)), "另有 36 个参数无效，已忽略"]


def test_a_district_click_opens_its_page_with_the_same_filters(pages):
    city, _ = pages
    search = "?from=2026-11-01&to=2026-11-08&source=hotline&status=open&compare=1"
    href = city.open_district(1, {"properties": {"adcode": "440106"}}, search)
    assert href == "/district/440106" + search
    assert city.open_district(1, {"properties": {"adcode": "999999"}}, search) is city.no_update
    assert city.open_district(1, None, search) is city.no_update


def parsed(search: str) -> tuple:
    state, errors = st.parse_search(search, now=time.time(), tz=TZ, districts=NAMES, district="440106")
    return state.district, state.resolution, state.cell, errors


def test_the_district_page_by_cell_then_one_cell(pages):
    _, district = pages
    out = outputs(district, district.refresh("?res=9", None, "440106"))
    assert kpi_values(out["district-kpis.children"]) == ["2", "1", "1", "50.0", "0"]
    cells = [r["name"] for r in out["district-table.data"]]
    assert len(cells) == 1 and h3.get_resolution(cells[0]) == 9  # WO-A and WO-B at the same place
    assert [f["properties"]["cell"] for f in out["district-grid.data"]["features"]] == cells
    assert out["district-selected.children"] == []
    search = district.select_cell(1, {"properties": {"cell": cells[0]}}, "?res=9", "440106")
    assert parsed(search) == ("440106", 9, cells[0], [])
    out = outputs(district, district.refresh(search, None, "440106"))
    rows = out["district-table.data"]
    assert [(r["id"], r["state"], r["text"]) for r in rows] == [("WO-B", "受理", HOSTILE), ("WO-A", "办结", "")]
    assert len(out["district-selected.children"]) == 1
    assert parsed(district.select_cell(2, {"properties": {"cell": cells[0]}}, search, "440106")) == (
        "440106", 9, "", [])  # clicked again: back to the district


def test_the_district_page_ignores_bad_clicks_and_other_cities(pages):
    _, district = pages
    assert district.select_cell(1, {"properties": {"cell": "<script>"}}, "", "440106") is district.no_update
    assert district.open_district(1, {"properties": {"adcode": "440106"}}, "", "440106") is district.no_update
    assert district.open_district(1, {"properties": {"adcode": "440104"}}, "?compare=1", "440106").startswith(
        "/district/440104?")
    layout = district.layout(adcode="110101")
    assert "行政区划代码「110101」不是本市的区" in str(layout)
