"""Serving the cockpit: in-process under waitress (the demo, and a single chDB process), or as ``serve`` under
gunicorn with several worker processes (a ClickHouse server warehouse: each worker has its own connection)."""
from __future__ import annotations

import logging
import threading

from gunicorn.app.base import BaseApplication
from waitress.server import create_server

from cockpit import headers
from cockpit.app import create_app
from cockpit.runtime import Files, load_files
from config.settings import Settings
from config.warehouse_url import parse_warehouse_url
from warehouse import Warehouse, connect
from warehouse.migrations import migrate

log = logging.getLogger(__name__)


class WebServer:
    """The Dash app under waitress's thread pool, in this process; can be stopped from another thread."""

    def __init__(self, settings: Settings, warehouse: Warehouse, files: Files | None = None):
        self.app = create_app(settings, warehouse, files)
        c = settings.cockpit
        # waitress reads a whole body before the app sees it (up to 1 GiB by default): refused at the cap instead
        self._server = create_server(self.app.server, host=c.host, port=c.port, threads=c.threads,
                                     ident="cockpit",
                                     # behind auth.trusted_proxies the guard reads X-Forwarded-For itself
                                     clear_untrusted_proxy_headers=not settings.auth.trusted_proxies,
                                     max_request_body_size=headers.MAX_BODY)
        self.url = f"http://{c.host}:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    def start(self) -> WebServer:
        self._thread.start()
        log.info("cockpit serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Let the requests in progress finish (they would write to closed sockets), then close."""
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()
        self._thread.join(timeout=5)


def workers(settings: Settings) -> int:
    """Worker processes for ``serve``: chDB holds its data for one process only, so one with chDB."""
    return 1 if _embedded(settings) else settings.cockpit.workers


class Gunicorn(BaseApplication):
    """``serve``: gunicorn's pre-fork server; each worker builds its own app and warehouse connection."""

    def __init__(self, settings: Settings, files: Files):
        self.settings, self.files = settings, files
        super().__init__()

    def load_config(self):
        c = self.settings.cockpit
        for key, value in {"bind": f"{c.host}:{c.port}", "workers": workers(self.settings), "threads": c.threads,
                           "worker_class": "gthread", "timeout": 60, "graceful_timeout": 15,
                           "accesslog": None, "errorlog": "-", "proc_name": "cockpit"}.items():
            self.cfg.set(key, value)

    def load(self):
        warehouse = connect(self.settings.warehouse.url)
        if _embedded(self.settings):  # the one worker owns chDB's data: it migrates it
            migrate(warehouse)
        return create_app(self.settings, warehouse, self.files).server


def _embedded(settings: Settings) -> bool:
    return parse_warehouse_url(settings.warehouse.url).kind == "chdb"


def run_gunicorn(settings: Settings) -> int:
    files = load_files(settings)  # a bad file stops the start here, not in a worker or at a first visit
    if _embedded(settings) and settings.cockpit.workers > 1:
        log.warning("chDB serves one process: 1 worker (with %d threads) instead of %d",
                    settings.cockpit.threads, settings.cockpit.workers)
    if not _embedded(settings):  # once, before the workers start (chDB must not be opened before the fork)
        warehouse = connect(settings.warehouse.url)
        migrate(warehouse)
        warehouse.close()
    Gunicorn(settings, files).run()
    return 0
