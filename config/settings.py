"""Settings: one declared table of keys, loaded once from YAML plus ``COCKPIT_<SECTION>_<KEY>`` overrides.

Every key has a type, a default and a help line (``KEYS``). Loading rejects unknown keys, wrong types and
bad values with a :class:`ConfigError` whose message is one line naming the key and where it came from;
``run_cockpit.py`` prints that line and exits with code 2 before anything starts.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from config.warehouse_url import parse_warehouse_url
from domain.paths import CONFIG_DIR

DEFAULT_PATH = CONFIG_DIR / "cockpit.yaml"
ENV_PREFIX = "COCKPIT_"


class ConfigError(ValueError):
    """An invalid setting; the message is the one line the user sees."""


@dataclass(frozen=True)
class Key:
    section: str
    name: str
    kind: type | tuple[str, ...]  # a Python type, or the allowed strings of an enum
    default: Any
    help: str
    minimum: float | None = None
    check: Callable[[Any], Any] | None = None  # raises ValueError with a hint

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section}_{self.name}".upper()


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


KEYS: tuple[Key, ...] = (
    Key("warehouse", "url", str, "chdb:///./data/warehouse",
        "where events live: chdb:///PATH (embedded, one process) or clickhouse://user:pass@host:9000/db", check=_url),
    Key("kafka", "bootstrap", str, "",
        "Kafka bootstrap servers host:port[,host:port]; empty = the demo starts an embedded broker", check=_bootstrap),
    Key("kafka", "client", ("confluent", "kafka-python"), "confluent",
        "Kafka client: confluent (librdkafka, fast) or kafka-python (pure Python)"),
    Key("kafka", "group_id", str, "cockpit-ingest", "consumer group of the ingest processes"),
    Key("kafka", "partitions", int, 3, "partitions per topic when the cockpit creates topics", minimum=1),
    Key("kafka", "max_poll_interval_ms", int, 10000,
        "consumer max.poll.interval.ms; short values make a new group join in seconds", minimum=1000),
    Key("kafka", "session_timeout_ms", int, 6000, "consumer session timeout; a dead consumer's partitions move "
        "to the others after this", minimum=1000),
    Key("ingest", "topics", str, "city.hotline,city.emergency,city.water,city.ecology",
        "topics the ingest consumes, comma-separated", check=_topics),
    Key("ingest", "batch_size", int, 5000, "rows buffered before an insert", minimum=1),
    Key("ingest", "batch_seconds", float, 1.0, "longest time a row waits in the buffer", minimum=0.05),
    Key("ingest", "stats_seconds", float, 10.0, "window of the per-partition ingest_stats rows and stats log lines",
        minimum=1),
    Key("ingest", "max_message_bytes", int, 65536, "larger messages are rejected as oversized", minimum=256),
    Key("ingest", "reject_raw_bytes", int, 4096, "raw bytes kept per rejected message", minimum=0),
    Key("ingest", "max_past_days", int, 400, "events older than this are rejected as out of range", minimum=1),
    Key("ingest", "max_future_minutes", int, 10, "events further ahead than this are rejected", minimum=0),
    Key("simulate", "orders_per_day", int, 12000, "mean 12345 work orders per day in the simulated city", minimum=1),
    Key("simulate", "incidents_per_day", float, 48.0, "mean emergency incidents per day in fair weather (rain "
        "adds floods and waterlogging)", minimum=0),
    Key("simulate", "backfill_hours", float, 72.0,
        "history published at start so screens have a day to show", minimum=0),
    Key("simulate", "speed", float, 0.0, "how the back-fill plays: 0 at once; X at X× real time (60: an hour a "
        "minute) until it reaches now; then live", minimum=0),
    Key("simulate", "scenarios", str, "", "comma-separated NAME[@START][:ADCODE], NAME one of rainstorm, pollution, "
        "hotline_surge, major_incident; START +2h, -30m or epoch seconds (default now)", check=_scenarios),
    Key("simulate", "bad_ratio", float, 0.0, "share of malformed messages mixed into the stream (0–0.5), to "
        "exercise ingest's rejects", minimum=0, check=_ratio),
    Key("simulate", "seed", int, 2026, "random seed: the same seed gives the same city"),
    Key("city", "adcode", str, "440100", "the city shown and simulated (districts from assets/geo/<adcode>.geojson)",
        check=_adcode),
    Key("city", "stations", str, "config/stations.yaml",
        "station registry of the city's water and ecology sensors (relative to the project folder)"),
    Key("city", "timezone", str, "Asia/Shanghai", "local time zone for 'today' and naive event times",
        check=_timezone),
    Key("city", "default_crs", ("GCJ02", "WGS84", "BD09"), "GCJ02",
        "coordinate system assumed when an event's location has no crs"),
    Key("city", "population", str, "", "YAML file of residents per district (adcode: residents) for per-capita "
        "map metrics, relative to the project folder; empty = not configured"),
    Key("map", "event_hours", float, 24.0, "work orders and incidents on the map: those with events in the last "
        "N hours", minimum=1),
    Key("map", "grid_resolution", int, 0, "H3 resolution of the grid layer (5–10); 0 = follow the zoom",
        minimum=0, check=_grid_resolution),
    Key("map", "station_silent_intervals", int, 3, "a station with no reading for this many of its intervals "
        "is drawn grey (离线)", minimum=1),
    Key("alerts", "rules", str, "config/alerts.yaml", "alert rules file (relative to the project folder)"),
    Key("alerts", "interval_seconds", float, 60.0, "how often the rules are evaluated", minimum=5),
    Key("alerts", "escalate_after_minutes", float, 10.0, "a red or orange alert not acknowledged this long "
        "after it opened escalates by itself", minimum=1),
    Key("alerts", "sender", str, "cockpit@city.example", "CAP 1.2 <sender> of exported alerts"),
    Key("cockpit", "host", str, "127.0.0.1", "address the web server binds"),
    Key("cockpit", "port", int, 8050, "port of the web server", minimum=1),
    Key("cockpit", "workers", int, 2, "worker processes of 'serve' (gunicorn); 1 with a chDB warehouse", minimum=1),
    Key("cockpit", "threads", int, 8, "threads per worker (and of the demo's in-process server)", minimum=1),
    Key("cockpit", "refresh_seconds", float, 5.0, "how often screens refresh", minimum=1),
    Key("cockpit", "slow_refresh_seconds", float, 60.0, "the wall's 30-day order states and the stations' newest "
        "readings are recomputed in the background at most this often (a refresh never waits for them)", minimum=1),
    Key("cockpit", "stale_warn_seconds", int, 120, "data older than this turns the freshness badge amber", minimum=1),
    Key("cockpit", "stale_alarm_seconds", int, 600, "data older than this turns it red", minimum=1),
    Key("cockpit", "lag_warn_messages", int, 20000, "ingest lag (messages on the broker not yet in the warehouse, "
        "all topics) that turns the freshness badge amber", minimum=1),
    Key("cockpit", "lag_alarm_messages", int, 200000, "ingest lag that turns it red", minimum=1),
    Key("cockpit", "tile_url", str, "",
        "map tile URL template (intranet tile server); empty = no tiles, district polygons on dark"),
    Key("cockpit", "tile_attribution", str, "", "attribution shown with the tiles"),
    Key("auth", "secret", str, "", "key that signs session cookies; empty = a random key kept in auth.secret_file. "
        "Every server behind one address needs the same key"),
    Key("auth", "secret_file", str, "data/secret_key",
        "where the generated signing key is kept (relative to the project folder; created readable by the owner only)"),
    Key("auth", "session_hours", float, 12.0, "a sign-in lasts this long (a duty shift); then the user signs in again",
        minimum=0.05),
    Key("auth", "kiosk_days", float, 30.0, "a wall PC's kiosk sign-in lasts this long; a revoked token ends it at once",
        minimum=0.05),
    Key("auth", "login_attempts", int, 5, "failed sign-ins allowed per user name and per address within "
        "login_window_minutes before each further try must wait, longer after each failure (HTTP 429); a browser "
        "the user signed in from before is not held back by failures from elsewhere", minimum=1),
    Key("auth", "login_window_minutes", float, 15.0, "window of the sign-in rate limit", minimum=1),
    Key("auth", "trusted_proxies", str, "", "comma-separated addresses or networks of reverse proxies in front of "
        "the cockpit: from them the client's address is read from X-Forwarded-For; empty = the peer's address",
        check=_networks),
    Key("auth", "health_token", str, "", "a monitor sending 'Authorization: Bearer TOKEN' gets /healthz in full "
        "(as a signed-in admin does); others get its status only. Empty = no monitor token", check=_token),
    Key("auth", "secure_cookie", ("no", "yes"), "no", "yes behind HTTPS: the session cookie is sent over HTTPS only"),
    Key("log", "level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "log level"),
    Key("log", "format", ("text", "json"), "text", "text: one readable line per event; json: one JSON object "
        "per line (for a log collector), with the event's fields as keys"),
)
SECTIONS = tuple(dict.fromkeys(k.section for k in KEYS))


class Section(Mapping[str, Any]):
    """Read-only attribute access to one section's values."""

    def __init__(self, values: dict[str, Any]):
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Settings:
    """Validated settings: ``settings.warehouse.url``; ``replace()`` gives a changed copy."""

    def __init__(self, values: dict[str, Any]):
        self._values = dict(values)
        for section in SECTIONS:
            prefix = section + "."
            setattr(self, section, Section({k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}))

    def replace(self, **changes: Any) -> "Settings":
        """Copy with dotted keys changed, e.g. ``replace(**{"cockpit.port": 8060})`` (values validated)."""
        values = dict(self._values)
        for dotted, raw in changes.items():
            if dotted not in _KEY_BY_NAME:
                raise ConfigError(f"config error: unknown key {dotted!r}")
            values[dotted] = _coerce(_KEY_BY_NAME[dotted], raw, "override", from_env=False)
        return Settings(_checked(values))

    def redacted(self) -> dict[str, Any]:
        """Values safe to log: passwords in URLs and the signing key masked."""
        out = dict(self._values)
        out["warehouse.url"] = parse_warehouse_url(out["warehouse.url"]).redacted()
        for secret in ("auth.secret", "auth.health_token"):
            if out[secret]:
                out[secret] = "***"
        return out


