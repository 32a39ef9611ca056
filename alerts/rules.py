"""Alert rules from ``config/alerts.yaml``, checked at load: a bad rule stops start-up with one line naming it.

Kinds and what they watch (each rule has a severity red / orange / yellow / blue and a subject type):

``threshold`` (station)
    A station metric against a value — every reading of the last ``for_minutes`` meets it, at least
    ``min_readings`` of them, the first far enough back to span the window (AQI > 150 for 2 hours) — or, with ``for_minutes: 0``, the newest reading of the
    last ``max_age_minutes`` does (ponding ≥ 15 cm, water class worse than Ⅲ). Instead of a value, ``states``
    matches the state ingest derived from the station's own thresholds (river ≥ 警戒水位: over_warning).
``surge`` (district)
    A category's work orders in a district in the last hour above mean + k·σ of the same hour over the
    previous ``weeks`` weeks, and at least ``min_count`` (``category`` empty: every category).
``incident`` (incident)
    Any incident of the given ``levels`` that is not closed.
``undispatched`` (incident)
    An incident reported ``minutes`` ago or more and still not dispatched.
``backlog`` (department)
    A department's open work orders past their deadline above ``above``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from alerts.lifecycle import SEVERITIES
from config.files import ConfigError, read_yaml_file
from domain.contract import ECOLOGY_METRICS, WATER_METRICS

SUBJECTS = {"threshold": "station", "surge": "district", "incident": "incident", "undispatched": "incident",
            "backlog": "department"}
SOURCES = {"water": (*WATER_METRICS, "water_class"), "ecology": (*ECOLOGY_METRICS, "aqi")}
STATION_TYPES = {"water": ("river_gauge", "rain_gauge", "pipe_pressure", "water_quality", "waterlogging"),
                 "ecology": ("air", "noise")}
WATER_STATES = ("over_warning", "over_guarantee", "over_alarm", "low", "normal")
OPS = (">", ">=", "<", "<=")
LEVELS = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # Chinese, shown to people
    kind: str
    severity: str
    subject: str
    auto_resolve_minutes: float = 30.0  # the condition clear this long → resolved automatically
    # threshold
    source: str = ""
    station_types: tuple[str, ...] = ()
    metric: str = ""
    op: str = ""
    value: float | None = None
    states: tuple[str, ...] = ()
    for_minutes: float = 0.0
    min_readings: int = 1
    max_age_minutes: float = 30.0
    # surge
    category: str = ""
    k: float = 3.0
    min_count: int = 10
    weeks: int = 4
    # incident, undispatched, backlog
    levels: tuple[str, ...] = ()
    minutes: float = 0.0
    above: int = 0


_KIND_KEYS = {
    "threshold": {"source", "station_types", "metric", "op", "value", "states", "for_minutes", "min_readings",
                  "max_age_minutes"},
    "surge": {"category", "k", "min_count", "weeks"},
    "incident": {"levels"},
    "undispatched": {"minutes"},
    "backlog": {"above"},
}
_COMMON = {"id", "name", "kind", "severity", "subject", "auto_resolve_minutes"}
_TYPES = {f.name: f.type for f in fields(Rule)}


def load_rules(path: Path) -> list[Rule]:
    """The checked rules of a YAML file ``{rules: [...]}``; ConfigError naming the file, the rule and the
    problem."""
    doc = read_yaml_file(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise ConfigError(f"config error: {path}: expected 'rules:' with a list of rules")
    rules, seen = [], set()
    for number, row in enumerate(doc["rules"], start=1):
        where = f"{path}: rule {row.get('id') if isinstance(row, dict) and row.get('id') else f'#{number}'}"
        try:
            rule = parse_rule(row)
        except ValueError as e:
            raise ConfigError(f"config error: {where}: {e}") from None
        if rule.id in seen:
            raise ConfigError(f"config error: {where}: the id is used twice")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def parse_rule(row: Any) -> Rule:
    """One rule from its YAML mapping; ValueError saying what is wrong."""
    if not isinstance(row, dict):
        raise ValueError("a rule must be a mapping of keys")
    kind = row.get("kind")
    if kind not in SUBJECTS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(SUBJECTS)}")
    unknown = set(row) - _COMMON - _KIND_KEYS[kind]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} for a {kind} rule")
    for key in ("id", "name"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"{key} must be a non-empty string")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", row["id"]):
        raise ValueError(f"id {row['id']!r} may hold only letters, digits, - and _ (at most 64)")
    if row.get("severity") not in SEVERITIES:
        raise ValueError(f"severity {row.get('severity')!r} is not one of {', '.join(SEVERITIES)}")
    subject = row.get("subject", SUBJECTS[kind])
    if subject != SUBJECTS[kind]:
        raise ValueError(f"{kind} rules watch one {SUBJECTS[kind]} each, not {subject!r}")
    values = {key: _typed(key, row[key]) for key in row if key not in ("kind", "subject")}
    rule = Rule(kind=kind, subject=subject, **values)
    _CHECKS[kind](rule)
    return rule


def _typed(key: str, value: Any) -> Any:
    """A YAML value as the field's type (lists become tuples); ValueError naming the key."""
    kind = _TYPES[key]
    if "tuple" in kind:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{key} must be a list of strings")
        return tuple(value)
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string, got {value!r}")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if kind == "int" and not float(value).is_integer():
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{key} must not be negative, got {value!r}")
    return int(value) if kind == "int" else float(value)


