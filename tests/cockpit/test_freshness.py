"""The Python side of "screens tell the truth whatever fails" and of the one place that turns exceptions into what a
user sees: the badge's payload, the classification of errors, Dash's on_error and the Flask handlers over the
test client (no traceback or driver text in a body; the error id on the page is the one of the log line), and
the watchdog's decision table (assets/watchdog.js, run by node)."""
import datetime as dt
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import dash
import pytest

from cockpit import access, errors, users, wall_view
from cockpit.app import create_app
from cockpit.components import freshness as fr
from config.logs import JsonFormatter, TextFormatter
from config.settings import load
from tests.conftest import TEST_SECRET
from tests.helpers import Clock, csrf_header, signed_in_client
from warehouse import WarehouseError, WarehouseUnavailable

ROOT = Path(__file__).resolve().parents[2]
DRIVER_TEXT = "Code: 210. Connection refused (127.0.0.1:9000)"
OUTAGE = WarehouseUnavailable(f"ClickHouse at 127.0.0.1:9000 unreachable: {DRIVER_TEXT}")
LEAKS = ("Traceback", "Connection refused", "Code: 210", "ClickHouse", "secret-bug-text")


@pytest.fixture(autouse=True)
def fresh_outage_log(monkeypatch):
    """Each test starts with an outage log line due (the throttle is per process)."""
    monkeypatch.setattr(errors, "_outage_log", errors.Throttle(errors.OUTAGE_LOG_SECONDS))


@pytest.fixture
def app(server_warehouse):
    """The real app on a fresh ClickHouse server database (these tests are about the app, not the backend)."""
    settings = load(ROOT / "config" / "cockpit.yaml", environ={}).replace(**{
        "warehouse.url": f"clickhouse://default:@127.0.0.1:9000/{server_warehouse.database}",
        "auth.secret": TEST_SECRET})
    return create_app(settings, server_warehouse)


@pytest.fixture
def records():
    """What cockpit.errors logs during the test."""
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    logger, handler = logging.getLogger("cockpit.errors"), Keep(logging.DEBUG)
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


def no_leak(text: str) -> None:
    assert not [leak for leak in LEAKS if leak in text], text[:2000]


# --- the badge's payload ------------------------------------------------------------------------------------------

def test_an_answer_carries_level_text_age_and_a_new_seq_each_time():
    first = fr.answer("ok", "数据正常 · 最新事件 2秒前", 2.345)
    second = fr.answer("ok", "数据正常 · 最新事件 2秒前", 2.345)
    assert set(first) == {"level", "text", "age", "seq"}
    assert first["age"] == 2.3 and first["level"] == "ok" and first["text"] == "数据正常 · 最新事件 2秒前"
    assert second["seq"] > first["seq"]
    assert fr.answer("alarm", "数据中断 · 暂无数据")["age"] is None


def test_a_screen_without_data_age_says_the_time_of_its_answer_in_the_city_time_zone():
    noon = dt.datetime(2026, 12, 5, 4, 0, 7, tzinfo=dt.timezone.utc).timestamp()
    assert fr.as_of(noon, "Asia/Shanghai")["text"] == "数据时间 12:00:07"
    assert fr.as_of(noon, "Asia/Shanghai")["level"] == "ok"


def test_the_badge_names_its_store_interval_and_time_zone():
    badge, store = fr.freshness_badge("duty", 5000, "Asia/Shanghai")
    assert badge.id == "duty-freshness" and store.id == "duty-fresh"
    props = badge.to_plotly_json()["props"]
    assert props["data-refresh-ms"] == "5000" and props["data-tz"] == "Asia/Shanghai"
    assert int(props["data-layout-seq"]) <= fr.answer_seq()
    assert badge.children == "连接中…" and badge.className == "badge badge-warn"


@pytest.mark.parametrize("screen", list(access.SCREENS))
def test_the_guard_lets_each_screens_store_and_badge_through_to_its_roles_only(screen):
    for role in users.ROLES:
        allowed = role in access.SCREENS[screen] or role == "admin"
        assert access.may_call(role, [f"{screen}-fresh", f"{screen}-freshness"]) == allowed, (screen, role)


def test_every_screen_fills_its_store_and_nothing_outputs_the_fault_store(app):
    app.server.test_client().get("/login")  # Dash registers the callbacks at the first request
    outputs = " ".join(app.callback_map)
    for screen in access.SCREENS:
        assert f"{screen}-fresh.data" in outputs, screen
    # set only by cockpit.errors with set_props (a side update): no callback's output, so no role needs it
    assert errors.FAULT_STORE not in outputs
    assert "-freshness." not in outputs  # the badge is the watchdog's alone


# --- classification -------------------------------------------------------------------------------------------

