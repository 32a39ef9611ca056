"""`python run_cockpit.py` as a user runs it: up within 60 s, counts rise, Ctrl-C or SIGTERM leaves nothing, and
its log names who signed in and out without a single secret."""
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from streams.broker import free_port
from tests.helpers import PROCESS_ENV, healthz, wait_until

ROOT = Path(__file__).resolve().parent.parent


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp


@dataclass
class Demo:
    proc: subprocess.Popen
    port: int
    started: float
    stdout: Path  # what the user reads: the address, the demo users' passwords, the kiosk link
    stderr: Path  # the log


@pytest.fixture
def start_demo(tmp_path):
    """``start_demo(**environ)``: `python run_cockpit.py` on a fresh chDB directory, with these ``COCKPIT_…``
    variables too; its stdout and stderr each go to a file (a pipe nobody reads fills up and blocks the demo's
    logging). Killed at the end if still running."""
    started: list[Demo] = []

    def start(**environ: str) -> Demo:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        env.update(COCKPIT_WAREHOUSE_URL=f"chdb://{tmp_path}/wh", COCKPIT_COCKPIT_PORT=str(port), **PROCESS_ENV,
                   **environ)
        out, err = tmp_path / "demo.out", tmp_path / "demo.log"
        with out.open("w") as stdout, err.open("w") as stderr:
            proc = subprocess.Popen([sys.executable, "run_cockpit.py"], cwd=ROOT, env=env, stdout=stdout,
                                    stderr=stderr, text=True)
        started.append(Demo(proc, port, time.monotonic(), out, err))
        return started[-1]

    yield start
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait()
        print(demo.stdout.read_text()[-1000:], demo.stderr.read_text()[-4000:])  # shown by pytest when it failed


@pytest.fixture
def demo(start_demo) -> Demo:
    return start_demo()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_serves_the_wall_with_rising_counts_and_stops_cleanly(demo, sig):
    proc, port = demo.proc, demo.port
    assert wait_until(lambda: (healthz(port) or {}).get("freshness") == "ok", timeout=60), "no live data within 60 s"
    assert time.monotonic() - demo.started < 60
    refused = urllib.request.build_opener(NoRedirect).open(f"http://127.0.0.1:{port}/wall", timeout=10)
    assert refused.status == 302 and refused.headers["Location"].startswith("/login")
    kiosk = re.search(r"wall PC: (http://\S+/wall\?kiosk=\S+)", demo.stdout.read_text()).group(1)  # printed at start
    wall_pc = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with wall_pc.open(kiosk, timeout=10) as r:
        assert r.status == 200 and r.url.endswith("/wall") and "一屏统览" in r.read().decode()
    first = healthz(port)["rows"]
    assert wait_until(lambda: healthz(port)["rows"] > first, timeout=30), "counts did not rise"

    broker = [pid for pid in children(proc.pid) if "tansu" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(broker) == 1
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    output = demo.stderr.read_text()
    assert "Traceback" not in output
    assert "ingest stopped" in output and "embedded broker stopped" in output
    assert not alive(broker[0]), "the broker outlived the demo"


def printed(demo: Demo, timeout: float = 60) -> tuple[dict[str, str], str]:
    """The demo users' passwords (name → password) and the kiosk link, once the demo has printed them."""
    pattern = re.compile(r"^  (\w+) +(\S+)   \S", re.MULTILINE)
    link = re.compile(r"wall PC: (http://\S+/wall\?kiosk=\S+)")
    assert wait_until(lambda: link.search(demo.stdout.read_text()), timeout=timeout), "the demo did not start"
    text = demo.stdout.read_text()
    return dict(pattern.findall(text)), link.search(text).group(1)


def form_token(browser, base: str) -> str:
    form = browser.open(f"{base}/login", timeout=10).read().decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)


