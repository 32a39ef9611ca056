"""Kafka record → warehouse row, or → rejects row with a reason code. Never raises on bad input.

msgspec decodes and validates in one pass against the Structs of :mod:`streams.contract` (chosen for speed:
it is a C extension that validates while parsing). Reason codes:
``oversized``, ``not_utf8``, ``not_json``, ``not_object``, ``unknown_schema``, ``missing_field``,
``bad_type``, ``bad_value`` (not one of the allowed values), ``out_of_range`` (time, location, limits),
``unknown_station`` (a sensor not in config/stations.yaml: kept, replayable once registered), and
``decode_error`` should the decoder itself fail (kept for replay after a fix, never a crash).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
from h3.api.basic_int import latlng_to_cell

from streams.aqi import POLLUTANTS, daily_aqi, hourly_aqi
from streams.contract import (FIELDS, SCHEMAS, STRICT_DECODER, EcologyV1, EmergencyV1, Envelope, HotlineV1, Location,
                              WaterV1)
from streams.coords import to_wgs84_and_gcj02_many
from streams.districts import DistrictIndex
from streams.stations import Registry, Station
from streams.water_quality import ITEMS, sample_class
from streams.kafka_io import Record
from warehouse.migrations import H3_RESOLUTION

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
    if text.startswith("Invalid enum value") or "matching regex" in text or "unknown field" in text:
        return Rejected("bad_value", text)
    return Rejected("out_of_range", text)


class Decoder:
    """Validates and normalises one record at a time; configured once per ingest process."""

    def __init__(self, districts: DistrictIndex, *, stations: Registry | None = None, timezone: str = "Asia/Shanghai",
                 default_crs: str = "GCJ02", limits: Limits = Limits(), clock: Callable[[], float] = time.time):
        self.districts = districts
        self.stations = stations if stations is not None else Registry([])
        self.tz = ZoneInfo(timezone)
        self.default_crs = default_crs
        self.limits = limits
        self.clock = clock
        lon0, lat0, lon1, lat1 = districts.bounds()
        m = BBOX_MARGIN_DEG
        self.bbox = (lon0 - m, lat0 - m, lon1 + m, lat1 + m)
        self._known = set(districts.codes)
        self._rows = {"hotline.v1": ("hotline_events", self._hotline_row),
                      "emergency.v1": ("emergency_events", self._emergency_row),
                      "water.v1": ("water_readings", self._water_row),
                      "ecology.v1": ("ecology_readings", self._ecology_row)}

    def decode(self, record: Record) -> tuple[str, dict[str, Any]]:
        """``(table, row)`` for a valid event (``hotline_events``, ``emergency_events``, ``water_readings``,
        ``ecology_readings``), ``("rejects", row)`` otherwise."""
        return self.decode_batch([record])[0]

    def decode_batch(self, records: list[Record]) -> list[tuple[str, dict[str, Any]]]:
        """:meth:`decode` of each record. Coordinates and districts are resolved for the whole batch at once
        (numpy and one STRtree query): per record they would cost half the decoding time."""
        now = self.clock()
        ingested_at = _utc(now)
        places = _Places()
        out = []
        for record in records:
            try:
                out.append(self._decode(record, now, ingested_at, places))
            except Rejected as r:
                out.append(("rejects", self.reject_row(record, r.reason, r.detail, now)))
            except Exception as e:  # a decoder bug must not stop ingest: keep the message as a reject to replay
                out.append(("rejects", self.reject_row(record, "decode_error", f"{type(e).__name__}: {e}", now)))
        places.resolve(self.districts)
        return out

    def reject_row(self, record: Record, reason: str, detail: str, now: float | None = None) -> dict[str, Any]:
        raw = (record.value or b"")[: self.limits.reject_raw_bytes]
        return {"topic": record.topic, "partition": record.partition, "offset": record.offset,
                "key": (record.key or b"").decode("utf-8", "backslashreplace")[:256],
                "raw": raw.decode("utf-8", "backslashreplace"), "reason": reason, "detail": detail[:1000],
                "received_at": _utc(self.clock() if now is None else now)}

    def _decode(self, record: Record, now: float, ingested_at: dt.datetime,
                places: "_Places") -> tuple[str, dict[str, Any]]:
        raw = record.value
        if not raw:
            raise Rejected("not_json", "empty message")
        if len(raw) > self.limits.max_message_bytes:
            raise Rejected("oversized", f"{len(raw)} bytes > limit {self.limits.max_message_bytes}")
        try:
            event, extra = STRICT_DECODER.decode(raw), {}
        except (msgspec.DecodeError, UnicodeDecodeError):
            event, extra = self._explain(raw)
        table, build = self._rows[event.__struct_config__.tag]
        return table, build(event, self._common(event, record, extra, now, ingested_at), places)

    def _explain(self, raw: bytes) -> tuple[Envelope, dict[str, Any]]:
        """The slow path: the event and its unknown fields, or the reason it is rejected."""
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
        known = FIELDS[schema]
        return event, {k: v for k, v in obj.items() if k not in known}

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

    def _event_time(self, value: str | int, now: float) -> dt.datetime:
        moment = self._time(value, "ts")
        if moment.timestamp() > now + self.limits.max_future_minutes * 60:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is in the future")
        if moment.timestamp() < now - self.limits.max_past_days * 86400:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is older than {self.limits.max_past_days} days")
        return moment

    def _place(self, loc: Location | None, district_code: str | None, row: dict[str, Any],
               places: "_Places") -> dict[str, Any]:
        """Queue the row for its district and coordinates. The city's bounding box is checked here, in the
        event's own CRS: the CRSs differ by under 0.01°, far inside the box's margin."""
        code = district_code if district_code in self._known else ""
        if loc is not None:
            lon0, lat0, lon1, lat1 = self.bbox
            if not (lon0 <= loc.lon <= lon1 and lat0 <= loc.lat <= lat1):
                raise Rejected("out_of_range", f"location ({loc.lon}, {loc.lat}) is outside the city")
            places.add(row, code, loc.lon, loc.lat, loc.crs or self.default_crs)
        else:
            row.update(district_code=code, lon=None, lat=None, map_lon=None, map_lat=None, h3=0)
        return row

    def _common(self, e, record: Record, extra: dict, now: float, ingested_at: dt.datetime) -> dict[str, Any]:
        """The columns every event table has: id, time, unknown fields, Kafka position."""
        return {"event_id": e.event_id, "ts": self._event_time(e.ts, now),
                "extra": msgspec.json.encode(extra).decode() if extra else "",
                "topic": record.topic, "partition": record.partition, "offset": record.offset,
                "ingested_at": ingested_at}

    def _hotline_row(self, e: HotlineV1, row: dict[str, Any], places: "_Places") -> dict[str, Any]:
        row.update(order_id=e.order_id, status=e.status, category=e.category, subcategory=e.subcategory,
                   channel=e.channel, urgency=e.urgency, department=e.department,
                   deadline=self._time(e.deadline, "deadline") if e.deadline is not None else None,
                   content=e.content, satisfaction=e.satisfaction,
                   resolved=None if e.resolved is None else int(e.resolved))
        return self._place(e.location, e.district_code, row, places)

    def _emergency_row(self, e: EmergencyV1, row: dict[str, Any], places: "_Places") -> dict[str, Any]:
        row.update(incident_id=e.incident_id, type=e.type, level=e.level or "", status=e.status,
                   casualties=e.casualties, units=list(e.units), description=e.description)
        return self._place(e.location, e.district_code, row, places)

    def _station(self, e) -> Station:
        """The registry's station named by a sensor message; unknown or mismatched → rejected."""
        station = self.stations.get(e.station_id)
        if station is None:
            raise Rejected("unknown_station", f"station {e.station_id!r} is not in the station registry")
        if station.type != e.station_type:
            raise Rejected("bad_value", f"station {e.station_id} is a {station.type}, not a {e.station_type}")
        return station

    def _sensor_place(self, e, station: Station, row: dict[str, Any], places: "_Places") -> dict[str, Any]:
        """A sensor's place: the message's own if it has one, else the registry's."""
        if e.location is None:
            return self._place(Location(station.lon, station.lat, "GCJ02"), e.district_code or station.district_code,
                               row, places)
        return self._place(e.location, e.district_code, row, places)

    def _water_row(self, e: WaterV1, row: dict[str, Any], places: "_Places") -> dict[str, Any]:
        station = self._station(e)
        readings = msgspec.structs.asdict(e.readings)
        row.update(station_id=e.station_id, station_type=e.station_type, interval_s=e.interval_s, **readings,
                   water_class=water_class(station, readings), state=water_state(station, readings))
        return self._sensor_place(e, station, row, places)

    def _ecology_row(self, e: EcologyV1, row: dict[str, Any], places: "_Places") -> dict[str, Any]:
        station = self._station(e)
        readings = msgspec.structs.asdict(e.readings)
        pollutants = {k: v for k, v in readings.items() if k in POLLUTANTS and v is not None}
        result = (hourly_aqi if e.averaging == "1h" else daily_aqi)(pollutants, row["ts"])
        row.update(station_id=e.station_id, station_type=e.station_type, averaging=e.averaging, **readings,
                   aqi=result.aqi, aqi_level=result.level or 0, primary_pollutants=list(result.primary),
                   aqi_edition=result.edition if pollutants else "",
                   particulates_from_hourly=int(result.particulates_from_hourly))
        return self._sensor_place(e, station, row, places)


