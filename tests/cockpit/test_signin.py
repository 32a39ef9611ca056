"""Sign-in, roles, CSRF, rate limit and session expiry, enforced by the server (Flask test client, both
warehouse backends; users in the real ``users`` table)."""
import json
import logging
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from cockpit import access, users
from cockpit.app import create_app
from config.logs import JsonFormatter, TextFormatter
from tests.helpers import csrf_header, signed_in_client, wait_until

SCREENS = ["/wall", "/map", "/duty", "/brief", "/analysis", "/district/440106"]


@pytest.fixture
def server(warehouse, settings_for):
    return create_app(settings_for(), warehouse).server


def form_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def post_login(client, name: str, password: str, **extra):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": form_token(client),
                                       **extra})


@pytest.fixture
def log_lines():
    """What the cockpit logs during the test, formatted as each ``log.format`` writes it: (text lines, JSON
    objects)."""
    text, docs = [], []

    class Both(logging.Handler):
        def emit(self, record):
            text.append(TextFormatter().format(record))
            docs.append(json.loads(JsonFormatter().format(record)))

    logger, handler = logging.getLogger("cockpit"), Both(logging.INFO)
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(handler)
    yield text, docs
    logger.removeHandler(handler)
    logger.setLevel(level)


def callback(client, output: str, inputs: list | None = None, csrf: bool = True):
    body = {"output": output, "outputs": [], "inputs": inputs or [], "changedPropIds": []}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json",
                       headers=csrf_header(client) if csrf else {})


@pytest.mark.parametrize("path", [*SCREENS, "/", "/no-such-page", "/wall?district=440106"])
def test_screens_redirect_to_sign_in_without_a_session(server, path):
    reply = server.test_client().get(path)
    assert reply.status_code == 302
    target = urlsplit(reply.headers["Location"])
    assert target.path == "/login"
    assert path == "/" or parse_qs(target.query)["next"] == [path]


def test_dash_and_api_requests_get_401_and_public_files_stay_public(server):
    client = server.test_client()
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    assert callback(client, "wall-ticker.children", csrf=False).status_code == 401
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/login").status_code == 200
    assert client.get("/assets/cockpit.css").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.parametrize("role", users.ROLES)
def test_each_role_opens_its_screens_and_is_refused_the_others(server, warehouse, role):
    client = signed_in_client(server, warehouse, role)
    for path in SCREENS:
        status = client.get(path).status_code
        assert status == (200 if role in access.SCREENS[access.screen_of(path)] else 403), (role, path)
    assert client.get("/").headers["Location"] == access.HOME[role]


def test_sign_in_goes_to_the_page_asked_for_when_the_role_may_open_it(server, warehouse):
    users.put(warehouse, "zhang", "analyst", "correct horse battery")
    asked = post_login(server.test_client(), "zhang", "correct horse battery", next="/district/440106?x=1")
    assert asked.headers["Location"] == "/district/440106?x=1"
    for refused in ("/duty", "//evil.example/wall", "https://evil.example/", "/\\evil", "/login"):
        reply = post_login(server.test_client(), "zhang", "correct horse battery", next=refused)
        assert reply.headers["Location"] == "/analysis", refused


def test_wrong_password_unknown_user_and_missing_form_token_are_refused(server, warehouse):
    users.put(warehouse, "li", "duty", "correct horse battery")
    client = server.test_client()
    for name, password in [("li", "wrong password!"), ("nobody", "correct horse battery"), ("li", "")]:
        reply = post_login(client, name, password)
        assert reply.status_code == 200 and "用户名或密码错误" in reply.get_data(as_text=True)
    no_token = client.post("/login", data={"username": "li", "password": "correct horse battery"})
    assert no_token.status_code == 400
    assert client.get("/wall").status_code == 302  # none of these signed in


def test_sign_in_and_sign_out_lines_name_the_user_the_role_and_the_address(server, warehouse, log_lines):
    users.put(warehouse, "li", "duty", "correct horse battery")
    client = server.test_client()
    post_login(client, "nobody", "correct horse battery")
    post_login(client, "li", "wrong password!")
    post_login(client, "li", "correct horse battery")
    client.post("/logout", data={"csrf_token": client.get_cookie("_csrf_token").value})
    text, docs = log_lines
    assert [line.split(" ", 2)[2] for line in text] == [
        "WARNING cockpit.signin: sign-in failed user=nobody addr=127.0.0.1",
        "WARNING cockpit.signin: sign-in failed user=li role=duty addr=127.0.0.1",
        "INFO cockpit.signin: signed in user=li role=duty addr=127.0.0.1",
        "INFO cockpit.signin: signed out user=li role=duty addr=127.0.0.1"]
    assert [{k: v for k, v in doc.items() if k not in ("ts", "level", "logger")} for doc in docs] == [
        {"msg": "sign-in failed", "user": "nobody", "addr": "127.0.0.1"},
        {"msg": "sign-in failed", "user": "li", "role": "duty", "addr": "127.0.0.1"},
        {"msg": "signed in", "user": "li", "role": "duty", "addr": "127.0.0.1"},
        {"msg": "signed out", "user": "li", "role": "duty", "addr": "127.0.0.1"}]


