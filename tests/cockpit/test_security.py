"""Issue 14's probes, as an attacker and as users of the wrong role would try them (Flask test clients on real
warehouses, both backends; two apps on one warehouse stand for two servers behind one address)."""
import json
import re
import time

import pytest

from cockpit import users
from cockpit.app import create_app
from cockpit.signin import GuardError
from tests.helpers import HEALTH_TOKEN, csrf_header, signed_in_client, wait_until


def form_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def post_login(client, name: str, password: str, addr: str = "127.0.0.1", **headers):
    token = form_token(client)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers)


def copy_of(client, server):
    """Another browser (of ``server``) holding a copy of ``client``'s cookies."""
    thief = server.test_client()
    for name in ("cockpit_session", "_csrf_token"):
        cookie = client.get_cookie(name)
        thief.set_cookie(name, cookie.value)
    return thief


@pytest.fixture
def app(warehouse, settings_for):
    return create_app(settings_for(**{"auth.health_token": HEALTH_TOKEN}), warehouse)


# 1 · sessions that really end

def test_signing_out_ends_every_copy_of_the_session_on_every_server(app, warehouse, settings_for):
    other_server = create_app(settings_for(), warehouse).server
    leader = signed_in_client(app.server, warehouse, "leader")
    here, there = copy_of(leader, app.server), copy_of(leader, other_server)
    assert here.get("/brief").status_code == 200 and there.get("/brief").status_code == 200
    assert leader.post("/logout", data={"csrf_token": leader.get_cookie("_csrf_token").value}).status_code == 302
    assert here.get("/brief").status_code == 302  # at once on the server that signed out
    assert wait_until(lambda: there.get("/brief").status_code == 302, timeout=15)  # within the directory's ttl
    again = signed_in_client(app.server, warehouse, "leader")  # a new sign-in is a new session
    assert again.get("/brief").status_code == 200


def test_the_cookie_expires_with_the_session(app, warehouse, settings_for):
    client = app.server.test_client()
    users.put(warehouse, "lin", "leader", "correct horse battery")
    reply = post_login(client, "lin", "correct horse battery")
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("cockpit_session="))
    expires = time.mktime(time.strptime(re.search(r"Expires=([^;]+)", cookie).group(1), "%a, %d %b %Y %H:%M:%S GMT"))
    expected = time.time() + settings_for().auth.session_hours * 3600
    assert abs((expires - time.timezone) - expected) < 120, cookie  # 12 h, not the kiosk's 30 days


# 2 · a lockout nobody can turn against the centre

def test_a_strangers_guessing_does_not_lock_the_user_out_of_their_own_browser(warehouse, settings_for):
    server = create_app(settings_for(**{"auth.login_attempts": 3}), warehouse).server
    users.put(warehouse, "wang", "leader", "correct horse battery")
    desk = server.test_client()
    assert post_login(desk, "wang", "correct horse battery", addr="10.1.1.1").status_code == 302  # wang's desk
    desk.post("/logout", data={"csrf_token": desk.get_cookie("_csrf_token").value})
    for _ in range(8):
        post_login(server.test_client(), "wang", "guess guess guess", addr="203.0.113.66")
    assert post_login(server.test_client(), "wang", "correct horse battery", addr="10.1.1.2").status_code == 429
    assert post_login(desk, "wang", "correct horse battery", addr="10.1.1.1").status_code == 302  # still works


def test_the_wait_grows_with_each_failure_and_ends(warehouse, settings_for):
    server = create_app(settings_for(**{"auth.login_attempts": 2}), warehouse).server
    users.put(warehouse, "qian", "duty", "correct horse battery")
    for _ in range(2):
        post_login(server.test_client(), "qian", "wrong wrong wrong")
    refused = post_login(server.test_client(), "qian", "wrong wrong wrong")
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("1", "2")
    time.sleep(1.1)
    assert "用户名或密码错误" in post_login(server.test_client(), "qian", "wrong wrong wrong").get_data(as_text=True)
    assert post_login(server.test_client(), "qian", "wrong wrong wrong").headers["Retry-After"] in ("2", "3")
    time.sleep(2.1)
    assert post_login(server.test_client(), "qian", "correct horse battery").status_code == 302