class _Places:
    """Rows waiting for their coordinates (WGS-84 and GCJ-02), their H3 cell (of the WGS-84 point) and, where the
    event named none, their district."""

    def __init__(self):
        self.rows: list[dict[str, Any]] = []
        self.codes: list[str] = []
        self.points: list[tuple[float, float]] = []
        self.crs: list[str] = []

    def add(self, row: dict[str, Any], code: str, lon: float, lat: float, crs: str) -> None:
        self.rows.append(row)
        self.codes.append(code)
        self.points.append((lon, lat))
        self.crs.append(crs)

    def resolve(self, districts: DistrictIndex) -> None:
        if not self.rows:
            return
        lon, lat = np.array(self.points).T
        crs = np.array(self.crs, dtype=object) if len(set(self.crs)) > 1 else np.full(len(lon), self.crs[0])
        wlon, wlat, glon, glat = to_wgs84_and_gcj02_many(lon, lat, crs)
        missing = [i for i, code in enumerate(self.codes) if not code]
        if missing:
            for i, code in zip(missing, districts.locate_many(glon[missing], glat[missing])):
                self.codes[i] = code
        for row, code, x, y, map_x, map_y in zip(self.rows, self.codes, wlon.tolist(), wlat.tolist(), glon.tolist(),
                                                 glat.tolist()):
            row["district_code"], row["lon"], row["lat"], row["map_lon"], row["map_lat"] = code, x, y, map_x, map_y
            row["h3"] = latlng_to_cell(y, x, H3_RESOLUTION)