def test_an_outage_is_one_warning_line_without_traceback_and_a_plain_message(records):
    fault = errors.classify(OUTAGE, "callback wall-kpi")
    assert fault["kind"] == "outage" and fault["message"] == "数据仓库暂时无法连接" and "id" not in fault
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    assert records[0].fields["error"] == "WarehouseUnavailable" and records[0].fields["where"] == "callback wall-kpi"


def test_an_outage_that_goes_on_logs_once_per_30_seconds_and_counts_what_it_left_out(records, monkeypatch):
    clock = Clock(1000.0)
    monkeypatch.setattr(errors, "_outage_log", errors.Throttle(30, clock))
    for t in (0, 2, 4, 29.9, 30, 31):
        clock.now = 1000.0 + t
        errors.classify(OUTAGE, "callback wall-kpi")
    assert len(records) == 2
    assert "left_out" not in records[0].fields and records[1].fields["left_out"] == 3


@pytest.mark.parametrize("exc", [ValueError("secret-bug-text"), WarehouseError("bad SQL: secret-bug-text")])
def test_anything_else_is_a_bug_with_an_error_id_in_one_error_line_with_its_traceback(exc, records):
    try:
        raise exc
    except Exception as e:
        fault = errors.classify(e, "callback wall-kpi")
    assert fault["kind"] == "bug" and re.fullmatch(r"[0-9a-f]{8}", fault["id"])
    assert fault["message"] == f"页面出错，错误编号 {fault['id']}"
    (record,) = records
    assert record.levelname == "ERROR" and record.fields["error_id"] == fault["id"]
    text = TextFormatter().format(record)
    assert f"ERROR cockpit.errors: error {fault['id']} in callback wall-kpi" in text.splitlines()[0]
    assert "Traceback" in text and "secret-bug-text" in text  # the operator's line has it all
    doc = json.loads(JsonFormatter().format(record))  # one line in JSON
    assert doc["error_id"] == fault["id"] and "Traceback" in doc["exc"]


def test_a_bugs_ids_differ():
    assert len({errors.bug(errors.classify(RuntimeError(), "x")["id"])["id"] for _ in range(20)}) == 20


# --- Dash callbacks through on_error (the test client, the real app) ------------------------------------------------

def dash_call(client, key: str, inputs: list[dict]):
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in key.strip(".").split("...")]
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": inputs,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"], "state": []}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json",
                       headers=csrf_header(client))


def wall_refresh(app, client):
    key = next(k for k in app.callback_map if "wall-fresh.data" in k)
    return dash_call(client, key, [{"id": "wall-tick", "property": "n_intervals", "value": 1},
                                   {"id": "wall-viewport", "property": "data", "value": 1920}])


def router(client, path: str):
    return dash_call(client, ".._pages_content.children..._pages_store.data..",
                     [{"id": "_pages_location", "property": "pathname", "value": path},
                      {"id": "_pages_location", "property": "search", "value": ""}])


def test_a_good_wall_refresh_fills_its_store(app, server_warehouse):
    client = signed_in_client(app.server, server_warehouse, "wall")
    reply = wall_refresh(app, client)
    assert reply.status_code == 200
    fresh = reply.get_json()["response"]["wall-fresh"]["data"]
    assert fresh["level"] == "alarm" and fresh["text"] == "数据中断 · 暂无数据" and fresh["age"] is None
    assert "sideUpdate" not in reply.get_json()


def test_an_outage_in_a_callback_keeps_the_outputs_and_tells_the_fault_store(app, server_warehouse, monkeypatch,
                                                                              records):
    client = signed_in_client(app.server, server_warehouse, "wall")
    monkeypatch.setattr(wall_view, "load", lambda *a, **k: (_ for _ in ()).throw(OUTAGE))
    reply = wall_refresh(app, client)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["response"] == {}  # every output no_update: the screen keeps its numbers (the watchdog greys them)
    fault = body["sideUpdate"][errors.FAULT_STORE]["data"]
    assert fault["kind"] == "outage" and fault["message"] == "数据仓库暂时无法连接"
    no_leak(reply.get_data(as_text=True))
    assert [r.levelname for r in records] == ["WARNING"] and records[0].fields["user"] == "wall"


def test_a_bug_in_a_callback_shows_an_error_id_that_matches_one_log_line(app, server_warehouse, monkeypatch, records):
    client = signed_in_client(app.server, server_warehouse, "wall")

    def broken(*_a, **_k):
        raise KeyError("secret-bug-text")
    monkeypatch.setattr(wall_view, "load", broken)
    reply = wall_refresh(app, client)
    assert reply.status_code == 200
    fault = reply.get_json()["sideUpdate"][errors.FAULT_STORE]["data"]
    assert fault["kind"] == "bug" and fault["message"] == f"页面出错，错误编号 {fault['id']}"
    no_leak(reply.get_data(as_text=True))
    (record,) = records
    assert record.levelname == "ERROR" and record.fields["error_id"] == fault["id"] and record.exc_info
    assert "wall-kpi-received-value" in record.fields["where"]


