"""Alerts for other systems (alerts/cap.py): CAP 1.2 XML of one alert — every required element and its value,
the message type per state, escaping of hostile text, time zones, district polygons and circles in WGS-84 — and
the JSON list of active alerts."""
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, shape

from alerts.cap import (
    CAP_SEVERITY,
    DATUM,
    MAX_POLYGON_POINTS,
    NS,
    cap_identifier,
    categories,
    message_type,
    open_alerts_json,
    to_cap,
)
from alerts.lifecycle import ACTIVE, STATES
from alerts.rules import load_rules
from domain.coords import gcj02_to_wgs84, wgs84_to_gcj02
from domain.districts import city_boundaries

ROOT = Path(__file__).resolve().parents[2]
RULES = {r.id: r for r in load_rules(ROOT / "config" / "alerts.yaml")}
SENDER = "cockpit@city.example"
BOUNDARIES = city_boundaries("440100")
T0 = dt.datetime(2026, 7, 1, 6, 30, tzinfo=dt.timezone.utc)  # 14:30 in Guangzhou
SENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")  # CAP dateTime: no fraction, no "Z"
PAIR = r"-?\d{1,3}\.\d{5},-?\d{1,3}\.\d{5}"
# Guangzhou's extent (WGS-84), a little generous
LAT, LON = (22.4, 24.0), (112.8, 114.1)
# CAP 1.2 schema: the order of the elements used here
ALERT_ORDER = ("identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses",
               "code", "note", "references", "incidents", "info")
INFO_ORDER = ("language", "category", "event", "responseType", "urgency", "severity", "certainty", "audience",
              "eventCode", "effective", "onset", "expires", "senderName", "headline", "description", "instruction",
              "web", "contact", "parameter", "resource", "area")
AREA_ORDER = ("areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling")


def alert(**fields) -> dict:
    """A street-ponding alert at a Tianhe station, as raised (all SNAPSHOT keys)."""
    snapshot = {"alert_id": "street-ponding:GZ-WL-001:1782887400", "rule_id": "street-ponding",
                "rule_name": "道路积水超 15 厘米", "kind": "threshold", "subject_type": "station",
                "subject_id": "GZ-WL-001", "subject_name": "天河路积水点", "district_code": "440106",
                "lon": 113.3245, "lat": 23.1372, "state": "open", "severity": "orange", "escalations": 0,
                "auto_escalated": 0, "department": "", "person": "", "value": 18.0, "peak": 18.0,
                "detail": "最新读数", "first_seen": T0, "last_seen": T0, "updated_at": T0, "version": 1}
    snapshot.update(fields)
    return snapshot


def parsed(snapshot: dict, **kwargs) -> ET.Element:
    kwargs.setdefault("sender", SENDER)
    return ET.fromstring(to_cap(snapshot, **kwargs).encode("utf-8"))


def q(path: str) -> str:
    return "/".join(f"{{{NS}}}{part}" for part in path.split("/"))


def text(root: ET.Element, path: str) -> str:
    element = root.find(q(path))
    assert element is not None, f"no <{path}>"
    return element.text


def all_text(root: ET.Element, path: str) -> list[str]:
    return [e.text for e in root.findall(q(path))]


def parameters(root: ET.Element) -> dict[str, str]:
    return {p.find(q("valueName")).text: p.find(q("value")).text for p in root.findall(q("info/parameter"))}


def local_tag(element: ET.Element) -> str:
    return element.tag.split("}", 1)[1]


# --- the message ------------------------------------------------------------------------------------------------

