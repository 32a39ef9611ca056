"""Event contract v1: what producers put on Kafka (the full text is docs/EVENTS.md).

One UTF-8 JSON object per message; the key is the entity id. Every family shares the envelope
(``event_id``, ``schema``, ``ts``, optional ``district_code`` and ``location``); unknown extra fields are kept
(stored as JSON in ``extra``), never rejected. These msgspec Structs are the single definition of the
types and ranges; they are validated once, at the edge, by :mod:`streams.decode`.
"""
from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Text = Annotated[str, Meta(max_length=8192)]
Short = Annotated[str, Meta(max_length=128)]
Adcode = Annotated[str, Meta(pattern=r"^\d{6}$")]

HOTLINE_STATUS = ("received", "dispatched", "accepted", "processing", "completed", "visited", "reopened")
HOTLINE_STATUS_ZH = {"received": "受理", "dispatched": "派单", "accepted": "签收", "processing": "办理中",
                     "completed": "办结", "visited": "回访", "reopened": "重办"}
HOTLINE_CATEGORIES = ("城市管理", "环境保护", "交通出行", "住房建设", "市场监管", "劳动社保", "公共安全",
                      "教育医疗", "水电气", "其他")


class Location(msgspec.Struct):  # extra keys (e.g. altitude) are tolerated
    lon: Annotated[float, Meta(ge=-180, le=180)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    crs: Literal["WGS84", "GCJ02", "BD09"] | None = None


class Envelope(msgspec.Struct):
    event_id: Id
    schema: str
    ts: str | int
    district_code: Adcode | None = None
    location: Location | None = None


class HotlineV1(Envelope, kw_only=True):
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


SCHEMAS: dict[str, type[Envelope]] = {"hotline.v1": HotlineV1}
FIELDS: dict[str, frozenset[str]] = {name: frozenset(t.__struct_fields__) for name, t in SCHEMAS.items()}