@pytest.mark.parametrize("exc, title", [(OUTAGE, "数据仓库暂时无法连接"), (RuntimeError("secret-bug-text"), "页面出错")])
def test_a_page_whose_layout_fails_says_why_and_reloads_itself(app, server_warehouse, monkeypatch, records, exc,
                                                               title):
    client = signed_in_client(app.server, server_warehouse, "wall")
    assert router(client, "/wall").status_code == 200  # the router exists after the first request
    page = next(p for p in dash.page_registry.values() if p["path"] == "/wall")

    def broken(**_query):
        raise exc
    monkeypatch.setitem(page, "layout", broken)
    reply = router(client, "/wall")
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    no_leak(text)
    panel = reply.get_json()["response"]["_pages_content"]["children"]
    assert panel["props"]["className"] == "fault-page" and title in text
    assert panel["props"]["data-retry-ms"] == str(errors.RETRY_SECONDS[errors.classify(exc, "x")["kind"]] * 1000)
    fault = reply.get_json()["sideUpdate"][errors.FAULT_STORE]["data"]
    if fault["kind"] == "bug":
        assert f"错误编号 {fault['id']}" in text and records[0].fields["error_id"] == fault["id"]


def test_the_404_page_stays(app, server_warehouse):
    client = signed_in_client(app.server, server_warehouse, "duty")
    reply = router(client, "/no-such-screen")
    assert "404 · 页面不存在" in reply.get_data(as_text=True)
    assert client.get("/assets/no-such-file.css").status_code == 404  # HTTP errors below 500 pass as they are


# --- Flask handlers: page loads, the guard, the API -----------------------------------------------------------------

def broken_directory(monkeypatch, exc):
    def get(self, name):
        raise exc
    monkeypatch.setattr(users.Directory, "get", get)


def test_a_page_load_during_an_outage_gets_a_chinese_503_that_retries_by_itself(app, server_warehouse, monkeypatch,
                                                                                records):
    client = signed_in_client(app.server, server_warehouse, "wall")
    broken_directory(monkeypatch, OUTAGE)  # the guard reads the users from the warehouse
    reply = client.get("/wall")
    text = reply.get_data(as_text=True)
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "10" and reply.mimetype == "text/html"
    assert '<meta http-equiv="refresh" content="10">' in text and 'lang="zh-CN"' in text
    assert "<h1>数据仓库暂时无法连接</h1>" in text and "自动重试" in text and "/assets/cockpit.css" in text
    no_leak(text)
    assert [r.levelname for r in records] == ["WARNING"]


def test_a_callback_the_guard_could_not_check_during_an_outage_tells_the_fault_store(app, server_warehouse,
                                                                                      monkeypatch):
    client = signed_in_client(app.server, server_warehouse, "wall")
    broken_directory(monkeypatch, OUTAGE)
    reply = wall_refresh(app, client)
    assert reply.status_code == 200
    assert reply.get_json()["response"] == {}  # nothing of the screen's data: the session was not checked
    assert reply.get_json()["sideUpdate"][errors.FAULT_STORE]["data"]["kind"] == "outage"
    panel = router(client, "/wall").get_json()["response"]["_pages_content"]["children"]
    assert panel["props"]["className"] == "fault-page"
    no_leak(reply.get_data(as_text=True))


def test_a_bug_on_a_page_load_gets_a_500_page_whose_error_id_is_the_log_lines(app, server_warehouse, monkeypatch,
                                                                              records):
    client = signed_in_client(app.server, server_warehouse, "wall")
    broken_directory(monkeypatch, RuntimeError("secret-bug-text"))
    reply = client.get("/wall")
    text = reply.get_data(as_text=True)
    assert reply.status_code == 500 and "<h1>页面出错</h1>" in text and '<meta http-equiv="refresh"' in text
    no_leak(text)
    (record,) = [r for r in records if r.levelname == "ERROR"]
    shown = re.search(r"错误编号 ([0-9a-f]{8})", text).group(1)
    assert record.fields["error_id"] == shown and record.fields["where"] == "GET /wall"
    assert shown in TextFormatter().format(record).splitlines()[0]

    api = client.get("/api/alerts")
    assert api.status_code == 500 and api.get_json()["error"].startswith("页面出错")
    assert api.get_json()["error_id"] != shown  # each failure its own id and line
    no_leak(api.get_data(as_text=True))