def _threshold(r: Rule) -> None:
    if r.source not in SOURCES:
        raise ValueError(f"source {r.source!r} is not one of {', '.join(SOURCES)}")
    bad = set(r.station_types) - set(STATION_TYPES[r.source])
    if not r.station_types or bad:
        raise ValueError(f"station_types must list {r.source} station types ({', '.join(STATION_TYPES[r.source])})")
    if r.states:
        if r.source != "water" or set(r.states) - set(WATER_STATES):
            raise ValueError(f"states are water stations' ({', '.join(WATER_STATES)})")
        if r.op or r.value is not None:
            raise ValueError("give either states or op and value, not both")
        if r.for_minutes:
            raise ValueError("states watch the newest reading: for_minutes must be 0")
        if r.metric and r.metric not in SOURCES[r.source]:
            raise ValueError(f"metric {r.metric!r} is not a {r.source} metric ({', '.join(SOURCES[r.source])})")
    else:
        if r.metric not in SOURCES[r.source]:
            raise ValueError(f"metric {r.metric!r} is not a {r.source} metric ({', '.join(SOURCES[r.source])})")
        if r.op not in OPS or r.value is None:
            raise ValueError(f"op (one of {' '.join(OPS)}) and value are required")
    if r.for_minutes == 0 and r.min_readings != 1:
        raise ValueError("min_readings needs for_minutes above 0 (0 means the newest reading)")
    if r.min_readings < 1:
        raise ValueError("min_readings must be at least 1")


def _surge(r: Rule) -> None:
    if not 1 <= r.weeks <= 8:
        raise ValueError(f"weeks must be 1–8, got {r.weeks}")
    if r.min_count < 1:
        raise ValueError("min_count must be at least 1")


def _incident(r: Rule) -> None:
    if not r.levels or set(r.levels) - set(LEVELS):
        raise ValueError(f"levels must list incident levels ({', '.join(LEVELS)})")


def _undispatched(r: Rule) -> None:
    if r.minutes <= 0:
        raise ValueError("minutes must be above 0")


def _backlog(r: Rule) -> None:
    if r.above < 0:
        raise ValueError("above must not be negative")


_CHECKS = {"threshold": _threshold, "surge": _surge, "incident": _incident, "undispatched": _undispatched,
           "backlog": _backlog}
