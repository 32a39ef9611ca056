"""Issue 14's probes run against the demo itself (``python run_cockpit.py`` over loopback), as an attacker and as
users of the wrong role would: none of the findings is there."""
import json
import re
import time

import requests

from tests.helpers import wait_until
from tests.test_demo import printed, start_demo  # noqa: F401  (the fixture)

ROUTER = ".._pages_content.children..._pages_store.data.."


def browser(base: str) -> requests.Session:
    s = requests.Session()
    s.base = base
    return s


def sign_in(s: requests.Session, name: str, password: str) -> requests.Response:
    form = s.get(f"{s.base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return s.post(f"{s.base}/login", data={"username": name, "password": password, "csrf_token": token},
                  allow_redirects=False, timeout=30)


def sign_out(s: requests.Session) -> None:
    assert s.post(f"{s.base}/logout", data={"csrf_token": s.cookies["_csrf_token"]}, allow_redirects=False,
                  timeout=10).status_code == 302


def hold_strangers(base: str, name: str, at_least_s: int) -> int:
    """Wrong passwords for ``name`` from new browsers, each after the last wait, until one must wait
    ``at_least_s``; the last Retry-After."""
    for _ in range(20):
        reply = sign_in(browser(base), name, "not the password at all")
        if reply.status_code == 429:
            wait = int(reply.headers["Retry-After"])
            if wait >= at_least_s:
                return wait
            time.sleep(wait)
    return 0


def route(s: requests.Session, first: dict) -> int:
    body = {"output": ROUTER, "outputs": [{"id": "_pages_content", "property": "children"},
                                          {"id": "_pages_store", "property": "data"}],
            "inputs": [first, {"id": "_pages_location", "property": "search", "value": ""}], "changedPropIds": []}
    return s.post(f"{s.base}/_dash-update-component", data=json.dumps(body), timeout=30,
                  headers={"Content-Type": "application/json", "X-CSRFToken": s.cookies["_csrf_token"]}).status_code


def test_the_demo_resists_issue_14s_probes(start_demo):  # noqa: F811
    demo = start_demo()
    passwords, _ = printed(demo)
    base = f"http://127.0.0.1:{demo.port}"
    assert wait_until(lambda: requests.get(f"{base}/healthz", timeout=5).ok, timeout=60)

    # public /healthz: the status only
    assert set(requests.get(f"{base}/healthz", timeout=5).json()) == {"status"}

    # 1 · a copied cookie dies with the session it was copied from
    leader = browser(base)
    assert sign_in(leader, "leader", passwords["leader"]).status_code == 302
    copy = browser(base)
    copy.cookies.update(leader.cookies)
    assert copy.get(f"{base}/brief", allow_redirects=False, timeout=10).status_code == 200
    sign_out(leader)
    assert copy.get(f"{base}/brief", allow_redirects=False, timeout=10).status_code == 302

    analyst = browser(base)  # signed in before the guessing below holds back new browsers at this address
    assert sign_in(analyst, "analyst", passwords["analyst"]).status_code == 302

    # 2 · six kiosk failures (another site's images) do not lock a browser out of password sign-in …
    officer = browser(base)
    for i in range(6):
        officer.get(f"{base}/wall?kiosk=x{i}", allow_redirects=False, timeout=10)
    assert sign_in(officer, "duty", passwords["duty"]).status_code == 302
    # … and strangers guessing leader's password here do not lock the leader out of their own browser: guess
    # (waiting out each delay) until a stranger must wait 8 s, then the leader signs in at once
    assert hold_strangers(base, "leader", at_least_s=8) >= 8
    assert sign_in(browser(base), "leader", passwords["leader"]).status_code == 429  # a stranger's browser waits
    assert sign_in(leader, "leader", passwords["leader"]).status_code == 302

    # 3 · the router is checked where Dash reads the path
    assert route(analyst, {"id": "zzz", "property": "pathname", "value": "/duty"}) == 400
    assert route(analyst, {"id": "_pages_location", "property": "pathname", "value": "/duty"}) == 403
    assert route(analyst, {"id": "_pages_location", "property": "pathname", "value": {"x": 1}}) == 400
