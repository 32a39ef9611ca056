"""Logging set-up: a readable line or one JSON object per line (``log.format``), both structured.

Code logs an event with its fields as ``log.info("ingest stats", extra={"fields": {...}})``; text output
appends them as ``key=value``, JSON output makes them keys of the object.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

QUIET = {"kafka": logging.ERROR,  # its warnings are per-poll noise
         "clickhouse_driver": logging.ERROR}  # our own warning says it, once, briefly


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        return line + "".join(f" {k}={v}" for k, v in fields.items()) if fields else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
               **getattr(record, "fields", {})}
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