@pytest.mark.parametrize("fmt, key_from", [("text", "file"), ("json", "setting")])
def test_a_demo_run_logs_who_signed_in_and_out_and_no_secret(start_demo, tmp_path, fmt, key_from):
    """Sign in (wrong password, then right), open the kiosk link, sign out, stop: the whole log names the user and
    the address on each sign-in line and holds no password, kiosk token, session cookie or signing key."""
    key = secrets.token_hex(32)
    environ = {"COCKPIT_AUTH_SECRET_FILE": str(tmp_path / "secret_key")} if key_from == "file" else \
        {"COCKPIT_AUTH_SECRET": key}
    demo = start_demo(COCKPIT_LOG_FORMAT=fmt, **environ)
    passwords, kiosk = printed(demo)
    base = f"http://127.0.0.1:{demo.port}"
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    def post(path: str, form: dict):
        return browser.open(f"{base}{path}", urllib.parse.urlencode(form).encode(), timeout=10)

    sign_in = {"username": "duty", "password": "not the password", "csrf_token": form_token(browser, base)}
    assert "用户名或密码错误" in post("/login", sign_in).read().decode()
    sign_in.update(password=passwords["duty"], csrf_token=form_token(browser, base))
    assert post("/login", sign_in).status == 302
    cookies = {c.name: c.value for c in jar}
    assert browser.open(f"{base}/duty", timeout=10).status == 200
    signed_out = post("/logout", {"csrf_token": cookies["_csrf_token"]})
    assert signed_out.status == 302 and signed_out.headers["Location"] == "/login"
    wall_pc = CookieJar()
    with urllib.request.build_opener(urllib.request.HTTPCookieProcessor(wall_pc)).open(kiosk, timeout=10) as r:
        assert r.status == 200 and r.url.endswith("/wall")
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.proc.wait(timeout=30) == 0
    assert time.monotonic() - demo.started < 60

    log = demo.stderr.read_text()
    if key_from == "file":
        key = (tmp_path / "secret_key").read_text().strip()
    leaks = {"signing key": key, "kiosk token": urllib.parse.parse_qs(urllib.parse.urlsplit(kiosk).query)["kiosk"][0],
             **{f"password of {name}": password for name, password in passwords.items()},
             **{f"cookie {c.name}": c.value for c in [*jar, *wall_pc]}}
    assert set(passwords) == {"wall", "duty", "leader", "analyst", "admin"} and "cookie cockpit_session" in leaks
    assert [what for what, secret in leaks.items() if secret in log] == []

    if fmt == "json":
        docs = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        lines = [" ".join([d["msg"], *(f"{k}={d[k]}" for k in ("user", "role", "addr") if k in d)]) for d in docs
                 if d["logger"] == "cockpit.signin"]
    else:
        lines = [line.split(": ", 1)[1] for line in log.splitlines() if " cockpit.signin: " in line]
    duty, wall = "user=duty role=duty addr=127.0.0.1", "user=wall role=wall addr=127.0.0.1"
    assert lines == [f"sign-in failed {duty}", f"signed in {duty}", f"signed out {duty}", f"kiosk signed in {wall}"]


def test_broker_dies_with_a_killed_parent():
    """Even on kill -9 of the process that started it, the embedded broker does not linger."""
    code = "from streams.broker import EmbeddedBroker; import time; b = EmbeddedBroker().start(); " \
           "print(b.pid, flush=True); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    broker_pid = int(parent.stdout.readline())
    assert alive(broker_pid)
    parent.kill()
    parent.wait()
    assert wait_until(lambda: not alive(broker_pid), timeout=10)


def test_the_demo_starts_its_embedded_broker_again_when_it_dies_and_data_flows_on(demo):
    """kill -9 of the demo's tansu: the demo starts it again on the same port (memory storage: empty), the
    simulator's producer cannot deliver and is restarted, publishing its history again, and ingest goes on —
    the demo itself neither stops nor needs a restart."""
    proc, port = demo.proc, demo.port
    assert wait_until(lambda: (healthz(port) or {}).get("freshness") == "ok", timeout=60)
    [broker] = [pid for pid in children(proc.pid) if "tansu" in Path(f"/proc/{pid}/cmdline").read_text()]
    os.kill(broker, signal.SIGKILL)
    assert wait_until(lambda: "starting it again" in demo.stderr.read_text(), timeout=15)
    assert wait_until(lambda: [p for p in children(proc.pid) if p != broker
                               and "tansu" in Path(f"/proc/{p}/cmdline").read_text()], timeout=15)
    before = healthz(port)["rows"]
    assert wait_until(lambda: healthz(port)["rows"] > before + 1000, timeout=120), demo.stderr.read_text()[-3000:]
    assert wait_until(lambda: (healthz(port) or {}).get("freshness") == "ok", timeout=30)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