def test_kiosk_failures_never_hold_back_a_password_sign_in(app, warehouse):
    users.put(warehouse, "zhou", "duty", "correct horse battery")
    browser = app.server.test_client()
    for _ in range(6):  # what six <img src="http://cockpit/wall?kiosk=x"> on another site make a browser do
        browser.get("/wall?kiosk=garbage")
    assert browser.get("/wall?kiosk=garbage").status_code == 429  # kiosk sign-in from here waits
    assert post_login(browser, "zhou", "correct horse battery").status_code == 302


def test_a_good_sign_in_clears_only_that_users_count(warehouse, settings_for):
    server = create_app(settings_for(**{"auth.login_attempts": 4}), warehouse).server
    users.put(warehouse, "insider", "analyst", "correct horse battery")
    for name in ("a1", "a2", "a3"):  # spraying names from one address
        post_login(server.test_client(), name, "summer2026!!", addr="10.2.2.2")
    assert post_login(server.test_client(), "insider", "correct horse battery", addr="10.2.2.2").status_code == 302
    assert post_login(server.test_client(), "a4", "summer2026!!", addr="10.2.2.2").status_code == 200  # the 4th
    assert post_login(server.test_client(), "a5", "summer2026!!", addr="10.2.2.2").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(warehouse, settings_for):
    server = create_app(settings_for(**{"auth.login_attempts": 2, "auth.trusted_proxies": "10.0.0.0/24"}),
                        warehouse).server
    for _ in range(3):
        post_login(server.test_client(), f"x{time.time_ns()}", "nope nope nope", addr="10.0.0.2",
                   **{"X-Forwarded-For": "198.51.100.1"})
    assert post_login(server.test_client(), "y", "nope nope nope", addr="10.0.0.2",
                      **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    users.put(warehouse, "han", "duty", "correct horse battery")
    assert post_login(server.test_client(), "han", "correct horse battery", addr="10.0.0.2",
                      **{"X-Forwarded-For": "198.51.100.2"}).status_code == 302  # a colleague behind the proxy
    untrusted = create_app(settings_for(**{"auth.login_attempts": 2}), warehouse).server
    for i in range(3):  # without trusted proxies the header is ignored: forging it escapes nothing
        post_login(untrusted.test_client(), f"z{i}", "nope nope nope", addr="192.0.2.9",
                   **{"X-Forwarded-For": f"198.51.100.{10 + i}"})
    assert post_login(untrusted.test_client(), "z9", "nope nope nope", addr="192.0.2.9",
                      **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429


# 3 · every callback checked by its spec

def callback(client, body: dict):
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json",
                       headers=csrf_header(client))


ROUTER = ".._pages_content.children..._pages_store.data.."


def test_the_router_reads_the_path_where_dash_reads_it(app, warehouse):
    analyst = signed_in_client(app.server, warehouse, "analyst")
    spoof = {"output": ROUTER, "outputs": [{"id": "_pages_content", "property": "children"},
                                           {"id": "_pages_store", "property": "data"}],
             "inputs": [{"id": "zzz", "property": "pathname", "value": "/duty"},
                        {"id": "_pages_location", "property": "search", "value": ""}], "changedPropIds": []}
    assert callback(analyst, spoof).status_code == 400
    honest = {**spoof, "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/duty"},
                                  {"id": "_pages_location", "property": "search", "value": ""}]}
    assert callback(analyst, honest).status_code == 403
    own = {**spoof, "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/analysis"},
                               {"id": "_pages_location", "property": "search", "value": ""}]}
    assert callback(analyst, own).status_code == 200


def test_values_of_the_wrong_type_and_unknown_outputs_answer_400_not_500(app, warehouse):
    duty = signed_in_client(app.server, warehouse, "duty")
    assert callback(duty, {"output": "duty-nothing.children", "inputs": [], "state": []}).status_code == 400
    spec = app.callback_map["duty-selected.data"]
    body = {"output": "duty-selected.data", "outputs": {"id": "duty-selected", "property": "data"},
            "inputs": [{"id": i["id"], "property": i["property"], "value": {"$gt": ""}} for i in spec["inputs"]],
            "state": [{"id": s["id"], "property": s["property"], "value": None} for s in spec["state"]],
            "changedPropIds": []}
    assert callback(duty, body).status_code == 400