def test_a_new_alert_has_every_required_cap_element():
    root = parsed(alert(), boundaries=BOUNDARIES, rule=RULES["street-ponding"])
    assert root.tag == f"{{{NS}}}alert"
    assert text(root, "identifier") == "street-ponding:GZ-WL-001:1782887400"
    assert text(root, "sender") == SENDER
    assert text(root, "sent") == "2026-07-01T14:30:00+08:00"
    assert text(root, "status") == "Actual"
    assert text(root, "msgType") == "Alert"
    assert text(root, "scope") == "Public"
    assert root.find(q("references")) is None
    assert text(root, "incidents") == "street-ponding:GZ-WL-001:1782887400"
    assert len(root.findall(q("info"))) == 1
    assert text(root, "info/language") == "zh-CN"
    assert all_text(root, "info/category") == ["Met"]
    assert text(root, "info/event") == "道路积水超 15 厘米"
    assert text(root, "info/urgency") == "Immediate"
    assert text(root, "info/severity") == "Severe"
    assert text(root, "info/certainty") == "Observed"
    assert text(root, "info/onset") == "2026-07-01T14:30:00+08:00"
    assert text(root, "info/senderName") == "城市运行管理驾驶舱"
    assert text(root, "info/headline") == "橙色预警：道路积水超 15 厘米（天河区）"
    assert text(root, "info/description") == (
        "预警对象：天河路积水点 GZ-WL-001（站点）\n所在区域：天河区\n情况：最新读数\n读数：当前 18，峰值 18\n"
        "预警状态：待确认\n首次触发 2026-07-01 14:30，最近触发 2026-07-01 14:30")
    assert parameters(root) == {"rule_id": "street-ponding", "state": "open", "warning_colour": "orange",
                                "datum": DATUM}
    assert text(root, "info/area/areaDesc") == "天河区"
    assert text(root, "info/area/geocode/valueName") == "adcode"
    assert text(root, "info/area/geocode/value") == "440106"


def test_the_document_is_utf8_xml_with_its_declaration():
    document = to_cap(alert(), sender=SENDER)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="' + NS + '">')
    assert "天河路积水点" in document  # real characters, not character references
    assert ET.fromstring(document.encode("utf-8")).find(q("info/event")).text == "道路积水超 15 厘米"


@pytest.mark.parametrize("state", STATES)
def test_elements_follow_the_cap_schema_order(state):
    root = parsed(alert(state=state, updated_at=T0 + dt.timedelta(minutes=5), department="天河区排水所"),
                  boundaries=BOUNDARIES)
    for element, order in ((root, ALERT_ORDER), (root.find(q("info")), INFO_ORDER),
                           (root.find(q("info/area")), AREA_ORDER)):
        tags = [local_tag(child) for child in element]
        assert set(tags) <= set(order)
        assert tags == sorted(tags, key=order.index)


@pytest.mark.parametrize("colour, severity, urgency", [
    ("red", "Extreme", "Immediate"), ("orange", "Severe", "Immediate"),
    ("yellow", "Moderate", "Expected"), ("blue", "Minor", "Expected")])
def test_severity_and_urgency_follow_the_warning_colour(colour, severity, urgency):
    root = parsed(alert(severity=colour))
    assert text(root, "info/severity") == severity == CAP_SEVERITY[colour]
    assert text(root, "info/urgency") == urgency
    assert text(root, "info/certainty") == "Observed"
    assert text(root, "info/headline").startswith({"red": "红色", "orange": "橙色", "yellow": "黄色",
                                                   "blue": "蓝色"}[colour] + "预警：")


# --- message type per state ------------------------------------------------------------------------------------

LATER = T0 + dt.timedelta(minutes=12)  # 14:42 in Guangzhou


@pytest.mark.parametrize("state, updated_at, expected", [
    ("open", T0, "Alert"),
    ("open", LATER, "Update"),  # re-fired with a new value, or escalated
    ("acknowledged", LATER, "Update"),
    ("assigned", LATER, "Update"),
    ("resolved", LATER, "Cancel"),
    ("closed", LATER, "Cancel")])
def test_message_type_per_state(state, updated_at, expected):
    snapshot = alert(state=state, updated_at=updated_at)
    root = parsed(snapshot)
    assert message_type(snapshot) == text(root, "msgType") == expected
    assert text(root, "incidents") == "street-ponding:GZ-WL-001:1782887400"
    if expected == "Alert":
        assert text(root, "identifier") == "street-ponding:GZ-WL-001:1782887400"
        assert text(root, "sent") == "2026-07-01T14:30:00+08:00"
        assert root.find(q("references")) is None
    else:  # a message of its own, naming the original alert message
        assert text(root, "identifier") == f"street-ponding:GZ-WL-001:1782887400@{int(LATER.timestamp())}"
        assert text(root, "sent") == "2026-07-01T14:42:00+08:00"
        assert text(root, "references") == f"{SENDER},street-ponding:GZ-WL-001:1782887400,2026-07-01T14:30:00+08:00"
        assert parameters(root)["state"] == state