def water_class(station: Station, readings: dict[str, float | None]) -> int:
    """GB 3838-2002 class 1–6 (6 = 劣Ⅴ) of a water-quality reading; 0 when nothing gradable was measured."""
    measured = {k: v for k, v in readings.items() if v is not None and k in ITEMS}
    if station.type != "water_quality" or not measured:
        return 0
    return sample_class(measured, station.attrs.get("waterbody", "river")).grade


def water_state(station: Station, readings: dict[str, float | None]) -> str:
    """A reading against its station's thresholds: river level against 警戒/保证水位, ponding and pipe pressure
    against their alarms; '' when the station type has no threshold or the value is missing."""
    a = station.attrs
    if station.type == "river_gauge" and readings["water_level_m"] is not None:
        level = readings["water_level_m"]
        return ("over_guarantee" if level >= a["guarantee_level_m"] else
                "over_warning" if level >= a["warning_level_m"] else "normal")
    if station.type == "waterlogging" and readings["ponding_depth_cm"] is not None:
        return "over_alarm" if readings["ponding_depth_cm"] >= a["ponding_alarm_cm"] else "normal"
    if station.type == "pipe_pressure" and readings["pressure_mpa"] is not None:
        return "low" if readings["pressure_mpa"] < a["low_pressure_mpa"] else "normal"
    return ""


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)