def test_every_callback_property_of_the_app_has_a_declared_type(app, warehouse):
    from cockpit.access import PROPERTY_TYPES

    signed_in_client(app.server, warehouse, "admin").get("/wall")  # Dash finishes its callbacks on a first request
    used = {i["property"] for spec in app.callback_map.values() for i in spec["inputs"] + spec["state"]}
    assert used <= set(PROPERTY_TYPES), used - set(PROPERTY_TYPES)


def test_under_a_url_prefix_the_screens_stay_closed_to_other_roles(warehouse, settings_for, monkeypatch):
    monkeypatch.setenv("DASH_URL_BASE_PATHNAME", "/c/")
    app = create_app(settings_for(), warehouse)
    analyst = signed_in_client(app.server, warehouse, "analyst")
    assert analyst.get("/c/duty").status_code == 403 and analyst.get("/c/brief").status_code == 403
    assert analyst.get("/c/analysis").status_code == 200
    reply = analyst.post("/c/_dash-update-component", headers=csrf_header(analyst), content_type="application/json",
                         data=json.dumps({"output": "duty-selected.data", "inputs": [], "state": []}))
    assert reply.status_code == 403
    routed = {"output": ROUTER, "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/c/duty"},
                                           {"id": "_pages_location", "property": "search", "value": ""}]}
    assert analyst.post("/c/_dash-update-component", headers=csrf_header(analyst), content_type="application/json",
                        data=json.dumps(routed)).status_code == 403


def test_an_endpoint_the_guard_does_not_know_is_refused_and_mcp_refused_at_start(app, warehouse, settings_for,
                                                                              monkeypatch):
    app.server.add_url_rule("/_extra", "extra", lambda: "open")
    admin = signed_in_client(app.server, warehouse, "admin")
    assert admin.get("/_extra").status_code == 404
    monkeypatch.setenv("DASH_MCP_ENABLED", "true")
    with pytest.raises(GuardError, match="MCP"):
        create_app(settings_for(), warehouse)


# 6 · /healthz tells the public its status only

def test_public_healthz_is_the_status_only(app, warehouse):
    public = app.server.test_client().get("/healthz").get_json()
    assert set(public) == {"status"}
    monitor = app.server.test_client().get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    assert {"rows", "ingest", "jobs"} <= set(monitor.get_json())
    wrong = app.server.test_client().get("/healthz", headers={"Authorization": "Bearer " + "x" * 48})
    assert set(wrong.get_json()) == {"status"}
    admin = signed_in_client(app.server, warehouse, "admin")
    assert "jobs" in admin.get("/healthz").get_json()
    assert set(signed_in_client(app.server, warehouse, "wall").get("/healthz").get_json()) == {"status"}


def test_public_healthz_during_an_outage_names_no_host(private_clickhouse, settings_for):
    from warehouse import connect
    from warehouse.migrations import migrate

    wh = connect(private_clickhouse.url("outage"))
    migrate(wh)
    app = create_app(settings_for(**{"warehouse.url": private_clickhouse.url("outage")}), wh)
    private_clickhouse.stop()
    try:
        reply = app.server.test_client().get("/healthz")
        assert reply.status_code == 503 and reply.get_json() == {"status": "down"}
        assert str(private_clickhouse.port) not in reply.get_data(as_text=True)
    finally:
        private_clickhouse.start()


def test_the_in_process_server_passes_the_forwarded_address_only_behind_trusted_proxies(warehouse, settings_for):
    import requests

    from cockpit.serve import WebServer
    from streams.broker import free_port

    users.put(warehouse, "he", "duty", "correct horse battery")
    web = WebServer(settings_for(**{"cockpit.port": free_port(), "auth.login_attempts": 2,
                                    "auth.trusted_proxies": "127.0.0.1"}), warehouse).start()

    def attempt(forwarded: str, password: str = "nope nope nope") -> int:
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{web.url}/login", timeout=10).text).group(1)
        return s.post(f"{web.url}/login", data={"username": f"u{time.time_ns()}" if password.startswith("nope")
                                                else "he", "password": password, "csrf_token": token},
                      headers={"X-Forwarded-For": forwarded}, allow_redirects=False, timeout=30).status_code
    try:
        for _ in range(3):
            attempt("198.51.100.5")
        assert attempt("198.51.100.5") == 429
        assert attempt("198.51.100.6", "correct horse battery") == 302  # another client behind the proxy
    finally:
        web.stop()