def test_a_cancel_says_the_alert_is_over():
    root = parsed(alert(state="resolved", updated_at=LATER), boundaries=BOUNDARIES)
    assert text(root, "info/headline") == "已解除 橙色预警：道路积水超 15 厘米（天河区）"
    assert "预警状态：已处置" in text(root, "info/description")


def test_each_change_is_a_new_message_and_an_unchanged_export_the_same():
    ids = {text(parsed(alert(state=s, updated_at=T0 + dt.timedelta(minutes=i))), "identifier")
           for i, s in enumerate(("open", "open", "acknowledged", "assigned", "resolved", "closed"))}
    assert len(ids) == 6
    assert to_cap(alert(state="assigned", updated_at=LATER), sender=SENDER) == \
        to_cap(alert(state="assigned", updated_at=LATER), sender=SENDER)


def test_message_type_can_be_given():
    root = parsed(alert(state="assigned", updated_at=LATER), msg_type="Cancel")
    assert text(root, "msgType") == "Cancel"
    with pytest.raises(ValueError, match="msgType 'Ack' is not one of Alert, Update, Cancel"):
        to_cap(alert(), sender=SENDER, msg_type="Ack")


# --- identifiers and hostile text --------------------------------------------------------------------------------

def test_identifier_is_made_cap_safe_one_to_one():
    assert cap_identifier("a b,c<d&e%f\tg") == "a%20b%2Cc%3Cd%26e%25f%09g"
    assert cap_identifier("a b") != cap_identifier("a_b") != cap_identifier("a%20b")
    assert cap_identifier("hotline-surge:440106/交通出行:1782887400") == "hotline-surge:440106/交通出行:1782887400"
    root = parsed(alert(alert_id="r:some subject, <x> & y:1"))
    identifier = text(root, "identifier")
    assert identifier == "r:some%20subject%2C%20%3Cx>%20%26%20y:1"
    assert not re.search(r"[\s,<&]", identifier)


@pytest.mark.parametrize("sender", ["", "cockpit city", "a,b", "a&b", "a<b"])
def test_a_sender_cap_refuses_is_an_error(sender):
    with pytest.raises(ValueError, match="CAP sender"):
        to_cap(alert(), sender=sender)


HOSTILE = "<script>alert(\"x\")</script> & 'quoted' \"text\" ]]> &amp;"


def test_hostile_text_is_escaped_and_round_trips():
    snapshot = alert(detail=HOSTILE, subject_name=HOSTILE, rule_name="规则 <b>&</b>", department="A&B \"所\"",
                     person="<李>", state="assigned", updated_at=LATER)
    document = to_cap(snapshot, sender=SENDER)
    assert "<script>" not in document and "<b>" not in document and "<李>" not in document
    root = ET.fromstring(document.encode("utf-8"))
    description = text(root, "info/description")
    assert f"情况：{HOSTILE}\n" in description
    assert f"预警对象：{HOSTILE} GZ-WL-001（站点）" in description
    assert "处置部门 A&B \"所\" <李>" in description
    assert text(root, "info/event") == "规则 <b>&</b>"
    assert text(root, "info/area/areaDesc") == f"{HOSTILE} GZ-WL-001"
    assert HOSTILE in text(root, "info/headline")


def test_characters_xml_cannot_hold_are_replaced_not_written():
    root = parsed(alert(detail="bell\x07 nul\x00 esc\x1b ok\ttab"))
    assert "情况：bell\ufffd nul\ufffd esc\ufffd ok\ttab" in text(root, "info/description")


def test_a_long_headline_is_cut():
    headline = text(parsed(alert(subject_name="很长的名字" * 40)), "info/headline")
    assert len(headline) == 80 and headline.endswith("…")


# --- times ---------------------------------------------------------------------------------------------------------

def test_naive_timestamps_are_utc_and_give_the_same_message():
    naive = {k: T0.replace(tzinfo=None) for k in ("first_seen", "last_seen", "updated_at")}
    assert to_cap(alert(**naive), sender=SENDER) == to_cap(alert(), sender=SENDER)
    assert open_alerts_json([alert(**naive)]) == open_alerts_json([alert()])


