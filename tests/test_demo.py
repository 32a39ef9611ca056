"""`python run_cockpit.py` as a user runs it: up within 60 s, counts rise, Ctrl-C or SIGTERM leaves nothing."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from streams.broker import free_port
from tests.helpers import healthz, wait_until

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


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update(COCKPIT_WAREHOUSE_URL=f"chdb://{tmp_path}/wh", COCKPIT_COCKPIT_PORT=str(port))
    log = tmp_path / "demo.log"  # a file, not a pipe: a pipe nobody reads fills up and blocks the demo's logging
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "run_cockpit.py"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    yield proc, port, started, log
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    print(log.read_text()[-4000:])  # shown by pytest when the test failed


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_serves_the_wall_with_rising_counts_and_stops_cleanly(demo, sig):
    proc, port, started, log = demo
    assert wait_until(lambda: (healthz(port) or {}).get("freshness") == "ok", timeout=60), "no live data within 60 s"
    assert time.monotonic() - started < 60
    refused = urllib.request.build_opener(NoRedirect).open(f"http://127.0.0.1:{port}/wall", timeout=10)
    assert refused.status == 302 and refused.headers["Location"].startswith("/login")
    kiosk = re.search(r"wall PC: (http://\S+/wall\?kiosk=\S+)", log.read_text()).group(1)  # printed at start
    wall_pc = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with wall_pc.open(kiosk, timeout=10) as r:
        assert r.status == 200 and r.url.endswith("/wall") and "一屏统览" in r.read().decode()
    first = healthz(port)["rows"]
    assert wait_until(lambda: healthz(port)["rows"] > first, timeout=30), "counts did not rise"

    broker = [pid for pid in children(proc.pid) if "tansu" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(broker) == 1
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    output = log.read_text()
    assert "Traceback" not in output
    assert "ingest stopped" in output and "embedded broker stopped" in output
    assert not alive(broker[0]), "the broker outlived the demo"


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
