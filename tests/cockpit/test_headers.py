"""Response headers and the request-body cap (cockpit/headers.py), over HTTP on both warehouse backends: every
answer carries the Content-Security-Policy, whose script-src admits exactly the page's own inline scripts (by
hash) and nothing inline or evaluated besides; data and pages are ``no-store``, static files keep their caching;
a body over 4 MB is answered 413 and not acted on — by Flask (as under gunicorn) and by the real waitress server
over loopback, which refuses it before reading it."""
import base64
import hashlib
import json
import re
import socket
import time

import pytest
import requests

from alerts import store
from cockpit import headers
from cockpit.app import create_app
from cockpit.serve import WebServer
from streams.broker import free_port
from tests.cockpit.calls import body
from tests.helpers import csrf_header, raise_incident_alert, signed_in_client

ACT = "..duty-changed.data...duty-message.children...duty-note.value.."
MB = 1024 * 1024
PAGES = ("/wall", "/map", "/duty", "/brief", "/analysis", "/district/440106")
DATA = ("/_dash-layout", "/_dash-dependencies", "/api/alerts", "/healthz")


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


def inline_script_hashes(page: str) -> set[str]:
    """The CSP hashes of the scripts a browser would run from ``page``'s markup (not JSON data blocks, not inside
    comments)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)
    found = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", page, flags=re.DOTALL)
    return {f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
            for attributes, code in found if "application/json" not in attributes}


def note_call(app, alert_id: str, note: str, size: int = 0) -> bytes:
    """The 添加备注 callback's body as dash-renderer sends it, padded with JSON whitespace to ``size`` bytes."""
    call = body(app, ACT, None, None, None, None, None, 1, alert_id, "", "", note, 0)
    call["changedPropIds"] = ["duty-act-note.n_clicks"]
    raw = json.dumps(call).encode()
    return raw + b" " * max(0, size - len(raw))


@pytest.fixture
def app(warehouse, settings_for):
    return create_app(settings_for(), warehouse)


def test_every_answer_carries_the_policy_and_it_admits_only_the_pages_own_scripts(app, warehouse):
    client = signed_in_client(app.server, warehouse, "admin")
    for path in PAGES:
        reply = client.get(path)
        assert reply.status_code == 200, path
        policy = directives(reply)
        scripts = inline_script_hashes(reply.get_data(as_text=True))
        assert len(scripts) >= 2, path  # the renderer's start and the clientside callbacks
        assert set(policy["script-src"]) == {"'self'"} | scripts, path
    assert directives(reply) == {
        "default-src": ["'self'"], "script-src": directives(reply)["script-src"],
        "style-src": ["'self'", "'unsafe-inline'"], "img-src": ["'self'", "data:"], "connect-src": ["'self'"],
        "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'self'"]}
    others = [client.get(p) for p in (*DATA, "/assets/cockpit.css", "/no-such-screen")]
    others += [app.server.test_client().get(p) for p in ("/login", "/wall", "/_dash-layout")]  # signed out
    for reply in others:
        assert directives(reply)["script-src"] == directives(client.get("/wall"))["script-src"], reply.request.path
        assert directives(reply)["frame-ancestors"] == ["'self'"]


def test_the_sign_in_page_runs_no_inline_script(app):
    page = app.server.test_client().get("/login").get_data(as_text=True)
    assert "<form" in page and inline_script_hashes(page) == set() and "<script" not in page


def test_the_tile_servers_origin_may_serve_images(warehouse, settings_for):
    app = create_app(settings_for(**{"cockpit.tile_url": "https://{s}.tiles.example.cn:8443/gz/{z}/{x}/{y}.png"}),
                      warehouse)
    reply = signed_in_client(app.server, warehouse, "admin").get("/map")
    assert directives(reply)["img-src"] == ["'self'", "data:", "https://*.tiles.example.cn:8443"]


@pytest.mark.parametrize("template, source", [
    ("", ""),
    ("/tiles/{z}/{x}/{y}.png", ""),  # the cockpit's own origin: 'self'
    ("https://tiles.gz.gov.cn/{z}/{x}/{y}.png", "https://tiles.gz.gov.cn"),
    ("http://10.1.2.3:8080/t/{z}/{x}/{y}.png", "http://10.1.2.3:8080"),
    ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ("http://[fd00::1]:8080/{z}/{x}/{y}.png", "http://[fd00::1]:8080"),
])
def test_tile_source_names_the_tile_server(template, source):
    assert headers.tile_source(template) == source


