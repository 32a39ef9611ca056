"""Kafka record → warehouse row, or → rejects row with a reason code. Never raises on bad input.

msgspec decodes and validates in one pass against the Structs of :mod:`domain.contract` (chosen for speed:
it is a C extension that validates while parsing). Reason codes:
``oversized``, ``not_utf8``, ``not_json``, ``not_object``, ``unknown_schema``, ``missing_field``,
``bad_type``, ``bad_value`` (not one of the allowed values), ``out_of_range`` (time, location, limits),
``unknown_station`` (a sensor not in config/stations.yaml: kept, replayable once registered), and
``decode_error`` should the decoder itself fail (kept for replay after a fix, never a crash).

Rows are lists in the order of :data:`COLUMNS`, built without naming each value so that a batch goes to the
warehouse by one transposition (names cost a dict per event, and a lookup per value to take it apart
again): an event row is its family's fields, then its Kafka position, then its place, appended last because
places are resolved per batch. :meth:`Decoder.decode_batch` names them for readers.
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

from domain.aqi import POLLUTANTS, daily_aqi, hourly_aqi
from domain.contract import (
    ECOLOGY_METRICS,
    FIELDS,
    SCHEMAS,
    STRICT_DECODER,
    WATER_METRICS,
    EcologyV1,
    EmergencyV1,
    Envelope,
    HotlineV1,
    Location,
    WaterV1,
)
from domain.coords import to_wgs84_and_gcj02_many
from domain.districts import DistrictIndex
from domain.stations import Registry, Station
from domain.water_quality import ITEMS, sample_class
from streams.kafka_io import Record
from warehouse.migrations import H3_RESOLUTION

BBOX_MARGIN_DEG = 0.5  # ~50 km around the city's districts

_POSITION = ["extra", "topic", "partition", "offset", "ingested_at"]
_PLACE = ["district_code", "lon", "lat", "map_lon", "map_lat"]
COLUMNS = {
    "hotline_events": ["event_id", "order_id", "ts", "status", "category", "subcategory", "channel", "urgency",
                       "department", "deadline", "content", "satisfaction", "resolved", *_POSITION, *_PLACE, "h3"],
    "emergency_events": ["event_id", "incident_id", "ts", "type", "level", "status", "casualties", "units",
                         "description", *_POSITION, *_PLACE, "h3"],
    "water_readings": ["event_id", "station_id", "station_type", "ts", "interval_s", *WATER_METRICS, "water_class",
                       "state", *_POSITION, *_PLACE],
    "ecology_readings": ["event_id", "station_id", "station_type", "ts", "averaging", *ECOLOGY_METRICS, "aqi",
                         "aqi_level", "primary_pollutants", "aqi_edition", "particulates_from_hourly", *_POSITION,
                         *_PLACE],
    "rejects": ["topic", "partition", "offset", "key", "raw", "reason", "detail", "received_at"],
    "ingest_stats": ["ts", "consumer", "group_id", "topic", "partition", "seconds", "rows", "rejects", "rows_per_s",
                     "rejects_per_s", "committed", "high_watermark", "lag", "newest_event"],
}


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
        self._cell = {table for table, names in COLUMNS.items() if "h3" in names}

    def decode(self, record: Record) -> tuple[str, dict[str, Any]]:
        """``(table, row)`` for a valid event (``hotline_events``, ``emergency_events``, ``water_readings``,
        ``ecology_readings``), ``("rejects", row)`` otherwise."""
        return self.decode_batch([record])[0]

    def decode_batch(self, records: list[Record]) -> list[tuple[str, dict[str, Any]]]:
        """:meth:`decode` of each record."""
        return [(table, dict(zip(COLUMNS[table], row))) for table, row in self.decode_rows(records)]

    def decode_rows(self, records: list[Record]) -> list[tuple[str, list]]:
        """:meth:`decode_batch` with rows as lists in the order of :data:`COLUMNS`. Coordinates and districts
        are resolved for the whole batch at once (numpy and one STRtree query): per record they would cost half
        the decoding time."""
        now = self.clock()
        ingested_at = _utc(now)
        places = _Places()
        out = []
        for record in records:
            try:
                out.append(self._decode(record, now, ingested_at, places))
            except Rejected as r:
                out.append(("rejects", self._reject_row(record, r.reason, r.detail, now)))
            except Exception as e:  # a decoder bug must not stop ingest: keep the message as a reject to replay
                out.append(("rejects", self._reject_row(record, "decode_error", f"{type(e).__name__}: {e}", now)))
        places.resolve(self.districts)
        return [(table, tuple(row)) for table, row in out]  # tuples of plain values: the GC stops tracking them

    def _reject_row(self, record: Record, reason: str, detail: str, now: float) -> list:
        raw = (record.value or b"")[: self.limits.reject_raw_bytes]
        return [record.topic, record.partition, record.offset,
                (record.key or b"").decode("utf-8", "backslashreplace")[:256],
                raw.decode("utf-8", "backslashreplace"), reason, detail[:1000], _utc(now)]

    def _decode(self, record: Record, now: float, ingested_at: dt.datetime, places: "_Places") -> tuple[str, list]:
        raw = record.value
        if not raw:
            raise Rejected("not_json", "empty message")
        if len(raw) > self.limits.max_message_bytes:
            raise Rejected("oversized", f"{len(raw)} bytes > limit {self.limits.max_message_bytes}")
        try:
            event, extra = STRICT_DECODER.decode(raw), ""
        except (msgspec.DecodeError, UnicodeDecodeError):
            event, extra = self._explain(raw)
        table, build = self._rows[event.__struct_config__.tag]
        row, location, district_code = build(event, now)
        row += (extra, record.topic, record.partition, record.offset, ingested_at)
        return table, self._place(location, district_code, row, places, table in self._cell)

    def _explain(self, raw: bytes) -> tuple[Envelope, str]:
        """The slow path: the event and its unknown fields as JSON text, or the reason it is rejected."""
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
        extra = {k: v for k, v in obj.items() if k not in known}
        return event, msgspec.json.encode(extra).decode() if extra else ""

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
        seconds = moment.timestamp()
        if seconds > now + self.limits.max_future_minutes * 60:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is in the future")
        if seconds < now - self.limits.max_past_days * 86400:
            raise Rejected("out_of_range", f"ts {moment.isoformat()} is older than {self.limits.max_past_days} days")
        return moment

    def _place(self, loc: Location | None, district_code: str | None, row: list, places: "_Places",
               cell: bool) -> list:
        """Append the row's place, or queue the row for it if it has a location (``cell``: its table has the
        H3 column). The city's bounding box is checked here, in the event's own CRS: the CRSs differ by under
        0.01°, far inside the box's margin."""
        code = district_code if district_code in self._known else ""
        if loc is not None:
            lon0, lat0, lon1, lat1 = self.bbox
            if not (lon0 <= loc.lon <= lon1 and lat0 <= loc.lat <= lat1):
                raise Rejected("out_of_range", f"location ({loc.lon}, {loc.lat}) is outside the city")
            places.add(row, code, loc.lon, loc.lat, loc.crs or self.default_crs, cell)
        else:
            row += (code, None, None, None, None, 0) if cell else (code, None, None, None, None)
        return row

    # The builders: (the family's fields, location, district code) of an event, checks in the order of the fields.

    def _hotline_row(self, e: HotlineV1, now: float) -> tuple[list, Location | None, str | None]:
        return [e.event_id, e.order_id, self._event_time(e.ts, now), e.status, e.category, e.subcategory, e.channel,
                e.urgency, e.department, None if e.deadline is None else self._time(e.deadline, "deadline"),
                e.content, e.satisfaction, None if e.resolved is None else int(e.resolved)], e.location, e.district_code

    def _emergency_row(self, e: EmergencyV1, now: float) -> tuple[list, Location | None, str | None]:
        return [e.event_id, e.incident_id, self._event_time(e.ts, now), e.type, e.level or "", e.status, e.casualties,
                list(e.units), e.description], e.location, e.district_code

    def _station(self, e) -> Station:
        """The registry's station named by a sensor message; unknown or mismatched → rejected."""
        station = self.stations.get(e.station_id)
        if station is None:
            raise Rejected("unknown_station", f"station {e.station_id!r} is not in the station registry")
        if station.type != e.station_type:
            raise Rejected("bad_value", f"station {e.station_id} is a {station.type}, not a {e.station_type}")
        return station

    @staticmethod
    def _sensor_place(e, station: Station) -> tuple[Location, str | None]:
        """A sensor's place: the message's own if it has one, else the registry's."""
        if e.location is None:
            return Location(station.lon, station.lat, "GCJ02"), e.district_code or station.district_code
        return e.location, e.district_code

    def _water_row(self, e: WaterV1, now: float) -> tuple[list, Location, str | None]:
        ts = self._event_time(e.ts, now)
        station = self._station(e)
        readings = msgspec.structs.asdict(e.readings)
        return [e.event_id, e.station_id, e.station_type, ts, e.interval_s, *(readings[m] for m in WATER_METRICS),
                water_class(station, readings), water_state(station, readings)], *self._sensor_place(e, station)

    def _ecology_row(self, e: EcologyV1, now: float) -> tuple[list, Location, str | None]:
        ts = self._event_time(e.ts, now)
        station = self._station(e)
        readings = msgspec.structs.asdict(e.readings)
        pollutants = {k: v for k, v in readings.items() if k in POLLUTANTS and v is not None}
        result = (hourly_aqi if e.averaging == "1h" else daily_aqi)(pollutants, ts)
        return [e.event_id, e.station_id, e.station_type, ts, e.averaging, *(readings[m] for m in ECOLOGY_METRICS),
                result.aqi, result.level or 0, list(result.primary), result.edition if pollutants else "",
                int(result.particulates_from_hourly)], *self._sensor_place(e, station)


class _Places:
    """Rows waiting for their district (where the event named none), coordinates (WGS-84 and GCJ-02) and, in
    the tables that have one, H3 cell (of the WGS-84 point)."""

    def __init__(self):
        self.rows: list[list] = []
        self.codes: list[str] = []
        self.points: list[tuple[float, float]] = []
        self.crs: list[str] = []
        self.cells: list[bool] = []

    def add(self, row: list, code: str, lon: float, lat: float, crs: str, cell: bool) -> None:
        self.rows.append(row)
        self.codes.append(code)
        self.points.append((lon, lat))
        self.crs.append(crs)
        self.cells.append(cell)

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
        for row, code, x, y, map_x, map_y, cell in zip(self.rows, self.codes, wlon.tolist(), wlat.tolist(),
                                                       glon.tolist(), glat.tolist(), self.cells):
            row += (code, x, y, map_x, map_y)
            if cell:
                row.append(latlng_to_cell(y, x, H3_RESOLUTION))


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
