"""Settings: one typed object, loaded once from YAML plus ``COCKPIT_<SECTION>_<KEY>`` overrides, passed down.

Each section is a Struct whose fields declare the keys: type (``int``, ``float``, ``str`` or a ``Literal`` of
choices), default, and in :func:`key` the help line, the minimum (``ge=``) and a check for values that must
parse. ``settings.cockpit.port`` is an ``int`` to a type checker, and ``settings.cockpit.prot`` an error it
reports. Loading decodes the file, with the environment merged in, through :func:`config.files.decode`: an
unknown key, a wrong type or a bad value is a :class:`ConfigError` whose message is one line naming the key and
where it came from; ``run_cockpit.py`` prints that line and exits with code 2 before anything starts.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Callable,
    Iterator,
    Literal,
    Mapping,
    get_args,
    get_origin,
)

import msgspec
from msgspec import Meta

from config.files import ConfigError, Problem, decode, read_yaml_file
from config.warehouse_url import parse_warehouse_url
from domain.paths import CONFIG_DIR

__all__ = ["DEFAULT_PATH", "KEYS", "SECTIONS", "Settings", "load"]

DEFAULT_PATH = CONFIG_DIR / "cockpit.yaml"
ENV_PREFIX = "COCKPIT_"


def _bootstrap(value: str) -> str:
    for server in filter(None, value.split(",")):
        host, sep, port = server.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{server!r} is not host:port")
    return value


def _topics(value: str) -> str:
    names = [t.strip() for t in value.split(",")]
    if not all(names) or any(not all(c.isalnum() or c in "._-" for c in t) for t in names):
        raise ValueError(f"{value!r} is not a comma-separated list of topic names (letters, digits, . _ -)")
    return value


def _networks(value: str) -> str:
    import ipaddress

    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network such as 10.0.0.5 or 10.0.0.0/24") from None
    return value


def _token(value: str) -> str:
    if value and len(value) < 32:
        raise ValueError("a token has at least 32 characters (python -c 'import secrets; "
                         "print(secrets.token_urlsafe(32))')")
    return value


def _adcode(value: str) -> str:
    if not (len(value) == 6 and value.isdigit()):
        raise ValueError(f"{value!r} is not a 6-digit adcode such as 440100")
    return value


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
    return value


def _scenarios(value: str) -> str:
    for spec in filter(None, (s.strip() for s in value.split(","))):
        if not re.fullmatch(r"[a-z_]+(@[+-]?\d+(\.\d+)?[mh]?)?(:\d{6})?", spec):
            raise ValueError(f"{spec!r} is not NAME[@START][:ADCODE], e.g. rainstorm@+1h:440106")
    return value


def _grid_resolution(value: int) -> int:
    if value and not 5 <= value <= 10:
        raise ValueError(f"{value} is not 0 (follow the zoom) or an H3 resolution from 5 to 10")
    return value


def _ratio(value: float) -> float:
    if value > 0.5:
        raise ValueError(f"{value:g} is above 0.5 (half the messages malformed)")
    return value


def _url(value: str) -> str:
    parse_warehouse_url(value)
    return value


def key(help: str, *, check: Callable[[Any], Any] | None = None, **bounds: float) -> Meta:
    """A key's declaration: its help line (cockpit.yaml and the README show it), its bounds (``ge=1``: the
    minimum) and a check that raises ValueError with a hint."""
    return Meta(description=help, extra={"check": check} if check else None, **bounds)


class Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One section's values, by attribute (typed) or, read-only, by key."""

    def __getitem__(self, name: str) -> Any:
        if name not in self.__struct_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> tuple[str, ...]:
        return self.__struct_fields__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__struct_fields__)

    def __len__(self) -> int:
        return len(self.__struct_fields__)


class WarehouseSettings(Section):
    url: Annotated[str, key(
        "where events live: chdb:///PATH (embedded, one process) or clickhouse://user:pass@host:9000/db",
        check=_url)] = "chdb:///./data/warehouse"


