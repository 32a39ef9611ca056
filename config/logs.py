"""Logging set-up: a readable line or one JSON object per line (``log.format``), both structured and both masked.

Code logs an event with its fields as ``log.info("signed in", extra={"fields": {"user": …, "addr": …}})``, and
only so (tests/config/test_logs.py checks every call): text output appends them as ``key=value`` (a value with
spaces, quotes or line breaks JSON-quoted, so a typed user name cannot forge a line), JSON output makes them keys
of the object. A traceback (``exc_info``) follows the line in text, is the ``exc`` key in JSON.

A safety net against secrets in logs, in both formats: fields with secret-shaped names (password, token, secret,
cookie, authorization, kiosk) are written as ``***``, and so are URL passwords (``clickhouse://user:***@host``),
``kiosk=`` / ``token=`` / session cookie values and bearer tokens anywhere in a line, traceback included. Code
still never passes a secret on purpose: the net catches what slips through.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

QUIET = {"kafka": logging.ERROR,  # its warnings are per-poll noise
         "clickhouse_driver": logging.ERROR}  # our own warning says it, once, briefly

MASK = "***"
SECRET_KEY = re.compile(r"password|passwd|token|secret|cookie|authorization|kiosk", re.IGNORECASE)
_SECRETS_IN_TEXT = [
    # scheme://user:PASSWORD@host — up to the last @ before the path (a password may hold an unencoded @)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]*@", re.IGNORECASE), rf"\g<1>{MASK}@"),
    # kiosk=TOKEN, csrf_token=…, cockpit_session=… (also URL-encoded, inside a next= parameter), and the same
    # names quoted in a repr or a dict ("password='x'", "'token': 'x'"; or escaped, in a quoted text value)
    (re.compile(r"(\b[\w-]*(?:password|passwd|token|secret|kiosk|session)[\w-]*"
                r"(?:=|%3D|\\?['\"]:\s*(?=\\?['\"]))(?:\\?['\"])?)[^\s&#%,;\"'\\]+", re.IGNORECASE),
     rf"\g<1>{MASK}"),
    (re.compile(r"(\bBearer\s+)[^\s\"',;\\]+", re.IGNORECASE), rf"\g<1>{MASK}"),
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NEEDS_QUOTES = re.compile(r'[\s"=\x00-\x1f\x7f]')


def redact(text: str) -> str:
    """``text`` with URL passwords, tokens, session cookies and bearer tokens replaced by ``***``."""
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's ``extra={"fields": …}``, values of secret-shaped names masked."""
    return _masked(getattr(record, "fields", None) or {})


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEY.search(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value if value is None or isinstance(value, (bool, int, float)) else redact(str(value))


def _text_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if not text or _NEEDS_QUOTES.search(text) else text


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = _CONTROL.sub(lambda m: repr(m.group())[1:-1], super().formatMessage(record))
        return line + "".join(f" {k}={_text_value(v)}" for k, v in fields(record).items())

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": redact(record.getMessage())}
        for key, value in fields(record).items():
            doc.setdefault(key, value)  # a field never overwrites the line's own keys
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            doc["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(doc, ensure_ascii=False)  # masked string by string: a mask never breaks the JSON


def setup(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
