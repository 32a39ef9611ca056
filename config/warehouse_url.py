"""Warehouse URLs: ``chdb:///PATH[?database=NAME]`` (embedded) or ``clickhouse://user:pass@host:port/db``."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from config.logs import redact

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEFAULT_DATABASE = "cockpit"
HINT = "use chdb:///PATH or clickhouse://user:pass@host:9000/db"


@dataclass(frozen=True)
class WarehouseURL:
    kind: str  # "chdb" or "clickhouse"
    database: str
    path: str = ""
    host: str = ""
    port: int = 9000
    user: str = "default"
    password: str = field(default="", repr=False)  # a logged URL object shows no password

    def redacted(self) -> str:
        if self.kind == "chdb":
            return f"chdb://{self.path}?database={self.database}"
        secret = ":***" if self.password else ""
        return f"clickhouse://{self.user}{secret}@{self.host}:{self.port}/{self.database}"


def parse_warehouse_url(url: str) -> WarehouseURL:
    """Parse and validate; raises ValueError with a hint naming what is wrong (and the URL without its password:
    the message reaches the console and the logs)."""
    shown = repr(redact(url))
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise ValueError(f"malformed URL {shown} ({e}); {HINT}") from None
    query = parse_qs(parts.query)
    if parts.scheme == "chdb":
        if parts.netloc:
            raise ValueError(f"chdb URL needs three slashes and a path, e.g. chdb:///./data/warehouse; got {shown}")
        path = unquote(parts.path)
        if path.startswith("/./") or path.startswith("/../"):
            path = path[1:]
        if not path or path == "/":
            raise ValueError(f"chdb URL has no data directory: {shown}; {HINT}")
        database = query.get("database", [DEFAULT_DATABASE])[0]
        unknown = set(query) - {"database"}
        if unknown:
            raise ValueError(f"unknown chdb URL parameter {sorted(unknown)[0]!r}; only 'database' is known")
        return WarehouseURL("chdb", _database(database), path=path)
    if parts.scheme == "clickhouse":
        if not parts.hostname:
            raise ValueError(f"clickhouse URL has no host: {shown}; {HINT}")
        if parts.query:
            raise ValueError(f"clickhouse URL takes no parameters: {shown}; {HINT}")
        database = parts.path.strip("/") or DEFAULT_DATABASE
        return WarehouseURL("clickhouse", _database(database), host=parts.hostname, port=port or 9000,
                            user=unquote(parts.username or "default"), password=unquote(parts.password or ""))
    raise ValueError(f"unsupported scheme {parts.scheme or redact(url)!r}; {HINT}")


def _database(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"database name {name!r} must be letters, digits and _ (not starting with a digit)")
    return name