class KafkaSettings(Section):
    bootstrap: Annotated[str, key(
        "Kafka bootstrap servers host:port[,host:port]; empty = the demo starts an embedded broker",
        check=_bootstrap)] = ""
    client: Annotated[Literal["confluent", "kafka-python"], key(
        "Kafka client: confluent (librdkafka, fast) or kafka-python (pure Python)")] = "confluent"
    group_id: Annotated[str, key("consumer group of the ingest processes")] = "cockpit-ingest"
    partitions: Annotated[int, key("partitions per topic when the cockpit creates topics", ge=1)] = 3
    max_poll_interval_ms: Annotated[int, key(
        "consumer max.poll.interval.ms; short values make a new group join in seconds", ge=1000)] = 10000
    session_timeout_ms: Annotated[int, key(
        "consumer session timeout; a dead consumer's partitions move to the others after this", ge=1000)] = 6000


class IngestSettings(Section):
    topics: Annotated[str, key(
        "topics the ingest consumes, comma-separated",
        check=_topics)] = "city.hotline,city.emergency,city.water,city.ecology"
    batch_size: Annotated[int, key("rows buffered before an insert", ge=1)] = 5000
    batch_seconds: Annotated[float, key("longest time a row waits in the buffer", ge=0.05)] = 1.0
    stats_seconds: Annotated[float, key(
        "window of the per-partition ingest_stats rows and stats log lines", ge=1)] = 10.0
    max_message_bytes: Annotated[int, key("larger messages are rejected as oversized", ge=256)] = 65536
    reject_raw_bytes: Annotated[int, key("raw bytes kept per rejected message", ge=0)] = 4096
    max_past_days: Annotated[int, key("events older than this are rejected as out of range", ge=1)] = 400
    max_future_minutes: Annotated[int, key("events further ahead than this are rejected", ge=0)] = 10


class SimulateSettings(Section):
    orders_per_day: Annotated[int, key("mean 12345 work orders per day in the simulated city", ge=1)] = 12000
    incidents_per_day: Annotated[float, key(
        "mean emergency incidents per day in fair weather (rain adds floods and waterlogging)", ge=0)] = 48.0
    backfill_hours: Annotated[float, key("history published at start so screens have a day to show", ge=0)] = 72.0
    speed: Annotated[float, key(
        "how the back-fill plays: 0 at once; X at X× real time (60: an hour a minute) until it reaches now; "
        "then live", ge=0)] = 0.0
    scenarios: Annotated[str, key(
        "comma-separated NAME[@START][:ADCODE], NAME one of rainstorm, pollution, hotline_surge, "
        "major_incident; START +2h, -30m or epoch seconds (default now)", check=_scenarios)] = ""
    bad_ratio: Annotated[float, key(
        "share of malformed messages mixed into the stream (0–0.5), to exercise ingest's rejects",
        ge=0, check=_ratio)] = 0.0
    seed: Annotated[int, key("random seed: the same seed gives the same city")] = 2026


class CitySettings(Section):
    adcode: Annotated[str, key(
        "the city shown and simulated (districts from assets/geo/<adcode>.geojson)", check=_adcode)] = "440100"
    stations: Annotated[str, key(
        "station registry of the city's water and ecology sensors (relative to the project folder)"
    )] = "config/stations.yaml"
    timezone: Annotated[str, key(
        "local time zone for 'today' and naive event times", check=_timezone)] = "Asia/Shanghai"
    default_crs: Annotated[Literal["GCJ02", "WGS84", "BD09"], key(
        "coordinate system assumed when an event's location has no crs")] = "GCJ02"
    population: Annotated[str, key(
        "YAML file of residents per district (adcode: residents) for per-capita map metrics, relative to the "
        "project folder; empty = not configured")] = ""