def test_kiosk_sign_in_lines_name_the_wall_user_and_never_the_token(server, warehouse, log_lines):
    users.put(warehouse, "wallpc", "wall", secrets.token_urlsafe(12))
    token = users.issue_token(warehouse, "wallpc")
    client = server.test_client()
    client.get("/wall?kiosk=not-the-token")
    client.get(f"/wall?kiosk={token}")
    text, docs = log_lines
    assert [line.split(" ", 2)[2] for line in text] == [
        "WARNING cockpit.signin: kiosk sign-in with an unknown token addr=127.0.0.1",
        "INFO cockpit.signin: kiosk signed in user=wallpc role=wall addr=127.0.0.1"]
    assert docs[1]["user"] == "wallpc" and docs[1]["addr"] == "127.0.0.1"
    assert not any(secret in line for line in text + [json.dumps(d) for d in docs]
                   for secret in (token, "not-the-token"))


def test_a_hostile_user_name_cannot_forge_a_log_line(server, log_lines):
    post_login(server.test_client(), "x\n2026-12-07 08:00:00,000 INFO cockpit.signin: signed in user=admin", "pw")
    text, docs = log_lines
    assert len(text) == 1 and "\n" not in text[0]
    assert text[0].endswith(r'sign-in failed user="x\n2026-12-07 08:00:00,000 INFO cockpit.signin: signed in '
                            r'user=admin" addr=127.0.0.1')
    assert docs[0]["user"].startswith("x\n2026")


def test_hostile_user_name_is_shown_as_text(server):
    reply = post_login(server.test_client(), '"><script>alert(1)</script>', "whatever password")
    text = reply.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_failed_sign_ins_are_rate_limited_per_user_name(warehouse, settings_for):
    server = create_app(settings_for(**{"auth.login_attempts": 3}), warehouse).server
    users.put(warehouse, "wang", "leader", "correct horse battery")
    for _ in range(3):
        assert "用户名或密码错误" in post_login(server.test_client(), "wang", "guess guess guess").get_data(as_text=True)
    refused = post_login(server.test_client(), "wang", "correct horse battery")  # even the right password now
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 2  # the first delay, 1 s
    users.put(warehouse, "zhao", "leader", "correct horse battery")
    assert post_login(server.test_client(), "zhao", "correct horse battery").status_code == 429  # same address


def test_callbacks_need_the_csrf_header_and_a_role_allowed_on_their_screen(server, warehouse):
    wall = signed_in_client(server, warehouse, "wall")
    assert callback(wall, "wall-ticker.children", csrf=False).status_code == 403  # no CSRF header
    for output in ("duty-queue.rowData", "..wall-ticker.children...duty-detail.children..", "brief-kpis.children",
                   '{"index":1,"type":"duty-act"}.n_clicks', "nobody-knows.children"):
        assert callback(wall, output).status_code == 403, output
    routing = [{"id": "_pages_location", "property": "pathname", "value": "/duty"},
               {"id": "_pages_location", "property": "search", "value": ""}]
    assert callback(wall, ".._pages_content.children..._pages_store.data..", routing).status_code == 403


def test_a_malformed_callback_body_is_refused_not_crashed_on(server, warehouse):
    wall = signed_in_client(server, warehouse, "wall")
    for body in ("not json", "[1, 2]", '{"output": 42}', '{"inputs": "x"}', ""):
        reply = wall.post("/_dash-update-component", data=body, content_type="application/json",
                          headers=csrf_header(wall))
        assert reply.status_code == 400, body


def test_sign_out_needs_the_form_token_and_ends_the_session(server, warehouse):
    client = signed_in_client(server, warehouse, "duty")
    assert client.post("/logout").status_code == 403
    assert client.get("/duty").status_code == 200
    reply = client.post("/logout", data={"csrf_token": client.get_cookie("_csrf_token").value})
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"
    assert client.get("/duty").status_code == 302


def test_sessions_expire(server, warehouse, settings_for):
    client = signed_in_client(server, warehouse, "leader")
    with client.session_transaction() as session:
        session["t"] = time.time() - settings_for().auth.session_hours * 3600 - 1
    assert client.get("/brief").status_code == 302


def test_a_disabled_user_or_a_new_password_ends_its_sessions(server, warehouse):
    client = signed_in_client(server, warehouse, "analyst")
    other = signed_in_client(server, warehouse, "duty")
    users.set_disabled(warehouse, "analyst")
    users.set_password(warehouse, "duty", "a brand new password")
    assert wait_until(lambda: client.get("/analysis").status_code == 302, timeout=15)  # the directory's ttl
    assert wait_until(lambda: other.get("/duty").status_code == 302, timeout=15)


def test_a_kiosk_token_signs_a_wall_pc_in_and_only_to_the_wall(server, warehouse):
    users.put(warehouse, "wallpc", "wall", secrets.token_urlsafe(12))
    token = users.issue_token(warehouse, "wallpc")
    client = server.test_client()
    assert client.get("/wall?kiosk=not-the-token").status_code == 403
    reply = client.get(f"/wall?kiosk={token}&district=440106")
    assert reply.status_code == 302 and reply.headers["Location"] == "/wall?district=440106"
    assert client.get("/wall").status_code == 200
    assert client.get("/duty").status_code == 403
    users.put(warehouse, "li", "duty", "correct horse battery")
    with pytest.raises(users.UserError, match="kiosk tokens are for wall users"):
        users.issue_token(warehouse, "li")