def test_sent_is_in_the_city_time_zone_without_fraction():
    at = dt.datetime(2026, 7, 1, 23, 59, 59, 987654, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    sent = text(parsed(alert(first_seen=at, last_seen=at, updated_at=at)), "sent")
    assert SENT.match(sent)
    assert sent == "2026-07-02T12:59:59+08:00"


def test_pandas_timestamps_as_the_warehouse_returns_them():
    stamp = pd.Timestamp("2026-07-01 06:30:00.123456789")  # naive UTC, nanoseconds
    root = parsed(alert(first_seen=stamp, last_seen=stamp, updated_at=stamp))
    assert text(root, "sent") == "2026-07-01T14:30:00+08:00"
    assert text(root, "msgType") == "Alert"


def test_utc_is_written_minus_zero_as_cap_asks():
    root = parsed(alert(), timezone="UTC")
    assert text(root, "sent") == "2026-07-01T06:30:00-00:00"
    assert SENT.match(text(root, "sent"))


def test_other_time_zones():
    assert text(parsed(alert(), timezone="Europe/Berlin"), "sent") == "2026-07-01T08:30:00+02:00"


# --- area ----------------------------------------------------------------------------------------------------------

def polygon_points(polygon: str) -> list[tuple[float, float]]:
    """(lat, lon) pairs of a CAP polygon, after checking its format."""
    assert re.fullmatch(f"{PAIR}( {PAIR})+", polygon), polygon[:80]
    return [tuple(map(float, pair.split(","))) for pair in polygon.split()]


@pytest.mark.parametrize("feature", BOUNDARIES["features"], ids=lambda f: f["properties"]["adcode"])
def test_a_district_alert_has_its_district_polygon_in_wgs84(feature):
    code, name = feature["properties"]["adcode"], feature["properties"]["name"]
    root = parsed(alert(district_code=code), boundaries=BOUNDARIES)
    assert text(root, "info/area/areaDesc") == name
    assert root.find(q("info/area/circle")) is None
    polygons = all_text(root, "info/area/polygon")
    district = shape(feature["geometry"])  # GCJ-02
    parts = [district] if district.geom_type == "Polygon" else list(district.geoms)
    assert len(polygons) == len(parts)
    for polygon, part in zip(polygons, parts):
        points = polygon_points(polygon)
        assert points[0] == points[-1]  # closed
        assert 4 <= len(points) <= MAX_POLYGON_POINTS
        assert all(LAT[0] < lat < LAT[1] and LON[0] < lon < LON[1] for lat, lon in points)
        wgs = Polygon([(lon, lat) for lat, lon in points])
        assert wgs.is_valid
        back = Polygon([wgs84_to_gcj02(lon, lat) for lat, lon in points])  # to the boundaries' datum
        assert back.hausdorff_distance(part.exterior) < 0.003  # the simplification only (≈ 300 m at most)
        assert abs(back.area - part.area) / part.area < 0.01
        shifted = gcj02_to_wgs84(part.centroid.x, part.centroid.y)  # GCJ-02 → WGS-84: ~500 m to the south-west
        assert wgs.centroid.distance(Point(shifted)) < 0.0003 < part.centroid.distance(Point(shifted)) - 0.005
    assert parameters(root)["datum"] == DATUM


def test_a_large_district_is_simplified_to_200_points():
    feature = next(f for f in BOUNDARIES["features"] if f["properties"]["adcode"] == "440117")  # 从化区, 907
    assert len(feature["geometry"]["coordinates"][0]) > MAX_POLYGON_POINTS
    (polygon,) = all_text(parsed(alert(district_code="440117"), boundaries=BOUNDARIES), "info/area/polygon")
    assert 100 < len(polygon.split()) <= MAX_POLYGON_POINTS


def test_without_boundaries_a_point_gives_a_circle_in_wgs84():
    root = parsed(alert())
    (circle,) = all_text(root, "info/area/circle")
    assert re.fullmatch(rf"{PAIR} \d+(\.\d+)?", circle)
    lon, lat = gcj02_to_wgs84(113.3245, 23.1372)
    assert circle == f"{lat:.5f},{lon:.5f} 1"
    assert root.find(q("info/area/polygon")) is None
    assert text(root, "info/area/areaDesc") == "天河路积水点 GZ-WL-001"
    assert parameters(root)["datum"] == DATUM


def test_a_district_missing_from_the_boundaries_gives_a_circle():
    root = parsed(alert(district_code="110101"), boundaries=BOUNDARIES)
    assert root.find(q("info/area/polygon")) is None
    assert len(all_text(root, "info/area/circle")) == 1
    assert text(root, "info/area/geocode/value") == "110101"


def test_without_district_or_point_the_area_is_only_described():
    snapshot = alert(rule_id="department-backlog", rule_name="部门超期工单积压", kind="backlog",
                     subject_type="department", subject_id="市水务局", subject_name="市水务局", district_code="",
                     lon=None, lat=None, severity="yellow", value=63.0, peak=70.0, detail="超期在办 63 件")
    root = parsed(snapshot, boundaries=BOUNDARIES)
    area = root.find(q("info/area"))
    assert [local_tag(child) for child in area] == ["areaDesc"]
    assert text(root, "info/area/areaDesc") == "市水务局"
    assert "datum" not in parameters(root)
    assert all_text(root, "info/category") == ["Other"]
    assert "超期在办（件）：当前 63，峰值 70" in text(root, "info/description")


def test_nan_coordinates_mean_no_point():
    root = parsed(alert(lon=float("nan"), lat=float("nan"), district_code=""))
    assert root.find(q("info/area/circle")) is None


# --- categories and descriptions --------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id, expected", [
    ("river-over-warning", ["Met"]), ("street-ponding", ["Met"]), ("air-heavy-pollution", ["Env"]),
    ("pipe-low-pressure", ["Infra"]), ("water-quality-below-iii", ["Env"])])
