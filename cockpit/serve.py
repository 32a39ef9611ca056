"""Running the cockpit web server, alone (``serve``) or as one part of the demo process."""
from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

from cockpit.app import create_app
from config.settings import Settings
from warehouse import Warehouse

log = logging.getLogger(__name__)


class WebServer:
    """A threaded WSGI server for the Dash app that can be stopped from another thread."""

    def __init__(self, settings: Settings, warehouse: Warehouse):
        app = create_app(settings, warehouse)
        self._server = make_server(settings.cockpit.host, settings.cockpit.port, app.server, threaded=True)
        self.url = f"http://{settings.cockpit.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)

    def start(self) -> "WebServer":
        self._thread.start()
        log.info("cockpit serving on %s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
