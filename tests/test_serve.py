"""`python run_cockpit.py serve` as an operator runs it: gunicorn with N worker processes on the ClickHouse
server, one worker on chDB (it holds its data for one process), /healthz answering, SIGTERM leaving nothing."""
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from streams.broker import free_port
from tests.helpers import PROCESS_ENV, healthz, wait_until
from tests.test_demo import children

ROOT = Path(__file__).resolve().parent.parent


def serve(warehouse_url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")} | PROCESS_ENV
    env.update(COCKPIT_WAREHOUSE_URL=warehouse_url, COCKPIT_COCKPIT_PORT=str(port),
               COCKPIT_COCKPIT_WORKERS=str(workers))
    proc = subprocess.Popen([sys.executable, "run_cockpit.py", "serve"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, port


@pytest.mark.parametrize("backend, workers, expected", [("clickhouse", 3, 3), ("chdb", 3, 1)])
def test_serve_runs_gunicorn_workers_and_stops_on_sigterm(backend, workers, expected, clickhouse_hostport, tmp_path):
    url = (f"clickhouse://default:@{clickhouse_hostport}/serve_{uuid.uuid4().hex[:8]}" if backend == "clickhouse"
           else f"chdb://{tmp_path}/wh")
    proc, port = serve(url, workers)
    try:
        assert wait_until(lambda: healthz(port) is not None, timeout=60), proc.stdout.read() if proc.poll() else ""
        report = healthz(port)
        assert report["warehouse"] == "ok" and report["rows"] == 0 and report["ingest"] == {"lag": 0, "topics": {}}
        assert wait_until(lambda: len(children(proc.pid)) == expected, timeout=30)
        workers_pids = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "Starting gunicorn" in out and f"{expected} worker(s)" in out
        assert not [pid for pid in workers_pids if Path(f"/proc/{pid}").exists()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


BAD_FILES = {  # setting → (file text, what the one line must say)
    "COCKPIT_ALERTS_RULES": ("rules:\n  - id: aqi\n    kind: threshold\n", "aqi"),
    "COCKPIT_CITY_POPULATION": ("'440106': -5\n", "440106: residents must be a whole number above 0"),
    "COCKPIT_CITY_STATIONS": ("stations: 12\n", "config error"),
}


@pytest.mark.parametrize("command, variable", [(c, v) for c in ("serve", "demo") for v in sorted(BAD_FILES)]
                         + [("alerts", "COCKPIT_ALERTS_RULES")])
def test_a_bad_file_a_screen_or_job_needs_stops_the_start_with_one_line(command, variable, tmp_path):
    """Checked once at start-up (exit 2, one line naming the file), never first found by a screen's callback."""
    text, says = BAD_FILES[variable]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update(COCKPIT_WAREHOUSE_URL=f"chdb://{tmp_path}/wh", COCKPIT_COCKPIT_PORT=str(free_port()),
               **{variable: str(bad)})
    done = subprocess.run([sys.executable, "run_cockpit.py", command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and says in lines[0], done.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_dash_settings_the_guard_cannot_protect_stop_the_start_with_one_line(command, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")} | {"DASH_MCP_ENABLED": "true"}
    env.update(COCKPIT_WAREHOUSE_URL=f"chdb://{tmp_path}/wh", COCKPIT_COCKPIT_PORT=str(free_port()))
    done = subprocess.run([sys.executable, "run_cockpit.py", command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DASH_MCP_ENABLED" in done.stderr and "Traceback" not in done.stderr