def test_a_threshold_alerts_category_comes_from_its_rules_stations(rule_id, expected):
    snapshot = alert(rule_id=rule_id, rule_name=RULES[rule_id].name)
    assert categories(snapshot, RULES[rule_id]) == expected
    assert all_text(parsed(snapshot, rule=RULES[rule_id]), "info/category") == expected


def test_a_threshold_alert_without_its_rule_is_other():
    assert categories(alert()) == ["Other"]


@pytest.mark.parametrize("kind, subject_name, expected", [
    ("incident", "fire", ["Fire"]), ("incident", "hazmat", ["CBRNE"]), ("incident", "landslide", ["Geo"]),
    ("incident", "public_health", ["Health"]), ("undispatched", "traffic", ["Transport"]),
    ("incident", "unknown-type", ["Safety"]), ("surge", "交通出行", ["Transport"]), ("surge", "环境保护", ["Env"]),
    ("surge", "城市管理", ["Other"]), ("backlog", "市水务局", ["Other"])])
def test_categories_of_other_kinds(kind, subject_name, expected):
    assert categories(alert(kind=kind, subject_name=subject_name)) == expected


def test_an_incident_alert_says_its_type_and_grade_in_chinese():
    snapshot = alert(alert_id="major-incident:INC-7:1782887400", rule_id="major-incident",
                     rule_name="重大及以上突发事件", kind="incident", subject_type="incident", subject_id="INC-7",
                     subject_name="fire", district_code="440105", severity="red", value=2.0, peak=2.0,
                     detail="厂房起火，已疏散", state="assigned", department="海珠区消防救援大队", person="王队",
                     escalations=1, updated_at=LATER)
    root = parsed(snapshot, boundaries=BOUNDARIES)
    assert all_text(root, "info/category") == ["Fire"]
    assert text(root, "info/severity") == "Extreme"
    assert text(root, "info/headline") == "红色预警：重大及以上突发事件（海珠区）"
    assert text(root, "info/description") == (
        "预警对象：火灾 INC-7（突发事件）\n所在区域：海珠区\n情况：厂房起火，已疏散\n事件级别：Ⅱ级 重大\n"
        "预警状态：已派发，处置部门 海珠区消防救援大队 王队，已向上级通报 1 次\n"
        "首次触发 2026-07-01 14:30，最近触发 2026-07-01 14:30")


@pytest.mark.parametrize("fields, message", [
    ({"state": "pending"}, "state 'pending' is not one of open, acknowledged"),
    ({"severity": "purple"}, "severity 'purple' is not one of blue, yellow, orange, red"),
    ({"first_seen": "2026-07-01"}, "expected a datetime")])
def test_a_bad_snapshot_is_an_error(fields, message):
    with pytest.raises((ValueError, TypeError), match=message):
        to_cap(alert(**fields), sender=SENDER)