class MapSettings(Section):
    event_hours: Annotated[float, key(
        "work orders and incidents on the map: those with events in the last N hours", ge=1)] = 24.0
    grid_resolution: Annotated[int, key(
        "H3 resolution of the grid layer (5–10); 0 = follow the zoom", ge=0, check=_grid_resolution)] = 0
    station_silent_intervals: Annotated[int, key(
        "a station with no reading for this many of its intervals is drawn grey (离线)", ge=1)] = 3


class AlertsSettings(Section):
    rules: Annotated[str, key("alert rules file (relative to the project folder)")] = "config/alerts.yaml"
    interval_seconds: Annotated[float, key("how often the rules are evaluated", ge=5)] = 60.0
    escalate_after_minutes: Annotated[float, key(
        "a red or orange alert not acknowledged this long after it opened escalates by itself", ge=1)] = 10.0
    sender: Annotated[str, key("CAP 1.2 <sender> of exported alerts")] = "cockpit@city.example"


class CockpitSettings(Section):
    host: Annotated[str, key("address the web server binds")] = "127.0.0.1"
    port: Annotated[int, key("port of the web server", ge=1)] = 8050
    workers: Annotated[int, key("worker processes of 'serve' (gunicorn); 1 with a chDB warehouse", ge=1)] = 2
    threads: Annotated[int, key("threads per worker (and of the demo's in-process server)", ge=1)] = 8
    refresh_seconds: Annotated[float, key("how often screens refresh", ge=1)] = 5.0
    slow_refresh_seconds: Annotated[float, key(
        "the wall's 30-day order states and the stations' newest readings are recomputed in the background at "
        "most this often (a refresh never waits for them)", ge=1)] = 60.0
    stale_warn_seconds: Annotated[int, key("data older than this turns the freshness badge amber", ge=1)] = 120
    stale_alarm_seconds: Annotated[int, key("data older than this turns it red", ge=1)] = 600
    lag_warn_messages: Annotated[int, key(
        "ingest lag (messages on the broker not yet in the warehouse, all topics) that turns the freshness "
        "badge amber", ge=1)] = 20000
    lag_alarm_messages: Annotated[int, key("ingest lag that turns it red", ge=1)] = 200000
    tile_url: Annotated[str, key(
        "map tile URL template (intranet tile server); empty = no tiles, district polygons on dark")] = ""
    tile_attribution: Annotated[str, key("attribution shown with the tiles")] = ""

    def __post_init__(self) -> None:
        if self.stale_alarm_seconds < self.stale_warn_seconds:
            raise ValueError(f"cockpit.stale_alarm_seconds ({self.stale_alarm_seconds}) must not be below "
                             f"cockpit.stale_warn_seconds ({self.stale_warn_seconds})")


class AuthSettings(Section):
    secret: Annotated[str, key(
        "key that signs session cookies; empty = a random key kept in auth.secret_file. Every server behind "
        "one address needs the same key")] = ""
    secret_file: Annotated[str, key(
        "where the generated signing key is kept (relative to the project folder; created readable by the "
        "owner only)")] = "data/secret_key"
    session_hours: Annotated[float, key(
        "a sign-in lasts this long (a duty shift); then the user signs in again", ge=0.05)] = 12.0
    kiosk_days: Annotated[float, key(
        "a wall PC's kiosk sign-in lasts this long; a revoked token ends it at once", ge=0.05)] = 30.0
    login_attempts: Annotated[int, key(
        "failed sign-ins allowed per user name and per address within login_window_minutes before each "
        "further try must wait, longer after each failure (HTTP 429); a browser the user signed in from "
        "before is not held back by failures from elsewhere", ge=1)] = 5
    login_window_minutes: Annotated[float, key("window of the sign-in rate limit", ge=1)] = 15.0
    trusted_proxies: Annotated[str, key(
        "comma-separated addresses or networks of reverse proxies in front of the cockpit: from them the "
        "client's address is read from X-Forwarded-For; empty = the peer's address", check=_networks)] = ""
    health_token: Annotated[str, key(
        "a monitor sending 'Authorization: Bearer TOKEN' gets /healthz in full (as a signed-in admin does); "
        "others get its status only. Empty = no monitor token", check=_token)] = ""
    secure_cookie: Annotated[Literal["no", "yes"], key(
        "yes behind HTTPS: the session cookie is sent over HTTPS only")] = "no"