# --- the watchdog's decision (assets/watchdog.js) ---------------------------------------------------------------

T = dt.datetime(2026, 12, 7, 0, 0, 5, tzinfo=dt.timezone.utc).timestamp() * 1000  # 08:00:05 in Guangzhou
FRESH = {"level": "ok", "text": "数据正常 · 最新事件 2秒前", "age": 2, "seq": 100}
BASE = {"since": T - 60_000, "refreshMs": 2000, "timeZone": "Asia/Shanghai", "fresh": FRESH, "goodAt": T,
        "fault": None, "faultAt": None, "failure": None, "okAt": T}
CASES = [  # (what happened, the inputs over BASE, level, text, stale)
    ("a good answer a second ago", {"now": T + 1000}, "ok", "数据正常 · 最新事件 3秒前", False),
    ("no answer for 1.6 intervals: still fine", {"now": T + 3200}, "ok", "数据正常 · 最新事件 5秒前", False),
    ("no answer for longer", {"now": T + 3300}, "alarm", "连接中断 · 最后更新 08:00:05", True),
    ("a screen without a timer is not judged by time", {"now": T + 3_600_000, "refreshMs": 0,
                                                        "fresh": {**FRESH, "age": None, "text": "数据时间 08:00:05"}},
     "ok", "数据时间 08:00:05", False),
    ("its request failed", {"now": T + 500, "failure": {"at": T + 400, "status": 0}},
     "alarm", "连接中断 · 最后更新 08:00:05", True),
    ("a request failed, a later one got through", {"now": T + 900, "failure": {"at": T + 400, "status": 502},
                                                   "okAt": T + 800}, "ok", "数据正常 · 最新事件 2秒前", False),
    ("the session ended", {"now": T + 500, "failure": {"at": T + 400, "status": 401}},
     "alarm", "登录已失效 · 请重新登录 · 最后更新 08:00:05", True),
    ("the server reports an outage", {"now": T + 2500, "fault": {"kind": "outage", "seq": 101}, "faultAt": T + 2000},
     "alarm", "数据中断 · 数据仓库无法连接 · 最后更新 08:00:05", True),
    ("an outage, then a good answer", {"now": T + 2500, "fault": {"kind": "outage", "seq": 99},
                                       "faultAt": T - 500}, "ok", "数据正常 · 最新事件 4秒前", False),
    ("an outage goes on past the timer", {"now": T + 9000, "fault": {"kind": "outage", "seq": 101},
                                          "faultAt": T + 8000}, "alarm", "数据中断 · 数据仓库无法连接 · 最后更新 08:00:05", True),
    ("a bug in another callback of a good refresh", {"now": T + 1500, "fault": {"kind": "bug", "id": "0a1b2c3d",
                                                                                "seq": 99}, "faultAt": T + 1000},
     "alarm", "页面错误 · 编号 0a1b2c3d · 最后更新 08:00:05", True),
    ("that bug not seen again", {"now": T + 2000, "goodAt": T + 1900, "fresh": {**FRESH, "seq": 102},
                                 "fault": {"kind": "bug", "id": "0a1b2c3d", "seq": 99}, "faultAt": T - 2000},
     "ok", "数据正常 · 最新事件 2秒前", False),
    ("nothing yet", {"now": T + 1000, "since": T, "fresh": None, "goodAt": None}, "warn", "连接中…", False),
    ("nothing ever", {"now": T + 4000, "since": T, "fresh": None, "goodAt": None},
     "alarm", "连接中断 · 尚未收到数据", True),
]


def node(script: str, data) -> object:
    if shutil.which("node") is None:
        pytest.skip("node unavailable")
    out = subprocess.run(["node", "-e", f"const w = require({json.dumps(str(ROOT / 'assets' / 'watchdog.js'))});"
                          f"const data = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
                          f"process.stdout.write(JSON.stringify({script}));"],
                         input=json.dumps(data), capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_the_watchdog_decides_as_the_table_says():
    verdicts = node("data.map(w.judge)", [{**BASE, **inputs} for _, inputs, *_ in CASES])
    for (what, _, level, text, stale), verdict in zip(CASES, verdicts):
        assert (verdict["level"], verdict["text"], verdict["stale"]) == (level, text, stale), what
        if stale:
            assert verdict["banner"] == ("以下为 08:00:05 的数据，当前无法更新" if "最后更新" in text else "当前无法获取数据")


def test_the_watchdog_formats_ages_as_the_server_does():
    ages = [0, 1.9, 59, 60, 61, 3599, 3600, 7_500, 86_399, 86_400, 200_000]
    assert node("data.map(w.formatAge)", ages) == [fr.format_age(a) for a in ages]
