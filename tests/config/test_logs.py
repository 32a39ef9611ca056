"""Structured logs: fields as key=value in text, as keys in JSON."""
import json
import logging

from config.logs import JsonFormatter, TextFormatter


def record(msg: str, fields: dict | None = None) -> logging.LogRecord:
    r = logging.LogRecord("streams.ingest", logging.INFO, __file__, 1, msg, (), None)
    if fields is not None:
        r.fields = fields
    return r


def test_json_lines_carry_the_fields_as_keys():
    line = JsonFormatter().format(record("ingest stats", {"topic": "city.hotline", "lag": 0, "rows_per_s": 12.5}))
    doc = json.loads(line)
    assert (doc["msg"], doc["level"], doc["logger"]) == ("ingest stats", "INFO", "streams.ingest")
    assert (doc["topic"], doc["lag"], doc["rows_per_s"]) == ("city.hotline", 0, 12.5)
    assert doc["ts"].endswith("+00:00")


def test_json_escapes_hostile_text_and_keeps_chinese():
    doc = json.loads(JsonFormatter().format(record('坏消息 "}\n{"x": 1', {"district": "天河区"})))
    assert doc["msg"] == '坏消息 "}\n{"x": 1' and doc["district"] == "天河区"


def test_text_lines_append_key_value_pairs():
    line = TextFormatter().format(record("ingest stopped", {"rows": 10, "rejects": 2}))
    assert line.endswith("INFO streams.ingest: ingest stopped rows=10 rejects=2")
    assert TextFormatter().format(record("plain")).endswith("plain")
