"""Event contract v1: what producers put on Kafka (the full text is docs/EVENTS.md).

One UTF-8 JSON object per message; the key is the entity id. Every family shares the envelope
(``event_id``, ``schema``, ``ts``, optional ``district_code`` and ``location``); unknown extra fields are kept
(stored as JSON in ``extra``), never rejected. These msgspec Structs are the single definition of the
types and ranges; they are validated once, at the edge, by :mod:`ingest.decode`.

The Structs are ``gc=False``: a decoded event holds strings, numbers and other Structs, never a cycle, so the
garbage collector need not track the 50,000 a second that ingest makes (measured: ~20 % of the ingest rate).
"""
from __future__ import annotations

import datetime as dt
import types
from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Text = Annotated[str, Meta(max_length=8192)]
Short = Annotated[str, Meta(max_length=128)]
Adcode = Annotated[str, Meta(pattern=r"^\d{6}$")]

HOTLINE_STATUS = ("received", "dispatched", "accepted", "processing", "completed", "visited", "reopened")
HOTLINE_STATUS_ZH = {"received": "受理", "dispatched": "派单", "accepted": "签收", "processing": "办理中",
                     "completed": "办结", "visited": "回访", "reopened": "重办"}
EMERGENCY_TYPE_ZH = {"fire": "火灾", "traffic": "交通事故", "flood": "洪涝", "waterlogging": "城市内涝",
                     "landslide": "山体滑坡", "hazmat": "危化品事故", "public_health": "公共卫生",
                     "crowd": "人员聚集", "power_outage": "停电", "other": "其他"}
EMERGENCY_STATUS_ZH = {"reported": "接报", "dispatched": "已调度", "on_scene": "现场处置", "contained": "已控制",
                       "closed": "已结案"}
LEVEL_GRADE_ZH = {"I": "Ⅰ级", "II": "Ⅱ级", "III": "Ⅲ级", "IV": "Ⅳ级"}  # 突发事件应对法's grades
LEVEL_NAME_ZH = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
LEVEL_ZH = {g: f"{LEVEL_GRADE_ZH[g]} {LEVEL_NAME_ZH[g]}" for g in LEVEL_GRADE_ZH}  # "Ⅰ级 特别重大"
HOTLINE_CATEGORIES = ("城市管理", "环境保护", "交通出行", "住房建设", "市场监管", "劳动社保", "公共安全",
                      "教育医疗", "水电气", "其他")


class Location(msgspec.Struct, gc=False):  # extra keys (e.g. altitude) are tolerated
    lon: Annotated[float, Meta(ge=-180, le=180)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    crs: Literal["WGS84", "GCJ02", "BD09"] | None = None


class Envelope(msgspec.Struct, tag_field="schema", gc=False):
    """The shared fields; ``schema`` is the tag that names the family (each subclass's ``tag``)."""

    event_id: Id
    ts: str | int
    district_code: Adcode | None = None
    location: Location | None = None


class HotlineV1(Envelope, kw_only=True, tag="hotline.v1"):
    """hotline.v1 — one state transition of a 12345 work order (工单)."""

    order_id: Id
    status: Literal["received", "dispatched", "accepted", "processing", "completed", "visited", "reopened"]
    category: Short = ""
    subcategory: Short = ""
    channel: Literal["phone", "app", "web", "wechat", "mail", ""] = ""
    urgency: Literal["urgent", "normal"] = "normal"
    department: Short = ""
    deadline: str | int | None = None
    content: Text = ""
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied", ""] = ""
    resolved: bool | None = None


class EmergencyV1(Envelope, kw_only=True, tag="emergency.v1"):
    """emergency.v1 — one report or status change of an emergency incident (突发事件). The grade (I–IV) and a
    warning's colour are separate things: this carries the grade only."""

    incident_id: Id
    type: Literal[tuple(EMERGENCY_TYPE_ZH)]
    level: Literal[tuple(LEVEL_ZH)] | None = None
    status: Literal[tuple(EMERGENCY_STATUS_ZH)]
    casualties: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    units: Annotated[list[Short], Meta(max_length=200)] = []
    description: Text = ""


NonNegative = Annotated[float, Meta(ge=0)]


class WaterReadings(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    water_level_m: float | None = None  # may be below the datum
    rainfall_mm: NonNegative | None = None
    pressure_mpa: NonNegative | None = None
    ponding_depth_cm: NonNegative | None = None
    do_mg_l: NonNegative | None = None
    codmn_mg_l: NonNegative | None = None
    nh3n_mg_l: NonNegative | None = None
    tp_mg_l: NonNegative | None = None
    ph: Annotated[float, Meta(ge=0, le=14)] | None = None
    turbidity_ntu: NonNegative | None = None


class WaterV1(Envelope, kw_only=True, tag="water.v1"):
    """water.v1 — one reading of a water station (智慧水利 / 供排水); metadata from config/stations.yaml."""

    station_id: Id
    station_type: Literal["river_gauge", "rain_gauge", "pipe_pressure", "water_quality", "waterlogging"]
    readings: WaterReadings
    interval_s: Annotated[int, Meta(ge=1, le=86400)] = 300


class EcologyReadings(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    pm25: NonNegative | None = None
    pm10: NonNegative | None = None
    o3: NonNegative | None = None
    no2: NonNegative | None = None
    so2: NonNegative | None = None
    co: NonNegative | None = None
    noise_db: Annotated[float, Meta(ge=0, le=200)] | None = None


class EcologyV1(Envelope, kw_only=True, tag="ecology.v1"):
    """ecology.v1 — one reading of an air or noise station (智慧生态)."""

    station_id: Id
    station_type: Literal["air", "noise"]
    readings: EcologyReadings
    averaging: Literal["1h", "24h"] = "1h"


SCHEMAS: dict[str, type[Envelope]] = {t.__struct_config__.tag: t for t in (HotlineV1, EmergencyV1, WaterV1, EcologyV1)}
FIELDS: dict[str, frozenset[str]] = {name: frozenset(t.__struct_fields__) | {"schema"} for name, t in SCHEMAS.items()}

# the readings' columns in the warehouse, in the contract's order
WATER_METRICS = WaterReadings.__struct_fields__
ECOLOGY_METRICS = EcologyReadings.__struct_fields__

# The fast path: one C pass from bytes to a validated Struct, for messages with no unknown field (nearly all).
# A message it refuses is decoded again the slow way, which keeps unknown fields and names the reason.
STRICT = {name: types.new_class(f"Strict{t.__name__}", (t,), {"forbid_unknown_fields": True})
          for name, t in SCHEMAS.items()}
STRICT_DECODER = msgspec.json.Decoder(Union[tuple(STRICT.values())])


def event_time(event: dict) -> float:
    """The event time (``ts``) of a contract event as a Unix timestamp."""
    return dt.datetime.fromisoformat(event["ts"]).timestamp()
