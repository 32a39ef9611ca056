"""Bad messages for ``simulate --bad-ratio``: a valid contract event turned into what a faulty producer sends.

Each kind is one fault in an otherwise faithful copy of the event (same event_id, same fields), of a sort met
in real feeds — a message cut short, a Python float for the time, Java enum names, a clock reset, a GPS fix in
another city — and :mod:`ingest.decode` rejects it with the reason code ``REASON[kind]``. Variants (where to
cut, which field to drop) are drawn from the caller's ``random.Random``, so a seeded run sends the same bytes.
"""
from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any, Callable

import msgspec

from domain.contract import SCHEMAS, EcologyReadings, WaterReadings

DAY, YEAR = 86400, 365 * 86400
ALL, SENSORS = tuple(SCHEMAS), ("water.v1", "ecology.v1")
# The free-text field of the families that have one, and a plausible text for an event without it.
TEXT = {"hotline.v1": ("content", "市民来电反映：小区门口路灯损坏多日，夜间出行不便，请尽快维修。"),
        "emergency.v1": ("description", "现场情况待进一步核实，已通知属地街道办协助处置。")}
REQUIRED = {name: ("schema", *(f.encode_name for f in msgspec.structs.fields(t) if f.required))
            for name, t in SCHEMAS.items()}
ENUM = {"hotline.v1": "status", "emergency.v1": "status", "water.v1": "station_type", "ecology.v1": "station_type"}
# Tiananmen, Beijing, in each CRS: some 1,900 km from the demo city (Guangzhou).
BEIJING = {"WGS84": (116.3913, 39.9075), "GCJ02": (116.397541, 39.908901), "BD09": (116.403914, 39.915245)}
# Readings the contract bounds below by 0: all but the water level, which may lie below the gauge's datum.
NON_NEGATIVE = (set(WaterReadings.__struct_fields__) | set(EcologyReadings.__struct_fields__)) - {"water_level_m"}
_CUT = "\x00cut\x00"  # stands in for the free text until the event is encoded, then gives way to the cut bytes

Corruption = Callable[[dict, random.Random, int, float], Any]  # (copy of the event, r, size limit, now) → message


def _ts_like(ts: str | int, seconds: float) -> str | int:
    """``seconds`` written as the event wrote its time: epoch milliseconds, or ISO-8601 with the same offset."""
    if isinstance(ts, int):
        return int(seconds * 1000)
    return dt.datetime.fromtimestamp(seconds, dt.datetime.fromisoformat(ts).tzinfo).isoformat(timespec="seconds")


def _truncated(e: dict, r: random.Random, size: int, now: float) -> bytes:
    """Cut short at a character boundary (a full buffer, a killed producer), so it is still valid UTF-8."""
    text = msgspec.json.encode(e).decode()
    return text[:r.randrange(1, len(text))].encode()


def _not_object(e: dict, r: random.Random, size: int, now: float) -> list | str:
    """A batch of one in an array, or the event encoded twice (a JSON string)."""
    return r.choice(([e], msgspec.json.encode(e).decode()))


def _not_utf8(e: dict, r: random.Random, size: int, now: float) -> bytes:
    """The free text capped at a byte length by a producer that cuts a character in half."""
    field, filler = TEXT[e["schema"]]
    text = e.get(field) or ""
    if text.isascii():
        text += filler
    encoded = msgspec.json.encode(text)
    cut = r.choice([i for i, b in enumerate(encoded) if b >= 0xC0]) + 1  # just after a multibyte lead byte
    e[field] = _CUT
    return msgspec.json.encode(e).replace(msgspec.json.encode(_CUT), encoded[:cut] + b'"')


def _missing_field(e: dict, r: random.Random, size: int, now: float) -> dict:
    del e[r.choice(REQUIRED[e["schema"]])]
    return e