def test_a_snapshot_lacking_keys_is_an_error():
    snapshot = alert()
    del snapshot["detail"], snapshot["peak"]
    with pytest.raises(ValueError, match="^alert snapshot lacks peak, detail$"):
        to_cap(snapshot, sender=SENDER)
    with pytest.raises(ValueError, match="lacks peak, detail"):
        open_alerts_json([snapshot])


# --- the JSON list -----------------------------------------------------------------------------------------------

def snapshots() -> list[dict]:
    """One alert in every state, plus a red and a blue open one."""
    out = [alert(alert_id=f"street-ponding:GZ-WL-00{i}:1782887400", subject_id=f"GZ-WL-00{i}", state=state,
                 first_seen=T0 + dt.timedelta(minutes=i), last_seen=LATER, updated_at=LATER)
           for i, state in enumerate(STATES)]
    out.append(alert(alert_id="river-over-guarantee:GZ-RV-001:1782890000", rule_id="river-over-guarantee",
                     rule_name="河道水位超保证", subject_id="GZ-RV-001", subject_name="珠江广州大桥水位站",
                     district_code="440105", severity="red", value=2.71, peak=2.8, detail="状态 over_guarantee",
                     first_seen=T0 + dt.timedelta(hours=1), last_seen=T0 + dt.timedelta(hours=1),
                     updated_at=T0 + dt.timedelta(hours=1)))
    out.append(alert(alert_id="backlog:x:1", kind="backlog", subject_type="department", subject_id="x",
                     subject_name="x", district_code="", lon=None, lat=None, severity="blue", value=float("nan"),
                     peak=float("nan"), detail=""))
    return out


def test_the_json_list_holds_only_active_alerts():
    listed = open_alerts_json(snapshots())
    assert {a["state"] for a in listed} == set(ACTIVE)
    assert [a["alert_id"] for a in listed] == [
        "river-over-guarantee:GZ-RV-001:1782890000",  # red first
        "street-ponding:GZ-WL-000:1782887400", "street-ponding:GZ-WL-001:1782887400",  # orange, oldest first
        "street-ponding:GZ-WL-002:1782887400",
        "backlog:x:1"]  # blue last


def test_the_json_list_does_not_depend_on_input_order():
    rows = snapshots()
    assert open_alerts_json(rows) == open_alerts_json(list(reversed(rows)))


def test_a_json_entry_in_full():
    (entry,) = open_alerts_json([alert(state="assigned", department="天河区排水所", person="李工",
                                       value=16.5, peak=21.0, last_seen=LATER, updated_at=LATER)],
                                boundaries=BOUNDARIES)
    lon, lat = gcj02_to_wgs84(113.3245, 23.1372)
    assert entry == {
        "alert_id": "street-ponding:GZ-WL-001:1782887400", "cap_identifier": "street-ponding:GZ-WL-001:1782887400",
        "rule_id": "street-ponding", "rule_name": "道路积水超 15 厘米", "kind": "threshold", "severity": "orange",
        "severity_zh": "橙色", "cap_severity": "Severe", "state": "assigned", "state_zh": "已派发",
        "subject_type": "station", "subject_id": "GZ-WL-001", "subject_name": "天河路积水点",
        "district_code": "440106", "district_name": "天河区", "lon": round(lon, 6), "lat": round(lat, 6),
        "value": 16.5, "peak": 21.0, "detail": "最新读数", "department": "天河区排水所", "person": "李工",
        "escalations": 0, "first_seen": "2026-07-01T14:30:00+08:00", "last_seen": "2026-07-01T14:42:00+08:00",
        "updated_at": "2026-07-01T14:42:00+08:00"}


def test_the_json_list_is_strict_json():
    listed = open_alerts_json(snapshots())
    text_ = json.dumps(listed, ensure_ascii=False, allow_nan=False)  # NaN would fail here
    assert json.loads(text_) == listed
    backlog = next(a for a in listed if a["alert_id"] == "backlog:x:1")
    assert backlog["value"] is None and backlog["peak"] is None
    assert backlog["lon"] is None and backlog["lat"] is None and backlog["district_name"] is None


def test_the_json_list_of_nothing_is_empty():
    assert open_alerts_json([]) == []
    assert open_alerts_json([alert(state="closed")]) == []
