"""Alerts for other systems: one alert snapshot as an OASIS CAP 1.2 message, the active alerts as a JSON list.

Pure: a snapshot (a dict with the keys of ``alerts.store.SNAPSHOT``) in, text or plain data out; nothing is read
or written. The XML is built with ElementTree, so user text (detail, subject names) is always escaped; characters
XML 1.0 cannot hold at all (control characters) become U+FFFD.

**Messages of one alert.** CAP wants every message's identifier to be unique and an Update or Cancel to name the
message it supersedes in ``<references>`` (``sender,identifier,sent``). So:

- ``Alert`` — the alert as raised: state open and nothing changed since (``updated_at == first_seen``).
  identifier = the alert id made CAP-safe, sent = first_seen.
- ``Update`` — any later change of an active alert: a re-fire with a new value, an escalation, acknowledged,
  assigned. identifier = that id + ``@`` + updated_at (epoch seconds), sent = updated_at.
- ``Cancel`` — resolved or closed: the alert is no longer in effect. identifier and sent as for Update.

Update and Cancel reference the original Alert; every message of one alert carries the CAP-safe alert id in
``<incidents>``, so a receiver can group them. Exporting an unchanged snapshot again gives the same message.

**Coordinates.** CAP wants WGS-84; the district polygons and the subjects' points are GCJ-02 (Amap). They are
converted (``domain.coords``) and a ``datum`` parameter says so. A district's polygon is each exterior ring of its
boundary (a district in several parts gives several ``<polygon>``), simplified until it has at most 200 points.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from typing import Mapping
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from alerts.lifecycle import ACTIVE, SEVERITIES, SEVERITY_ZH, STATE_ZH, STATES
from alerts.rules import LEVELS, Rule
from domain.contract import EMERGENCY_TYPE_ZH, LEVEL_ZH
from domain.coords import gcj02_to_wgs84, to_wgs84_and_gcj02_many

NS = "urn:oasis:names:tc:emergency:cap:1.2"
TIMEZONE = "Asia/Shanghai"
SENDER_NAME = "城市运行管理驾驶舱"
MSG_TYPES = ("Alert", "Update", "Cancel")
CAP_SEVERITY = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}  # DOMAIN.md
MAX_POLYGON_POINTS = 200
CIRCLE_KM = 1.0  # around a station or an incident that has no district polygon: its neighbourhood
DATUM = "WGS-84 (converted from GCJ-02)"

# CAP 1.2 categories of what an alert watches. A threshold rule's category is that of its station types (it needs
# the rule); an incident's that of its type; a hotline surge's that of the orders' category.
STATION_CATEGORY = {"river_gauge": "Met", "rain_gauge": "Met", "waterlogging": "Met",  # CAP: "Met" includes flood
                    "pipe_pressure": "Infra", "water_quality": "Env", "air": "Env", "noise": "Env"}
INCIDENT_CATEGORY = {"fire": "Fire", "traffic": "Transport", "flood": "Met", "waterlogging": "Met",
                     "landslide": "Geo", "hazmat": "CBRNE", "public_health": "Health", "crowd": "Safety",
                     "power_outage": "Infra", "other": "Safety"}
HOTLINE_CATEGORY = {"环境保护": "Env", "交通出行": "Transport", "住房建设": "Infra", "公共安全": "Safety",
                    "教育医疗": "Health", "水电气": "Infra"}  # the rest: Other
SUBJECT_ZH = {"station": "站点", "district": "区", "incident": "突发事件", "department": "部门"}
VALUE_ZH = {"threshold": "读数", "surge": "近1小时诉求（件）", "incident": "事件级别", "undispatched": "已等待（分钟）",
            "backlog": "超期在办（件）"}

_NEEDED = ("alert_id", "rule_id", "rule_name", "kind", "subject_type", "subject_id", "subject_name", "district_code",
           "lon", "lat", "state", "severity", "escalations", "department", "person", "value", "peak", "detail",
           "first_seen", "last_seen", "updated_at")
# CAP: an identifier or sender holds no spaces, commas or restricted characters (< &); '%' too, so that the
# percent-encoding stays one-to-one, and control characters, which XML cannot carry.
_UNSAFE_ID = re.compile(r"[\s,<&%\x00-\x1f\x7f]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def cap_identifier(alert_id: str) -> str:
    """The alert id as a CAP identifier: spaces, commas, '<', '&', '%' and control characters percent-encoded."""
    return _UNSAFE_ID.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), alert_id)


def message_type(snapshot: Mapping) -> str:
    """Alert (as raised), Update (changed since, still active) or Cancel (resolved or closed)."""
    if snapshot["state"] not in ACTIVE:
        return "Cancel"
    if snapshot["state"] == "open" and _epoch(snapshot["updated_at"]) == _epoch(snapshot["first_seen"]):
        return "Alert"
    return "Update"


def to_cap(snapshot: Mapping, *, sender: str, boundaries: dict | None = None, timezone: str = TIMEZONE,
           msg_type: str | None = None, rule: Rule | None = None, sender_name: str = SENDER_NAME) -> str:
    """One alert snapshot as a CAP 1.2 XML document (UTF-8 text with its declaration).

    ``boundaries``: the city's district GeoJSON (``domain.districts.city_boundaries``) for the district polygon
    and name; without it, or for a district it lacks, the area is a circle around the subject's point (if any).
    ``msg_type``: None → :func:`message_type`. ``rule``: the alert's rule, which a threshold alert needs for its
    category (the snapshot does not say which stations it watches); without it that category is Other.
    ValueError for a snapshot that lacks a key or has an unknown state or severity, or a sender CAP refuses.
    """
    _check(snapshot)
    if not sender or _UNSAFE_ID.search(sender):
        raise ValueError(f"CAP sender {sender!r} must be non-empty, without spaces, commas, '<', '&' or '%'")
    kind = msg_type or message_type(snapshot)
    if kind not in MSG_TYPES:
        raise ValueError(f"msgType {kind!r} is not one of {', '.join(MSG_TYPES)}")
    tz = ZoneInfo(timezone)
    base, first = cap_identifier(snapshot["alert_id"]), _cap_time(snapshot["first_seen"], tz)
    severity, district = snapshot["severity"], _district(snapshot, boundaries)

    root = ET.Element(f"{{{NS}}}alert")
    if kind == "Alert":
        _sub(root, "identifier", base)
    else:
        _sub(root, "identifier", f"{base}@{_epoch(snapshot['updated_at'])}")
    _sub(root, "sender", sender)
    _sub(root, "sent", first if kind == "Alert" else _cap_time(snapshot["updated_at"], tz))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", kind)
    _sub(root, "scope", "Public")
    if kind != "Alert":
        _sub(root, "references", f"{sender},{base},{first}")
    _sub(root, "incidents", base)

    info = _sub(root, "info")
    _sub(info, "language", "zh-CN")
    for category in categories(snapshot, rule):
        _sub(info, "category", category)
    _sub(info, "event", snapshot["rule_name"])
    _sub(info, "urgency", "Immediate" if severity in ("red", "orange") else "Expected")
    _sub(info, "severity", CAP_SEVERITY[severity])
    _sub(info, "certainty", "Observed")
    _sub(info, "onset", first)
    _sub(info, "senderName", sender_name)
    _sub(info, "headline", headline(snapshot, district[1] if district else None))
    _sub(info, "description", description(snapshot, district[1] if district else None, tz))
    polygons = district_polygons(district[2]) if district else []
    circle = None if polygons else _circle(snapshot)
    for name, value in (("rule_id", snapshot["rule_id"]), ("state", snapshot["state"]),
                        ("warning_colour", severity), ("datum", DATUM if polygons or circle else None)):
        if value is not None:
            parameter = _sub(info, "parameter")
            _sub(parameter, "valueName", name)
            _sub(parameter, "value", value)

    area = _sub(info, "area")
    _sub(area, "areaDesc", district[1] if district else _subject(snapshot))
    for polygon in polygons:
        _sub(area, "polygon", polygon)
    if circle:
        _sub(area, "circle", circle)
    if snapshot["district_code"]:
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", "adcode")
        _sub(geocode, "value", snapshot["district_code"])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode", default_namespace=NS)


def open_alerts_json(snapshots: list[Mapping], timezone: str = TIMEZONE, *,
                     boundaries: dict | None = None) -> list[dict]:
    """The active alerts (open, acknowledged, assigned) as JSON-ready dicts, red first, then oldest first, then by
    id — the same order whatever the input order. Times are ISO 8601 with the city's offset; lon/lat are
    WGS-84 (None when the subject has no point); value and peak are None when missing. ``district_name`` needs
    ``boundaries``."""
    tz = ZoneInfo(timezone)
    for snapshot in snapshots:
        _check(snapshot)
    active = sorted((s for s in snapshots if s["state"] in ACTIVE),
                    key=lambda s: (-SEVERITIES.index(s["severity"]), _epoch(s["first_seen"]), s["alert_id"]))
    out = []
    for s in active:
        district = _district(s, boundaries)
        point = _wgs84_point(s)
        out.append({
            "alert_id": s["alert_id"], "cap_identifier": cap_identifier(s["alert_id"]), "rule_id": s["rule_id"],
            "rule_name": s["rule_name"], "kind": s["kind"], "severity": s["severity"],
            "severity_zh": SEVERITY_ZH[s["severity"]], "cap_severity": CAP_SEVERITY[s["severity"]],
            "state": s["state"], "state_zh": STATE_ZH[s["state"]], "subject_type": s["subject_type"],
            "subject_id": s["subject_id"], "subject_name": s["subject_name"], "district_code": s["district_code"],
            "district_name": district[1] if district else None,
            "lon": round(point[0], 6) if point else None, "lat": round(point[1], 6) if point else None,
            "value": _number(s["value"]), "peak": _number(s["peak"]), "detail": s["detail"],
            "department": s["department"], "person": s["person"], "escalations": int(s["escalations"]),
            "first_seen": _local(s["first_seen"], tz).isoformat(), "last_seen": _local(s["last_seen"], tz).isoformat(),
            "updated_at": _local(s["updated_at"], tz).isoformat()})
    return out


def categories(snapshot: Mapping, rule: Rule | None = None) -> list[str]:
    """The CAP categories of an alert (at least one; Other when nothing more precise is known)."""
    kind = snapshot["kind"]
    if kind == "threshold":
        found = [STATION_CATEGORY[t] for t in rule.station_types] if rule else []
    elif kind in ("incident", "undispatched"):  # a late dispatch is about the incident too
        found = [INCIDENT_CATEGORY.get(snapshot["subject_name"], "Safety")]
    elif kind == "surge":
        found = [HOTLINE_CATEGORY.get(snapshot["subject_name"], "Other")]
    else:
        found = []
    return list(dict.fromkeys(found)) or ["Other"]


def headline(snapshot: Mapping, district_name: str | None = None) -> str:
    """Short Chinese headline: 橙色预警：道路积水超 15 厘米（天河区）; 已解除 in front when resolved or closed."""
    text = (f"{'' if snapshot['state'] in ACTIVE else '已解除 '}{SEVERITY_ZH[snapshot['severity']]}预警："
            f"{snapshot['rule_name']}（{district_name or _subject(snapshot)}）")
    return text if len(text) <= 80 else text[:79] + "…"


def description(snapshot: Mapping, district_name: str | None = None, tz: ZoneInfo = ZoneInfo(TIMEZONE)) -> str:
    """The alert in Chinese, one fact a line: subject, district, detail, value and peak, state, times."""
    s = snapshot
    lines = [f"预警对象：{_subject(s)}（{SUBJECT_ZH.get(s['subject_type'], s['subject_type'])}）"]
    if district_name or s["district_code"]:
        lines.append(f"所在区域：{district_name or s['district_code']}")
    if s["detail"]:
        lines.append(f"情况：{s['detail']}")
    if s["kind"] == "incident":
        lines.append(f"{VALUE_ZH['incident']}：{_level(s['value'])}")
    else:
        lines.append(f"{VALUE_ZH.get(s['kind'], '数值')}：当前 {_shown(s['value'])}，峰值 {_shown(s['peak'])}")
    state = f"预警状态：{STATE_ZH[s['state']]}"
    if s["department"]:
        state += f"，处置部门 {s['department']}{' ' + s['person'] if s['person'] else ''}"
    if int(s["escalations"]):
        state += f"，已向上级通报 {int(s['escalations'])} 次"
    lines.append(state)
    lines.append(f"首次触发 {_local(s['first_seen'], tz):%Y-%m-%d %H:%M}，"
                 f"最近触发 {_local(s['last_seen'], tz):%Y-%m-%d %H:%M}")
    return "\n".join(lines)


def district_polygons(geometry: dict) -> list[str]:
    """CAP polygons ("lat,lon lat,lon …", WGS-84, closed, at most 200 points) of each exterior ring of a GCJ-02
    GeoJSON Polygon or MultiPolygon."""
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    out = []
    for part in parts:
        ring = np.asarray(part[0], dtype=float)
        lon, lat, _, _ = to_wgs84_and_gcj02_many(ring[:, 0], ring[:, 1], np.full(len(ring), "GCJ02"))
        polygon, tolerance = shapely.Polygon(np.column_stack([lon, lat])), 0.0001
        while len(polygon.exterior.coords) > MAX_POLYGON_POINTS:
            polygon = shapely.Polygon(np.column_stack([lon, lat])).simplify(tolerance, preserve_topology=True)
            tolerance *= 1.25  # gently: keep as many of the 200 points as possible
        pairs = [f"{y:.5f},{x:.5f}" for x, y in polygon.exterior.coords]
        pairs = [p for i, p in enumerate(pairs) if i == 0 or p != pairs[i - 1]]  # rounding may repeat a point
        if pairs[0] != pairs[-1]:
            pairs.append(pairs[0])
        if len(pairs) >= 4:  # CAP: at least four points, the first and last the same
            out.append(" ".join(pairs))
    return out


# --- helpers ------------------------------------------------------------------------------------------------------

def _check(snapshot: Mapping) -> None:
    missing = [k for k in _NEEDED if k not in snapshot]
    if missing:
        raise ValueError(f"alert snapshot lacks {', '.join(missing)}")
    if snapshot["state"] not in STATES:
        raise ValueError(f"alert {snapshot['alert_id']}: state {snapshot['state']!r} is not one of {', '.join(STATES)}")
    if snapshot["severity"] not in SEVERITIES:
        raise ValueError(f"alert {snapshot['alert_id']}: severity {snapshot['severity']!r} is not one of "
                         f"{', '.join(SEVERITIES)}")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = _NOT_XML.sub("\ufffd", str(text))
    return element


def _epoch(t: dt.datetime) -> int:
    """Whole epoch seconds of a datetime; naive means UTC (the warehouse's DateTime('UTC'))."""
    if not isinstance(t, dt.datetime):
        raise TypeError(f"expected a datetime, got {t!r}")
    return math.floor((t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp())


def _local(t: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(_epoch(t), tz)


def _cap_time(t: dt.datetime, tz: ZoneInfo) -> str:
    """CAP's dateTime: seconds, a numeric offset, UTC written -00:00 (never Z or +00:00)."""
    text = _local(t, tz).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def _district(snapshot: Mapping, boundaries: dict | None) -> tuple[str, str, dict] | None:
    """(adcode, name, GeoJSON geometry) of the alert's district in ``boundaries``, or None."""
    code = snapshot["district_code"]
    if not code or not boundaries:
        return None
    for feature in boundaries["features"]:
        if feature["properties"]["adcode"] == code:
            return code, feature["properties"]["name"], feature["geometry"]
    return None


def _subject(snapshot: Mapping) -> str:
    name, ident = snapshot["subject_name"], snapshot["subject_id"]
    if snapshot["subject_type"] == "incident":
        name = EMERGENCY_TYPE_ZH.get(name, name)
    return f"{name} {ident}" if name and name != ident else ident


def _number(value) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _shown(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:.3f}".rstrip("0").rstrip(".")


def _level(value) -> str:
    """An incident alert's value is its grade as a number (Ⅰ = 1)."""
    number = _number(value)
    if number is None or not number.is_integer() or not 1 <= number <= len(LEVELS):
        return _shown(value)
    return LEVEL_ZH[LEVELS[int(number) - 1]]


def _wgs84_point(snapshot: Mapping) -> tuple[float, float] | None:
    lon, lat = _number(snapshot["lon"]), _number(snapshot["lat"])
    return None if lon is None or lat is None else gcj02_to_wgs84(lon, lat)


def _circle(snapshot: Mapping) -> str | None:
    point = _wgs84_point(snapshot)
    return None if point is None else f"{point[1]:.5f},{point[0]:.5f} {CIRCLE_KM:g}"
