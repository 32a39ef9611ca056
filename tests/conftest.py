"""Shared fixtures: real ClickHouse server + embedded chDB (every warehouse test runs on both), the real
tansu broker, and settings pointing at them.

With COCKPIT_TEST_REQUIRE_SERVERS=1 (set by ``tests/run.sh --strict``, i.e. in CI) a missing server or
browser fails the run instead of skipping the tests that need it.
"""
from __future__ import annotations

import os
import secrets
import socket
import uuid
from pathlib import Path

import pytest

from config.settings import load
from domain.paths import ROOT
from streams.broker import EmbeddedBroker
from warehouse import connect
from warehouse.migrations import migrate

STRICT = os.environ.get("COCKPIT_TEST_REQUIRE_SERVERS") == "1"
CLICKHOUSE = os.environ.get("COCKPIT_TEST_CLICKHOUSE", "127.0.0.1:9000")
CHROMIUM = "/usr/bin/chromium"
TEST_SECRET = secrets.token_hex(32)  # signs the session cookies of the servers the tests start


def unavailable(what: str) -> None:
    """Skip locally, fail in CI."""
    if STRICT:
        pytest.fail(f"{what} is required (COCKPIT_TEST_REQUIRE_SERVERS=1) but unavailable", pytrace=False)
    pytest.skip(f"{what} unavailable")


def reachable(hostport: str) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory) -> Path:
    """One chDB data directory for the whole test process (chDB holds one per process)."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="session")
def clickhouse_hostport() -> str:
    if not reachable(CLICKHOUSE):
        unavailable(f"ClickHouse server at {CLICKHOUSE}")
    return CLICKHOUSE


@pytest.fixture(params=["chdb", "clickhouse"])
def warehouse_url(request, chdb_dir) -> str:
    """A URL naming a fresh, empty database on each backend."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "chdb":
        return f"chdb://{chdb_dir}?database={database}"
    return f"clickhouse://default:@{request.getfixturevalue('clickhouse_hostport')}/{database}"


def _fresh(url: str):
    wh = connect(url)
    migrate(wh)
    yield wh
    wh.execute(f"DROP DATABASE IF EXISTS {wh.database}")
    wh.close()


@pytest.fixture
def warehouse(warehouse_url):
    """A migrated warehouse in a fresh database, dropped afterwards."""
    yield from _fresh(warehouse_url)


@pytest.fixture
def server_warehouse(clickhouse_hostport):
    """A fresh database on the ClickHouse server only: for several processes sharing one warehouse."""
    yield from _fresh(f"clickhouse://default:@{clickhouse_hostport}/t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def broker():
    try:
        with EmbeddedBroker() as b:
            yield b
    except Exception as e:  # the binary missing or not starting
        unavailable(f"tansu broker ({e})")


@pytest.fixture
def settings_for(warehouse_url):
    """``settings_for(**overrides)`` → Settings on this test's warehouse, from defaults plus overrides."""
    def make(**overrides):
        values = {"warehouse.url": warehouse_url, "auth.secret": TEST_SECRET, **overrides}
        return load(ROOT / "config" / "cockpit.yaml", environ={}).replace(**values)
    return make


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        unavailable("Debian chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def clickhouse_binary() -> str:
    """The clickhouse-server executable that tests/servers.py runs."""
    import shutil

    from tests.servers import BINARY

    path = shutil.which(BINARY)
    if path is None:
        unavailable(f"{BINARY} binary")
    return path


@pytest.fixture
def private_clickhouse(clickhouse_binary, tmp_path):
    """A ClickHouse server of this test's own (tests/servers.py), free to stop, kill and restart; started, and
    stopped at the end. Function-scoped: a start takes ~0.2 s, and no test inherits another's stopped server."""
    from tests.servers import ClickHouseServer, ServerError

    server = ClickHouseServer(tmp_path / "clickhouse")
    try:
        server.start()
    except ServerError as e:
        unavailable(f"a private clickhouse-server ({e})")
    yield server
    server.stop()


@pytest.fixture
def restartable_broker():
    """A tansu broker of this test's own (tests/servers.py), free to stop, kill and start again on its port;
    memory storage, so a restart forgets topics and offsets. Function-scoped (a start takes ~0.15 s)."""
    from streams.broker import BrokerError
    from tests.servers import RestartableBroker

    broker = RestartableBroker()
    try:
        broker.start()
    except BrokerError as e:
        unavailable(f"tansu broker ({e})")
    yield broker
    broker.stop()
