"""The Dash app shell: pages from ``cockpit/pages``, assets from ``assets/``, every request through the sign-in
guard (``cockpit.signin``), every exception through ``cockpit.errors`` (whose fault store the shell holds)."""
from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

from cockpit import alerts_feed, errors, headers, health, limits, runtime, signin
from cockpit.users import Directory
from config.settings import Settings
from domain.paths import ASSETS_DIR
from warehouse import Warehouse

HERE = Path(__file__).resolve().parent


def create_app(settings: Settings, warehouse: Warehouse, files: runtime.Files | None = None) -> Dash:
    """The app on ``warehouse``, with the screens' files as read at start-up (read now when not given)."""
    runtime.configure(settings, warehouse, files)
    app = Dash(__name__, use_pages=True, pages_folder=str(HERE / "pages"), assets_folder=str(ASSETS_DIR),
               title="城市运行一网统管", update_title=None, suppress_callback_exceptions=True,
               on_error=errors.on_error)
    app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">')
    app.layout = html.Div([dcc.Store(id=errors.FAULT_STORE), dash.page_container])
    signin.register(app, settings, Directory(warehouse), warehouse)
    limits.register(app.server)  # after the guard: it counts the user the guard found
    headers.register(app, settings.cockpit.tile_url)
    errors.register(app.server)
    health.register(app.server)
    alerts_feed.register(app.server)
    return app
