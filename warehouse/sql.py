"""Pure helpers for SQL text: placeholders, identifiers, literals.

Builders write ClickHouse's typed placeholders ``{name:Type}``. chDB binds them server-side; for
clickhouse-driver (whose 18.16 server predates server-side parameters) they become ``%(name)s`` and the
driver escapes each value. Identifiers never come from users: they must pass :func:`identifier`.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ']+)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def identifier(name: str) -> str:
    """Return ``name`` if it is a plain identifier, else raise ValueError (never quote user text into SQL)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def placeholders(sql: str) -> set[str]:
    return {m.group(1) for m in PLACEHOLDER.finditer(sql)}


def check_params(sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Every placeholder has a value and every value a placeholder; raises ValueError naming the mismatch."""
    params = params or {}
    wanted = placeholders(sql)
    missing, extra = wanted - set(params), set(params) - wanted
    if missing or extra:
        raise ValueError(f"SQL parameters do not match: missing {sorted(missing)}, unused {sorted(extra)}")
    return params


def to_pyformat(sql: str) -> str:
    """``{name:Type}`` → ``%(name)s`` for clickhouse-driver; literal ``%`` doubled."""
    return PLACEHOLDER.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))


def literal(value: Any) -> str:
    """ClickHouse text form of a parameter value, as chDB's parameter parser reads it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return str(int(value.timestamp()))
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set)):
        return "[" + ",".join(_quoted(v) for v in value) + "]"
    raise TypeError(f"unsupported SQL parameter type {type(value).__name__}")


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return literal(value)