_KEY_BY_NAME = {k.dotted: k for k in KEYS}


def _coerce(key: Key, raw: Any, origin: str, *, from_env: bool) -> Any:
    """Convert a YAML value (typed) or an environment string to the key's type, or raise ConfigError."""
    where = f"{key.dotted} (from {origin})"
    if isinstance(key.kind, tuple):
        if raw not in key.kind:
            raise ConfigError(f"config error: {where}: {raw!r} is not one of {', '.join(key.kind)}")
        return raw
    try:
        if key.kind is bool or isinstance(raw, bool):
            raise TypeError
        if key.kind is str:
            if not isinstance(raw, str):
                raise TypeError
            value: Any = raw.strip()
        elif key.kind is int:
            value = int(raw) if from_env else raw
            if not isinstance(value, int):
                raise TypeError
        else:
            value = float(raw) if from_env else raw
            if not isinstance(value, (int, float)):
                raise TypeError
            value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config error: {where}: expected {key.kind.__name__}, got {raw!r}") from None
    if key.minimum is not None and value < key.minimum:
        raise ConfigError(f"config error: {where}: {value!r} is below the minimum {key.minimum:g}")
    if key.check:
        try:
            key.check(value)
        except ValueError as e:
            raise ConfigError(f"config error: {where}: {e}") from None
    return value


