"""Servers that fault tests can stop, kill and restart without touching the shared ones the rest of the suite uses.

:class:`ClickHouseServer` is a clickhouse-server 18.16 process of its own. It gets a temporary directory
(``data/``, ``tmp/``, ``log/``, and the ``config.xml`` + ``users.xml`` written here) and three free loopback ports
(native, HTTP, interserver). The ports and the directory stay the same for the life of the object, so a restarted
server comes back at the same URL with the same data. It runs in the foreground under Popen (never ``--daemon``,
which would leave the test's process tree) with PR_SET_PDEATHSIG, so it dies with the test process even when that
process is killed with ``kill -9``. The signal follows the *thread* that started the server, so start servers
from the thread that keeps running (pytest's main thread).
Measured here (2 cores): ``start()`` takes 0.13–0.25 s until ``SELECT 1`` answers, from an empty directory, after a
stop, or after ``kill -9``. ``kill()`` takes ~6 ms. An idle server has ~75 MB RSS. ``stop()`` (SIGTERM) takes ~1.0 s.
That figure depends on ``poll_interval=1`` in the profile. With the stock 10 s, a stop with any idle client
connected (a Warehouse left open) takes 10 s, because each connection's handler only notices the shutdown at its
next poll. The listening socket closes at once either way, so new connections are refused from the first moment.

:class:`RestartableBroker` is :class:`streams.broker.EmbeddedBroker` with ``kill()``, ``restart()`` and an idempotent
``start()``. EmbeddedBroker already comes back on the same port after ``stop()``/``start()``, even straight after a
SIGKILL with clients connected. It starts in ~0.14 s. tansu 0.6 with memory storage forgets *everything* when it
stops. These were observed here:

- Topics are gone. A kafka-python client that lived through the restart re-creates its topics just by asking for
  their metadata, within a second, with tansu's default of 4 partitions instead of the original count. After that,
  ``ensure_topics`` leaves the topic at 4. librdkafka consumers do not re-create topics.
- Committed offsets are gone: ``committed_offsets`` returns ``{}``, and a group starts again from ``earliest``.
- Offsets count from 0 again. A kafka-python consumer that lived through the restart (it had read to 6) read only
  offsets 6–9 of 10 new messages published right after the restart: it silently skipped 0–5. When the publish
  came 5 s after the restart, it read all 10 from offset 0. A librdkafka consumer read all 10 in both cases, but
  nothing shows that it cannot lose the same race.
- An idempotent producer (librdkafka with ``enable.idempotence``, and kafka-python 3's default) from before the
  restart delivers nothing after it, because tansu has forgotten its producer id. kafka-python fails each send with
  UnknownProducerIdError (its ``flush()`` still returns normally). If it had sent nothing before the restart, it
  retries for ever. librdkafka's producer hangs with the messages queued. A new producer, or one without
  idempotence, delivers at once.
- ``stop()`` (SIGTERM) returns at once when no client is connected. With a client connected, tansu waits 5 s before
  exiting, which is exactly EmbeddedBroker's wait before its SIGKILL. ``kill()`` takes a few ms.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from streams.broker import EmbeddedBroker, _die_with_parent, free_port

BINARY = "clickhouse-server"

_CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>{root}/log/server.log</log>
        <errorlog>{root}/log/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <interserver_http_port>{interserver_port}</interserver_http_port>
    <path>{root}/data/</path>
    <tmp_path>{root}/tmp/</tmp_path>
    <user_files_path>{root}/data/user_files/</user_files_path>
    <format_schema_path>{root}/data/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <max_connections>256</max_connections>
    <max_concurrent_queries>100</max_concurrent_queries>
    <keep_alive_timeout>3</keep_alive_timeout>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
"""

_USERS = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <poll_interval>1</poll_interval>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""


