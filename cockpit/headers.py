"""Response headers and the request-body cap of every answer the cockpit gives (Flask ``after_request``).

- ``Content-Security-Policy`` (:func:`policy`) on every response.
- ``Cache-Control: no-store`` on everything but the static files (``/assets/``, Dash's fingerprinted
  ``/_dash-component-suites/``, the favicon), which keep Flask's and Dash's caching: pages, callbacks, the layout,
  ``/api/…`` and ``/healthz`` are behind sign-in or say the city's state now — no browser or proxy keeps them.
- Request bodies over :data:`MAX_BODY` are answered 413 before anything reads them (Flask's
  ``MAX_CONTENT_LENGTH``, for gunicorn; ``cockpit.serve`` gives waitress the same cap).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from dash import Dash
from flask import Response, request

from cockpit import access

MAX_BODY = 4 * 1024 * 1024  # the largest callback body a screen sends is a few kB
EXTENSION = "cockpit.headers"


def tile_source(tile_url: str) -> str:
    """The CSP source of the map tile server in a Leaflet URL template (``https://{s}.tiles.example/{z}/{x}/{y}.png``
    → ``https://*.tiles.example``); empty for no tiles or tiles from the cockpit's own origin. ValueError for a
    template whose server a CSP source cannot name."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    if not parts.scheme and not parts.netloc:
        return ""  # a path on this server: 'self'
    try:
        port = parts.port
    except ValueError:  # a placeholder for the port
        port = -1
    first, _, rest = (parts.hostname or "").partition(".")
    if parts.scheme not in ("http", "https") or not first or "{" in rest or ("{" in first and not rest) or port == -1:
        raise ValueError(f"cockpit.tile_url {tile_url!r}: give an http(s) URL whose host is fixed or has its "
                         f"placeholder ({{s}}) only in the first label")
    host = f"[{parts.hostname}]" if ":" in first else ("*" if "{" in first else first) + (f".{rest}" if rest else "")
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def policy(script_hashes: list[str], tile_url: str = "") -> str:
    """The Content-Security-Policy of the cockpit: scripts from its own origin and Dash's inline scripts by hash
    (``Dash.csp_hashes``), images from it, ``data:`` and the tile server, nothing framed or posted elsewhere.

    No 'unsafe-eval': no screen needs it. plotly.js evaluates code only for its WebGL traces (regl: scattergl,
    splom, parcoords …), which no screen draws; dash-leaflet runs the functions of ``assets/`` by name, and
    dash-ag-grid parses ``{"function": …}`` strings without ``eval`` (tests/cockpit/test_headers_browser.py walks
    every screen and finds no violation). 'unsafe-inline' for styles only: dash_table, dcc's dropdown, AG Grid's
    theming and plotly.js insert ``<style>`` elements as they draw, and none of them takes a nonce; a style cannot
    run code, and script-src stays strict."""
    tiles = tile_source(tile_url)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([tiles] if tiles else [])],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _static(path: str, assets: str) -> bool:
    return path.startswith((assets, "/_dash-component-suites/")) or path == "/_favicon.ico"


def register(app: Dash, tile_url: str = "") -> None:
    """The headers and the body cap on ``app``'s server (once: a second call changes nothing); ``tile_url`` is
    ``cockpit.tile_url``. ValueError for a tile URL a CSP cannot name."""
    server = app.server
    if EXTENSION in server.extensions:
        return
    server.extensions[EXTENSION] = True
    tile_source(tile_url)  # refused at start-up, not at the first request
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    prefix = app.config.routes_pathname_prefix
    assets = "/" + app.config.assets_url_path.strip("/") + "/"

    @server.after_request
    def secure(response: Response) -> Response:
        # the hashes each time: Dash adds clientside callbacks' scripts to the page until it first renders it
        response.headers["Content-Security-Policy"] = policy(app.csp_hashes(), tile_url)
        if not _static(access.relative(request.path, prefix), assets):
            response.headers["Cache-Control"] = "no-store"
        return response