def read_yaml_file(path: Path) -> Any:
    """A YAML file's document; unreadable or invalid YAML → ConfigError naming the file (and line)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"config error: cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:  # the context mark points at the opening of what is broken, when there is one
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"config error: {path}{at}: invalid YAML: {problem}") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    doc = read_yaml_file(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"config error: {path}: the top level must be a mapping of sections")
    flat: dict[str, Any] = {}
    for section, body in doc.items():
        if section not in SECTIONS:
            raise ConfigError(f"config error: {path}: unknown section {section!r}; sections are {', '.join(SECTIONS)}")
        if not isinstance(body, dict):
            raise ConfigError(f"config error: {path}: section {section!r} must be a mapping")
        for name, value in body.items():
            dotted = f"{section}.{name}"
            if dotted not in _KEY_BY_NAME:
                known = ", ".join(k.name for k in KEYS if k.section == section)
                raise ConfigError(f"config error: {path}: unknown key {dotted!r}; {section} has {known}")
            flat[dotted] = value
    return flat


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the YAML file (``COCKPIT_CONFIG`` or ``config/cockpit.yaml``), then the environment."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_PATH)
    from_file = _read_yaml(path) if path.exists() or path != DEFAULT_PATH else {}
    by_env = {k.env: k for k in KEYS}
    section_prefixes = tuple(f"{ENV_PREFIX}{s.upper()}_" for s in SECTIONS)
    for name in environ:
        if name.startswith(section_prefixes) and name not in by_env:
            raise ConfigError(f"config error: unknown environment variable {name}; see config/cockpit.yaml for keys")
    values = {}
    for key in KEYS:
        if key.env in environ:
            values[key.dotted] = _coerce(key, environ[key.env], key.env, from_env=True)
        elif key.dotted in from_file:
            values[key.dotted] = _coerce(key, from_file[key.dotted], str(path), from_env=False)
        else:
            values[key.dotted] = key.default
    return Settings(_checked(values))


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """Rules across keys."""
    warn, alarm = values["cockpit.stale_warn_seconds"], values["cockpit.stale_alarm_seconds"]
    if alarm < warn:
        raise ConfigError(f"config error: cockpit.stale_alarm_seconds ({alarm}) must not be below "
                          f"cockpit.stale_warn_seconds ({warn})")
    return values


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
