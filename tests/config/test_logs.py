"""Structured logs: fields as key=value in text, as keys in JSON; secrets masked in both."""
import ast
import json
import logging
import sys
from pathlib import Path

import pytest

from config.logs import JsonFormatter, TextFormatter
from config.warehouse_url import parse_warehouse_url

ROOT = Path(__file__).resolve().parents[2]


def record(msg: str, fields: dict | None = None) -> logging.LogRecord:
    r = logging.LogRecord("ingest.consume", logging.INFO, __file__, 1, msg, (), None)
    if fields is not None:
        r.fields = fields
    return r


def test_json_lines_carry_the_fields_as_keys():
    line = JsonFormatter().format(record("ingest stats", {"topic": "city.hotline", "lag": 0, "rows_per_s": 12.5}))
    doc = json.loads(line)
    assert (doc["msg"], doc["level"], doc["logger"]) == ("ingest stats", "INFO", "ingest.consume")
    assert (doc["topic"], doc["lag"], doc["rows_per_s"]) == ("city.hotline", 0, 12.5)
    assert doc["ts"].endswith("+00:00")


def test_json_escapes_hostile_text_and_keeps_chinese():
    doc = json.loads(JsonFormatter().format(record('坏消息 "}\n{"x": 1', {"district": "天河区"})))
    assert doc["msg"] == '坏消息 "}\n{"x": 1' and doc["district"] == "天河区"


def test_text_lines_append_key_value_pairs():
    line = TextFormatter().format(record("ingest stopped", {"rows": 10, "rejects": 2}))
    assert line.endswith("INFO ingest.consume: ingest stopped rows=10 rejects=2")
    assert TextFormatter().format(record("plain")).endswith("plain")


def failure() -> logging.LogRecord:
    try:
        raise ConnectionError("ClickHouse at 127.0.0.1:9000 unreachable")
    except ConnectionError:
        r = logging.LogRecord("jobs", logging.ERROR, __file__, 1, "job failed; retrying", (), sys.exc_info())
    r.fields = {"job": "alerts", "attempt": 3, "error": "WarehouseUnavailable"}
    return r


def test_a_failure_keeps_its_fields_on_the_first_line_and_its_traceback_below_in_text():
    first, *traceback = TextFormatter().format(failure()).split("\n")
    assert first.endswith("ERROR jobs: job failed; retrying job=alerts attempt=3 error=WarehouseUnavailable")
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == "ConnectionError: ClickHouse at 127.0.0.1:9000 unreachable"


def test_a_failure_keeps_its_fields_and_its_traceback_in_json():
    doc = json.loads(JsonFormatter().format(failure()))
    assert (doc["msg"], doc["job"], doc["attempt"], doc["error"]) == ("job failed; retrying", "alerts", 3,
                                                                     "WarehouseUnavailable")
    assert doc["exc"].startswith("Traceback") and doc["exc"].endswith("ConnectionError: ClickHouse at "
                                                                      "127.0.0.1:9000 unreachable")


def test_text_values_with_spaces_quotes_or_line_breaks_are_quoted():
    line = TextFormatter().format(record("sign-in failed", {"user": 'a b"\nc', "addr": "", "district": "天河区"}))
    assert line.endswith(r'sign-in failed user="a b\"\nc" addr="" district=天河区')


def test_a_message_cannot_break_a_text_line():
    forged = logging.LogRecord("cockpit.signin", logging.WARNING, __file__, 1, "refused %s", ("/x\nINFO forged",), None)
    line = TextFormatter().format(forged)
    assert line.endswith(r"refused /x\nINFO forged") and "\n" not in line


SECRET_FIELDS = {"password": "hunter2-pw", "csrf_token": "csrf-value-1", "secret": "signing-key-1",
                 "Cookie": "cockpit_session=cookie-1", "authorization": "Bearer bearer-1", "kiosk": "kiosk-1",
                 "user": "li"}


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_secret_shaped_fields_are_masked(formatter):
    line = formatter.format(record("signed in", SECRET_FIELDS))
    for value in SECRET_FIELDS.values():
        assert (value in line) == (value == "li"), value
    assert line.count("***") == 6


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
@pytest.mark.parametrize("message, shown", [
    ("connecting to clickhouse://ops:hunter2@10.0.0.5:9000/city", "clickhouse://ops:***@10.0.0.5:9000/city"),
    ("bad URL 'clickhouse://ops:p@ss:word@h/db?x=1'", "bad URL 'clickhouse://ops:***@h/db?x=1'"),
    ("no password in clickhouse://default@127.0.0.1:9000/x", "no password in clickhouse://default@127.0.0.1:9000/x"),
    ("GET /wall?district=440106&kiosk=tok-EN_1 302", "GET /wall?district=440106&kiosk=*** 302"),
    ("next=/wall%3Fkiosk%3Dtok-EN_1", "next=/wall%3Fkiosk%3D***"),
    ("header Authorization: Bearer tok-EN_1", "header Authorization: Bearer ***"),
    ("Cookie: theme=dark; cockpit_session=tok-EN_1.x", "Cookie: theme=dark; cockpit_session=***"),
    ("cockpit serving on http://127.0.0.1:8050", "cockpit serving on http://127.0.0.1:8050"),
    ("settings {'password': 'hunter2', 'sessions': 3}", "settings {'password': '***', 'sessions': 3}"),
    ('url(password="hunter2")', 'url(password="***")'),
])
def test_passwords_and_tokens_in_messages_are_masked(formatter, message, shown):
    line = formatter.format(record(message, {"url": message}))
    text = json.loads(line)["msg"] if isinstance(formatter, JsonFormatter) else line  # still valid JSON
    assert shown in text and ("hunter2" not in line and "tok-EN_1" not in line and "p@ss" not in line)


def test_a_warehouse_url_logged_as_an_object_shows_no_password():
    url = parse_warehouse_url("clickhouse://ops:hunter2@h/db")
    r = logging.LogRecord("cockpit.recent", logging.ERROR, __file__, 1, "recomputing %s failed", (url,), None)
    assert "hunter2" not in repr(url)
    assert "hunter2" not in TextFormatter().format(r) and "hunter2" not in JsonFormatter().format(r)


def test_masked_in_a_traceback_too():
    try:
        raise ValueError("cannot connect to clickhouse://ops:hunter2@h/db")
    except ValueError:
        r = logging.LogRecord("jobs", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "hunter2" not in TextFormatter().format(r) and "hunter2" not in JsonFormatter().format(r)


LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def test_every_log_call_passes_its_fields_as_extra_fields():
    """The one convention: ``extra={"fields": {...}}`` (the formatters print ``record.fields`` and nothing else
    of ``extra``)."""
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        if {".venv", "venv", "node_modules"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LEVELS:
                for kw in node.keywords:
                    if kw.arg == "extra" and not (isinstance(kw.value, ast.Dict) and [
                            getattr(k, "value", None) for k in kw.value.keys] == ["fields"]):
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


@pytest.mark.parametrize("url", ["clickhouse://ops:hunter2@h/db?x=1", "clickhouse://ops:hunter2@h:99999/db",
                                 "clickhouse://ops:hunter2@/db", "chdb://ops:hunter2@h/x"])
def test_a_bad_warehouse_url_is_refused_without_showing_its_password(url):
    with pytest.raises(ValueError) as refused:
        parse_warehouse_url(url)
    assert "hunter2" not in str(refused.value) and "ops:***@" in str(refused.value)
