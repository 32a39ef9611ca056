"""One place turns exceptions into what a user sees: Dash's app-level ``on_error`` for callbacks and a Flask error
handler for every other request (the sign-in guard, page loads, the API).

Two kinds of fault, never a driver's text or a traceback on a page:
- an outage (``warehouse.WarehouseUnavailable``: it can pass) — one warning line in the log (at most one per
  ``OUTAGE_LOG_SECONDS`` while it lasts), the screens say 数据仓库暂时无法连接 and retry by themselves;
- a bug (anything else) — a short random error id, one ERROR line with the traceback and that id, and the screen
  says 页面出错，错误编号 <id>.

A callback's fault goes to the shell's store ``cockpit-fault`` (``{"kind", "seq", "message"[, "id"]}``), which the
browser's watchdog (``assets/watchdog.js``) shows on the screen's badge, the outputs keep their last values (it is
marked stale). A page request gets a Chinese page (503 for an outage, 500 for a bug) that reloads itself; a Dash
request failing before its callback ran (in the guard) gets the same store update as a callback would.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from html import escape

import dash
from dash import html, no_update
from flask import Flask, Response, has_request_context, jsonify, request
from plotly.io.json import to_json_plotly
from werkzeug.exceptions import HTTPException

from cockpit import access
from cockpit.components.freshness import answer_seq
from cockpit.signin import current_user
from warehouse import WarehouseUnavailable

log = logging.getLogger(__name__)

FAULT_STORE = "cockpit-fault"
OUTAGE_TEXT = "数据仓库暂时无法连接"
RETRY_SECONDS = {"outage": 10, "bug": 60}  # a page that could not be drawn reloads itself after this long
OUTAGE_LOG_SECONDS = 30.0
ROUTER = "_pages_content"  # Dash pages' routing callback: it runs a page's layout()
UPDATE_PATH = "/_dash-update-component"


def outage() -> dict:
    return {"kind": "outage", "seq": answer_seq(), "message": OUTAGE_TEXT}


def bug(error_id: str) -> dict:
    return {"kind": "bug", "id": error_id, "seq": answer_seq(), "message": f"页面出错，错误编号 {error_id}"}


class Throttle:
    """True at most once per ``every`` seconds; ``left_out`` counts the calls answered False since."""

    def __init__(self, every: float, clock=time.monotonic):
        self._every, self._clock = every, clock
        self._next = float("-inf")
        self._lock = threading.Lock()
        self.left_out = 0

    def __call__(self) -> bool:
        with self._lock:
            if self._clock() < self._next:
                self.left_out += 1
                return False
            self._next = self._clock() + self._every
            return True


_outage_log = Throttle(OUTAGE_LOG_SECONDS)


def classify(exc: BaseException, where: str) -> dict:
    """The fault ``exc`` is, logged: an outage as one warning line (throttled), anything else as one ERROR line
    with the traceback and a new error id."""
    user = current_user()
    fields = {"where": where, "error": type(exc).__name__, **({"user": user.name} if user else {})}
    if isinstance(exc, WarehouseUnavailable):
        if _outage_log():
            left_out, _outage_log.left_out = _outage_log.left_out, 0
            log.warning("warehouse unavailable: the screens say so and retry", extra={"fields": {
                **fields, "detail": str(exc), **({"left_out": left_out} if left_out else {})}})
        return outage()
    error_id = secrets.token_hex(4)
    log.error("error %s in %s", error_id, where, exc_info=exc, extra={"fields": {"error_id": error_id, **fields}})
    return bug(error_id)


def explain(fault: dict) -> tuple[str, list[str]]:
    """The title and lines of the page that stands in for one that could not be drawn."""
    seconds = RETRY_SECONDS[fault["kind"]]
    if fault["kind"] == "outage":
        return OUTAGE_TEXT, ["大屏与各页面暂时无法读取数据。", f"本页每 {seconds} 秒自动重试，恢复后自动显示，无需操作。"]
    return "页面出错", [f"错误编号 {fault['id']}，请将编号告知运维人员。", f"本页将在 {seconds} 秒后自动重试。"]


def fault_panel(fault: dict) -> html.Div:
    """What stands in for a page whose layout() failed; ``data-retry-ms`` has the watchdog reload the page."""
    title, lines = explain(fault)
    return html.Div(className="fault-page", role="alert",
                    **{"data-retry-ms": str(RETRY_SECONDS[fault["kind"]] * 1000)},
                    children=[html.H1(title), *[html.P(line) for line in lines]])


def _callback_outputs() -> list[str]:
    body = request.get_json(silent=True) if has_request_context() else None
    return access.output_ids(str(body.get("output", ""))) if isinstance(body, dict) else []


def on_error(exc: Exception):
    """Dash's app-level callback error handler: the fault to the shell's store; the outputs keep their values
    (None is no_update for all), except a page that could not be drawn, which says why."""
    outputs = _callback_outputs()
    fault = classify(exc, "callback " + (outputs[0] if outputs else "?"))
    dash.set_props(FAULT_STORE, {"data": fault})
    if ROUTER in outputs:
        return [fault_panel(fault), no_update]
    return None


def register(server: Flask) -> None:
    """The Flask handler of every exception no callback handled (HTTP errors below 500 pass as they are)."""
    @server.errorhandler(Exception)
    def handle(exc: Exception):
        if isinstance(exc, HTTPException):
            if exc.code is None or exc.code < 500:
                return exc
            exc = getattr(exc, "original_exception", None) or exc
        return respond(classify(exc, f"{request.method} {request.path}"))


def respond(fault: dict) -> Response:
    """The answer to the current request that failed with ``fault``."""
    status = 503 if fault["kind"] == "outage" else 500
    if request.path == UPDATE_PATH:  # as a callback's on_error would answer: the page's badge says it
        body = {"multi": True, "response": {}, "sideUpdate": {FAULT_STORE: {"data": fault}}}
        if ROUTER in _callback_outputs():
            body["response"][ROUTER] = {"children": fault_panel(fault)}
        return Response(to_json_plotly(body), status=200, mimetype="application/json")
    if request.path.startswith(("/_dash-", "/api/")):
        return jsonify(error=fault["message"], **({"error_id": fault["id"]} if "id" in fault else {})), status
    return fault_page(fault)


def fault_page(fault: dict) -> Response:
    """A plain page in the cockpit's dark theme that reloads itself."""
    seconds, status = RETRY_SECONDS[fault["kind"]], 503 if fault["kind"] == "outage" else 500
    title, lines = explain(fault)
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    response = Response(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{seconds}"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · 城市运行一网统管</title><link rel="stylesheet" href="/assets/cockpit.css"></head>
<body><main class="fault-page" role="alert"><h1>{escape(title)}</h1>{body}</main></body></html>""",
                        status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(seconds)
    return response