class LogSettings(Section):
    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], key("log level")] = "INFO"
    format: Annotated[Literal["text", "json"], key(
        "text: one readable line per event; json: one JSON object per line (for a log collector), with the "
        "event's fields as keys")] = "text"



class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Validated settings: ``settings.warehouse.url``; ``replace()`` gives a changed copy."""

    warehouse: WarehouseSettings = WarehouseSettings()
    kafka: KafkaSettings = KafkaSettings()
    ingest: IngestSettings = IngestSettings()
    simulate: SimulateSettings = SimulateSettings()
    city: CitySettings = CitySettings()
    map: MapSettings = MapSettings()
    alerts: AlertsSettings = AlertsSettings()
    cockpit: CockpitSettings = CockpitSettings()
    auth: AuthSettings = AuthSettings()
    log: LogSettings = LogSettings()

    def replace(self, **changes: Any) -> Settings:
        """Copy with dotted keys changed, e.g. ``replace(**{"cockpit.port": 8060})`` (validated as a file is)."""
        doc = msgspec.to_builtins(self)
        for dotted, value in changes.items():
            if dotted not in KIND:
                raise ConfigError(f"config error: unknown key {dotted!r}")
            section, name = dotted.split(".")
            doc[section][name] = value
        return _decode(doc, "override", dict.fromkeys(changes, "override"))

    def redacted(self) -> dict[str, Any]:
        """Values safe to log, by dotted key: passwords in URLs and the signing key masked."""
        out = {k.dotted: getattr(getattr(self, k.section), k.name) for k in KEYS}
        out["warehouse.url"] = parse_warehouse_url(out["warehouse.url"]).redacted()
        for secret in ("auth.secret", "auth.health_token"):
            if out[secret]:
                out[secret] = "***"
        return out


@dataclass(frozen=True)
class Key:
    """One key as cockpit.yaml and the README show it, read from the declarations above."""

    section: str
    name: str
    kind: type | tuple[str, ...]  # int, float or str, or the allowed strings of a Literal
    default: Any
    help: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section}_{self.name}".upper()


def _keys() -> tuple[Key, ...]:
    keys = []
    for section in msgspec.structs.fields(Settings):
        for f in msgspec.structs.fields(section.type):
            base, meta = get_args(f.type)
            kind = get_args(base) if get_origin(base) is Literal else base
            keys.append(Key(section.name, f.name, kind, f.default, meta.description))
    return tuple(keys)


KEYS = _keys()
SECTIONS = tuple(f.name for f in msgspec.structs.fields(Settings))
KIND = {k.dotted: k.kind for k in KEYS}


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the YAML file (``COCKPIT_CONFIG`` or ``config/cockpit.yaml``), then the environment."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_PATH)
    doc = read_yaml_file(path) if path.exists() or path != DEFAULT_PATH else None
    doc = {} if doc is None else doc
    by_env = {k.env: k for k in KEYS}
    section_prefixes = tuple(f"{ENV_PREFIX}{s.upper()}_" for s in SECTIONS)
    for name in environ:
        if name.startswith(section_prefixes) and name not in by_env:
            raise ConfigError(f"config error: unknown environment variable {name}; see config/cockpit.yaml for keys")
    origins = {}
    if isinstance(doc, dict):  # else decoding says the file is not a mapping of sections
        doc = {section: dict(body) if isinstance(body, dict) else body for section, body in doc.items()}
        for k in KEYS:
            if k.env in environ and isinstance(doc.setdefault(k.section, {}), dict):
                doc[k.section][k.name] = _from_env(k, environ[k.env], str(path))
                origins[k.dotted] = k.env
    return _decode(doc, str(path), origins)


def _from_env(key: Key, text: str, source: str) -> Any:
    """An environment string as the key's type: ``int("9000")``, ``float("2")``; a string stays one."""
    if key.kind not in (int, float):
        return text
    try:
        return key.kind(text)  # type: ignore[operator]
    except ValueError:
        problem = Problem((key.section, key.name), "type", text, f"not {key.kind.__name__}")  # type: ignore[union-attr]
        raise ConfigError(f"config error: {_explainer(source, {key.dotted: key.env})(problem)}") from None