class ServerError(RuntimeError):
    """A private test server did not start."""


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports. Each probe socket closes before the next bind, so the kernel may hand out the
    same port twice; duplicates are retried."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def listening(port: int) -> bool:
    """Whether something accepts connections on the loopback ``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class ClickHouseServer:
    """``with ClickHouseServer() as ch: connect(ch.url("db"))``. A private clickhouse-server that can be stopped,
    killed and started again on the same ports and data. ``root`` is the server's directory. If none is given,
    a temporary one is made, and it is removed on ``__exit__``."""

    def __init__(self, root: Path | str | None = None, *, start_timeout: float = 30.0, binary: str = BINARY):
        self._owns_root = root is None
        self.root = Path(root if root is not None else tempfile.mkdtemp(prefix="clickhouse-")).resolve()
        self._binary = binary
        self._timeout = start_timeout
        self._proc: subprocess.Popen | None = None
        self.tcp_port, self.http_port, self.interserver_port = _free_ports(3)
        for sub in ("data", "tmp", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "config.xml").write_text(_CONFIG.format(
            root=self.root, tcp_port=self.tcp_port, http_port=self.http_port, interserver_port=self.interserver_port))
        (self.root / "users.xml").write_text(_USERS)

    @property
    def port(self) -> int:
        """The native (TCP) port: the one clickhouse-driver and ``clickhouse://`` URLs use."""
        return self.tcp_port

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"

    def url(self, database: str = "default") -> str:
        return f"clickhouse://default:@{self.hostport}/{database}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "ClickHouseServer":
        """Start the server (a no-op if it runs) and wait until it answers ``SELECT 1`` on the native port."""
        from clickhouse_driver import Client
        from clickhouse_driver.errors import Error as DriverError

        if self.running:
            return self
        if listening(self.tcp_port):  # someone else took the port while the server was down
            raise ServerError(f"port {self.tcp_port} is in use by another process; clickhouse-server cannot start")
        with open(self.root / "log" / "console.log", "ab") as console:
            self._proc = subprocess.Popen(
                [self._binary, f"--config-file={self.root / 'config.xml'}"], cwd=self.root,
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent, start_new_session=True)
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code, self._proc = self._proc.returncode, None
                raise ServerError(f"clickhouse-server exited with code {code} while starting:\n{self.log_tail()}")
            if listening(self.tcp_port):  # probe the socket first: a refused driver connection logs a traceback
                try:
                    Client("127.0.0.1", port=self.tcp_port, connect_timeout=1).execute("SELECT 1")
                    return self
                except DriverError:
                    pass  # listening but not ready yet
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"clickhouse-server did not answer on {self.hostport} within {self._timeout:.0f}s:\n"
                          f"{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait (SIGKILL if the server has not exited after ``timeout`` seconds)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def kill(self) -> None:
        """SIGKILL and wait: a crash, with nothing flushed or closed by the server."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self) -> "ClickHouseServer":
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the console output and the error log, for an error message."""
        parts = []
        for name in ("console.log", "server.err.log"):
            path = self.root / "log" / name
            if path.exists() and path.stat().st_size:
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(parts) or f"(no output in {self.root / 'log'})"

    def __enter__(self) -> "ClickHouseServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __del__(self):  # last resort; stop() is the normal path
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)


class RestartableBroker(EmbeddedBroker):
    """An embedded tansu broker that a test may stop, kill and start again on the same port. Memory storage: see
    the module docstring for what a restart forgets."""

    @property
    def running(self) -> bool:
        return self.pid is not None and self._proc.poll() is None

    def start(self) -> "RestartableBroker":
        """Start the broker (a no-op if it runs). Starting a second tansu on the port would fail to bind, but
        EmbeddedBroker's readiness check would still pass because the first one answers."""
        if not self.running:
            super().start()
        return self

    def kill(self) -> None:
        """SIGKILL and wait: no drain of open connections."""
        if self.running:
            os.kill(self.pid, signal.SIGKILL)
        self.stop()  # reaps the process

    def restart(self) -> "RestartableBroker":
        self.stop()
        return self.start()
