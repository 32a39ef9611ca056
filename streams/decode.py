"""Kafka record → warehouse row, or → rejects row with a reason code. Never raises on bad input.

msgspec decodes and validates in one pass against the Structs of :mod:`streams.contract` (chosen for speed:
it is a C extension that validates while parsing). Reason codes:
``oversized``, ``not_utf8``, ``not_json``, ``not_object``, ``unknown_schema``, ``missing_field``,
``bad_type``, ``bad_value`` (not one of the allowed values), ``out_of_range`` (time, location, limits), and
``decode_error`` should the decoder itself fail (kept for replay after a fix, never a crash).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable
from zoneinfo import ZoneInfo

import msgspec

from streams.contract import FIELDS, SCHEMAS, HotlineV1
from streams.coords import to_wgs84_and_gcj02
from streams.districts import DistrictIndex
from streams.kafka_io import Record

BBOX_MARGIN_DEG = 0.5  # ~50 km around the city's districts


class Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 65536
    reject_raw_bytes: int = 4096
    max_past_days: int = 400
    max_future_minutes: int = 10


def _classify(error: msgspec.ValidationError) -> Rejected:
    text = str(error)
    if text.startswith("Object missing required field"):
        return Rejected("missing_field", text)
    if text.startswith("Expected `") and "`, got `" in text:
        return Rejected("bad_type", text)
    if text.startswith("Invalid enum value") or "matching regex" in text:
        return Rejected("bad_value", text)
    return Rejected("out_of_range", text)


class Decoder:
    """Validates and normalises one record at a time; configured once per ingest process."""

    def __init__(self, districts: DistrictIndex, *, timezone: str = "Asia/Shanghai", default_crs: str = "GCJ02",
                 limits: Limits = Limits(), clock: Callable[[], float] = time.time):
        self.districts = districts
        self.tz = ZoneInfo(timezone)
        self.default_crs = default_crs
        self.limits = limits
        self.clock = clock
        lon0, lat0, lon1, lat1 = districts.bounds()
        m = BBOX_MARGIN_DEG
        self.bbox = (lon0 - m, lat0 - m, lon1 + m, lat1 + m)
        self._known = set(districts.codes)

    def decode(self, record: Record) -> tuple[str, dict[str, Any]]:
        """``("hotline_events", row)`` for a valid event, ``("rejects", row)`` otherwise."""
        try:
            return self._decode(record)
        except Rejected as r:
            return "rejects", self.reject_row(record, r.reason, r.detail)
        except Exception as e:  # a decoder bug must not stop ingest: keep the message as a reject to replay
            return "rejects", self.reject_row(record, "decode_error", f"{type(e).__name__}: {e}")

    def reject_row(self, record: Record, reason: str, detail: str) -> dict[str, Any]:
        raw = (record.value or b"")[: self.limits.reject_raw_bytes]
        return {"topic": record.topic, "partition": record.partition, "offset": record.offset,
                "key": (record.key or b"").decode("utf-8", "backslashreplace")[:256],
                "raw": raw.decode("utf-8", "backslashreplace"), "reason": reason, "detail": detail[:1000],
                "received_at": _utc(self.clock())}

    def _decode(self, record: Record) -> tuple[str, dict[str, Any]]:
        raw = record.value
        if not raw:
            raise Rejected("not_json", "empty message")
        if len(raw) > self.limits.max_message_bytes:
            raise Rejected("oversized", f"{len(raw)} bytes > limit {self.limits.max_message_bytes}")
        try:
            obj = msgspec.json.decode(raw)
        except UnicodeDecodeError as u:  # invalid UTF-8 inside a JSON string
            raise Rejected("not_utf8", f"invalid UTF-8 at byte {u.start}") from None
        except msgspec.DecodeError as e:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as u:
                raise Rejected("not_utf8", f"invalid UTF-8 at byte {u.start}") from None
            raise Rejected("not_json", str(e)) from None
        if not isinstance(obj, dict):
            raise Rejected("not_object", f"a JSON {type(obj).__name__}, not an object")
        schema = obj.get("schema")
        if schema is None:
            raise Rejected("missing_field", "Object missing required field `schema`")
        if not isinstance(schema, str) or schema not in SCHEMAS:
            raise Rejected("unknown_schema", f"unknown schema {str(schema)[:64]!r}; known: {', '.join(SCHEMAS)}")
        try:
            event = msgspec.convert(obj, SCHEMAS[schema])
        except msgspec.ValidationError as e:
            raise _classify(e) from None
        extra = {k: v for k, v in obj.items() if k not in FIELDS[schema]}
        return "hotline_events", self._hotline_row(event, record, extra)

    def _time(self, value: str | int, field: str) -> dt.datetime:
        if isinstance(value, int):
            try:
                moment = dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)
            except (OverflowError, OSError, ValueError):
                raise Rejected("out_of_range", f"{field} {value} is not a plausible epoch in milliseconds") from None
        else:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                raise Rejected("bad_type", f"{field} {value[:40]!r} is not an ISO-8601 time") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
        try:
            return moment.astimezone(dt.timezone.utc)
        except OverflowError:
            raise Rejected("out_of_range", f"{field} {value!r} is outside the calendar") from None

    def _event_time(self, value: str | int) -> dt.datetime:
        moment = self._time(value, "ts")
        now = self.clock()
        if moment.timestamp() > now + self.limits.max_future_minutes * 60:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is in the future")
        if moment.timestamp() < now - self.limits.max_past_days * 86400:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is older than {self.limits.max_past_days} days")
        return moment

    def _place(self, event) -> tuple[str, tuple[float | None, ...]]:
        """District code and (wgs lon, wgs lat, map lon, map lat) of an event."""
        coords: tuple[float | None, ...] = (None, None, None, None)
        if event.location is not None:
            loc = event.location
            coords = to_wgs84_and_gcj02(loc.lon, loc.lat, loc.crs or self.default_crs)
            lon0, lat0, lon1, lat1 = self.bbox
            if not (lon0 <= coords[2] <= lon1 and lat0 <= coords[3] <= lat1):
                raise Rejected("out_of_range", f"location ({loc.lon}, {loc.lat}) is outside the city")
        code = event.district_code if event.district_code in self._known else ""
        if not code and coords[2] is not None:
            code = self.districts.locate(coords[2], coords[3])
        return code, coords

    def _hotline_row(self, e: HotlineV1, record: Record, extra: dict) -> dict[str, Any]:
        ts = self._event_time(e.ts)
        code, (lon, lat, map_lon, map_lat) = self._place(e)
        return {
            "event_id": e.event_id, "order_id": e.order_id, "ts": ts, "status": e.status,
            "category": e.category, "subcategory": e.subcategory, "channel": e.channel, "urgency": e.urgency,
            "district_code": code, "lon": lon, "lat": lat, "map_lon": map_lon, "map_lat": map_lat,
            "department": e.department,
            "deadline": self._time(e.deadline, "deadline") if e.deadline is not None else None,
            "content": e.content, "satisfaction": e.satisfaction,
            "resolved": None if e.resolved is None else int(e.resolved),
            "extra": msgspec.json.encode(extra).decode() if extra else "",
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "ingested_at": _utc(self.clock()),
        }


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)