def _decode(doc: Any, source: str, origins: Mapping[str, str]) -> Settings:
    """The one conversion of every path in (file, environment, ``replace``); strings of ``str`` keys stripped."""
    if isinstance(doc, dict):
        doc = {section: {name: value.strip() if isinstance(value, str) and KIND.get(f"{section}.{name}") is str
                         else value for name, value in body.items()} if isinstance(body, dict) else body
               for section, body in doc.items()}
    return decode(doc, Settings, _explainer(source, origins))


def _explainer(source: str, origins: Mapping[str, str]) -> Callable[[Problem], str]:
    """A problem in this file's words: the key and where its value came from (the file, a variable, override)."""
    def explain(p: Problem) -> str:
        if p.kind == "rule":
            return p.text
        if len(p.path) == 2:
            dotted = f"{p.path[0]}.{p.path[1]}"
            kind = KIND[dotted]
            where = f"{dotted} (from {origins.get(dotted, source)})"
            if p.kind == "choice":
                return f"{where}: {p.value!r} is not one of {', '.join(p.choices)}"
            if p.kind == "bound":
                value = float(p.value) if kind is float else p.value
                return f"{where}: {value!r} is below the minimum {p.meta['ge']:g}"
            if p.kind == "check":
                return f"{where}: {p.text}"
            return f"{where}: expected {getattr(kind, '__name__', kind)}, got {p.value!r}"
        if p.kind == "unknown" and p.path:
            section = p.path[0]
            return f"{source}: unknown key '{section}.{p.names[0]}'; {section} has {', '.join(p.fields)}"
        if p.kind == "unknown":
            return f"{source}: unknown section {p.names[0]!r}; sections are {', '.join(SECTIONS)}"
        if p.path:
            return f"{source}: section {p.path[0]!r} must be a mapping"
        return f"{source}: the top level must be a mapping of sections"
    return explain


def documented_yaml() -> str:
    """config/cockpit.yaml as it should be: every key with its help, type, variable and default.
    Regenerate with ``python -m config.settings > config/cockpit.yaml``."""
    lines = ["# City operations cockpit settings. Every key can be overridden by an environment variable",
             "# COCKPIT_<SECTION>_<KEY> (e.g. COCKPIT_WAREHOUSE_URL). Unknown keys or bad values stop start-up",
             "# with one line naming the key (exit code 2). Values shown are the defaults.", ""]
    for section in SECTIONS:
        lines.append(f"{section}:")
        for k in (k for k in KEYS if k.section == section):
            kind = " | ".join(k.kind) if isinstance(k.kind, tuple) else k.kind.__name__
            lines.append(f"  # {k.help} [{kind}; {k.env}]")
            lines.append(f"  {k.name}: " + (f'"{k.default}"' if isinstance(k.default, str) else str(k.default)))
        lines.append("")
    return "\n".join(lines)


def markdown_table() -> str:
    """The README's table of keys. Regenerate with ``python -m config.settings --markdown`` (a test checks that
    the README holds it)."""
    lines = ["| key | environment variable | default | meaning |", "|---|---|---|---|"]
    for k in KEYS:
        choices = f" ({' / '.join(k.kind)})" if isinstance(k.kind, tuple) else ""
        lines.append(f"| `{k.dotted}` | `{k.env}` | `{k.default if k.default != '' else '(empty)'}` | {k.help}{choices} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(markdown_table() if sys.argv[1:] == ["--markdown"] else documented_yaml(), end="")