def _float_time(e: dict, r: random.Random, size: int, now: float) -> dict:
    """Epoch seconds as a float, as Python's time.time() gives them: the contract takes ISO or integer ms."""
    ts = e["ts"]
    e["ts"] = float(ts // 1000 if isinstance(ts, int) else int(dt.datetime.fromisoformat(ts).timestamp()))
    return e


def _enum_name(e: dict, r: random.Random, size: int, now: float) -> dict:
    """An enum sent as a Java enum's name ("RECEIVED", "AIR"): the contract's values are lower case."""
    field = ENUM[e["schema"]]
    e[field] = e[field].upper()
    return e


def _next_version(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A producer ahead of the contract: hotline.v1 → hotline.v2 … v9."""
    e["schema"] = f"{e['schema'].split('.')[0]}.v{r.randint(2, 9)}"
    return e


def _outside_city(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A GPS fix in Beijing; a sensor without a location of its own gets one from its gateway (WGS-84)."""
    location = e.get("location") or {"crs": "WGS84"}
    lon, lat = BEIJING[location.get("crs") or "GCJ02"]
    e["location"] = {**location, "lon": lon, "lat": lat}
    return e


def _negative_reading(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A sign error or a -999 "no data" sentinel. A river gauge's only reading may be negative: its rain gauge
    (水位雨量站) sends the bad value."""
    readings = e["readings"]
    name = r.choice([k for k in readings if k in NON_NEGATIVE] or ["rainfall_mm"])
    readings[name] = r.choice((-abs(readings.get(name, 0.0)) or -1.0, -999.0))
    return e


def _future_time(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A device clock days ahead."""
    e["ts"] = _ts_like(e["ts"], now + r.uniform(1, 30) * DAY)
    return e


def _past_time(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A device clock reset years back (ingest keeps 400 days by default)."""
    e["ts"] = _ts_like(e["ts"], now - r.uniform(2, 10) * YEAR)
    return e


def _oversized(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A complaint pasted again and again; a sensor gateway that sends its whole backlog along."""
    if e["schema"] in TEXT:
        field, filler = TEXT[e["schema"]]
        text = e.get(field) or filler
        e[field] = "\n".join([text] * (size // len(text.encode()) + 1 + r.randrange(4)))
    else:
        e["backlog"] = [e["readings"]] * (size // len(msgspec.json.encode(e["readings"])) + 1 + r.randrange(4))
    return e


def _new_station(e: dict, r: random.Random, size: int, now: float) -> dict:
    """A station installed but not yet in config/stations.yaml: GZ-AQ-001 → GZ-AQ-9xx."""
    e["station_id"] = f"{e['station_id'].rpartition('-')[0] or e['station_id']}-{r.randint(900, 999)}"
    return e


# kind: (reason code given by ingest.decode, schemas it applies to, corruption)
_KINDS: dict[str, tuple[str, tuple[str, ...], Corruption]] = {
    "empty": ("not_json", ALL, lambda e, r, size, now: b""),
    "truncated": ("not_json", ALL, _truncated),
    "not_object": ("not_object", ALL, _not_object),
    "not_utf8": ("not_utf8", tuple(TEXT), _not_utf8),
    "missing_field": ("missing_field", ALL, _missing_field),
    "bad_type": ("bad_type", ALL, _float_time),
    "bad_value": ("bad_value", ALL, _enum_name),
    "unknown_schema": ("unknown_schema", ALL, _next_version),
    "outside_city": ("out_of_range", ALL, _outside_city),
    "negative_reading": ("out_of_range", SENSORS, _negative_reading),
    "future_time": ("out_of_range", ALL, _future_time),
    "past_time": ("out_of_range", ALL, _past_time),
    "oversized": ("oversized", ALL, _oversized),
    "unknown_station": ("unknown_station", SENSORS, _new_station),
}
KINDS: tuple[str, ...] = tuple(_KINDS)
REASON: dict[str, str] = {kind: reason for kind, (reason, _, _) in _KINDS.items()}


def kinds_for(schema: str) -> tuple[str, ...]:
    """The kinds that apply to an event of ``schema``, in ``KINDS`` order; none for an unknown schema."""
    return tuple(kind for kind, (_, schemas, _) in _KINDS.items() if schema in schemas)


def corrupt(kind: str, event: dict, r: random.Random, *, max_message_bytes: int, now: float) -> bytes:
    """The message a faulty producer would send instead of the valid ``event`` (left unchanged); ``now`` (epoch
    seconds) is what future and past times are counted from."""
    message = _KINDS[kind][2](copy.deepcopy(event), r, max_message_bytes, now)
    return message if isinstance(message, bytes) else msgspec.json.encode(message)