@pytest.mark.parametrize("template", ["https://a.{s}.example/{z}.png", "https://{s}/{z}.png", "ftp://tiles/{z}.png",
                                      "//tiles.example/{z}.png", "https://tiles.example:{port}/{z}.png"])
def test_a_tile_server_no_csp_source_can_name_is_refused_at_start_up(template):
    with pytest.raises(ValueError, match="cockpit.tile_url"):
        headers.tile_source(template)


def test_pages_and_data_are_not_stored_static_files_keep_their_caching(app, warehouse):
    client = signed_in_client(app.server, warehouse, "admin")
    alert_id = raise_incident_alert(warehouse)
    answers = {p: client.get(p) for p in (*PAGES, *DATA, f"/api/alerts/{alert_id}/cap")}
    answers["callback"] = client.post("/_dash-update-component", data=note_call(app, alert_id, "现场水深 20 厘米"),
                                      content_type="application/json", headers=csrf_header(client))
    answers["signed out"] = app.server.test_client().get("/duty")
    for what, reply in answers.items():
        assert reply.status_code in (200, 302), (what, reply.status_code)
        assert reply.headers.get("Cache-Control") == "no-store", what
    page = answers["/wall"].get_data(as_text=True)
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', page).group(1)
    assert client.get(suite).headers["Cache-Control"] == "max-age=31536000"  # fingerprinted: a year
    asset = client.get("/assets/cockpit.css")
    assert asset.headers["Cache-Control"] == "no-cache" and asset.headers["ETag"]  # revalidated, as Flask does


def test_a_body_over_4_mb_is_refused_with_413_and_not_acted_on(app, warehouse):
    client = signed_in_client(app.server, warehouse, "duty")
    alert_id = raise_incident_alert(warehouse)

    def post(raw: bytes):
        return client.post("/_dash-update-component", data=raw, content_type="application/json",
                           headers=csrf_header(client))

    assert post(note_call(app, alert_id, "超大请求", 5 * MB)).status_code == 413
    assert post(b"csrf_token=x&" + b"a" * 5 * MB).status_code == 413
    assert store.actions(warehouse, alert_id)["action"].tolist() == ["open"]
    assert post(note_call(app, alert_id, "三兆以内照常处理", 3 * MB)).status_code == 200
    assert store.actions(warehouse, alert_id)["note"].tolist()[-1] == "三兆以内照常处理"


def test_registering_again_adds_nothing(app):  # create_app has registered them
    before = len(app.server.after_request_funcs[None])
    headers.register(app, "")
    assert len(app.server.after_request_funcs[None]) == before


@pytest.fixture
def web(warehouse, settings_for):
    server = WebServer(settings_for(**{"cockpit.port": free_port()}), warehouse)
    yield server.start()
    server.stop()


def signed_in_session(base_url: str, warehouse, role: str) -> requests.Session:
    from cockpit import users

    users.put(warehouse, role, role, "pass-" + role * 4)
    session = requests.Session()
    form = session.get(f"{base_url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    reply = session.post(f"{base_url}/login", data={"username": role, "password": "pass-" + role * 4,
                                                     "csrf_token": token}, allow_redirects=False, timeout=10)
    assert reply.status_code == 302
    return session


def test_the_real_server_refuses_a_5_mb_callback_with_413_and_acts_on_none(web, warehouse):
    alert_id = raise_incident_alert(warehouse)
    session = signed_in_session(web.url, warehouse, "duty")

    def send(raw: bytes):
        return session.post(f"{web.url}/_dash-update-component", data=raw, timeout=30,
                            headers={"Content-Type": "application/json", "X-CSRFToken": session.cookies["_csrf_token"]})

    assert send(note_call(web.app, alert_id, "超大请求", 5 * MB)).status_code == 413
    assert store.actions(warehouse, alert_id)["action"].tolist() == ["open"]
    assert send(note_call(web.app, alert_id, "一兆以内照常处理", 1 * MB)).status_code == 200
    assert store.actions(warehouse, alert_id)["note"].tolist()[-1] == "一兆以内照常处理"


def test_the_real_server_answers_413_before_reading_a_body_announced_over_4_mb(web):
    """waitress buffers a whole body before the app sees it: without its own cap it would wait for all 5 MB."""
    host, port = web.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /_dash-update-component HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {5 * MB}\r\n\r\n".encode() + b" " * 65536)
        started = time.monotonic()
        answer = sock.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
