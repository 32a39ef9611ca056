"""Sign-in and the server-side guard every request passes (Flask ``before_request``).

- A page request without a valid session is redirected to ``/login`` (HTTP 302); a Dash or API request gets
  401. A page, a callback or an API call that the user's role may not use gets 403. Every callback is checked
  against the spec Dash declared for it — its inputs and state by position, each value's type, the page the
  router loads — and a mismatch gets 400. Dash's URL prefix is taken into account; an endpoint the guard does
  not know (Dash's ``/_mcp``, anything added later) gets 404. Static files, ``/login`` and ``/healthz`` are
  public (``/healthz`` in full only for an admin or a monitor with ``auth.health_token``).
- Sessions live in a signed cookie (HttpOnly, SameSite=Lax) that expires with the session: user name, kind
  (password or kiosk), the credential's fingerprint (a new password, a new token or a disabled account ends the
  session) and the sign-in time (a session lasts ``auth.session_hours``, a kiosk one ``auth.kiosk_days``).
  Signing out ends every session of the user on every server (``session_ends`` in the warehouse).
- CSRF: every POST carries the session's token, in the sign-in and sign-out forms as a field, in Dash's
  callbacks as the ``X-CSRFToken`` header that dash-renderer copies from the ``_csrf_token`` cookie.
- Failed sign-ins slow further tries (``cockpit.ratelimit``: growing delays, shared by all servers) per user
  name and per client address — or, from a browser the user signed in from before, per that browser only.
  Kiosk-token failures are counted apart. The client address is the peer's, or read from X-Forwarded-For
  behind ``auth.trusted_proxies``.
- A wall PC opens ``/wall?kiosk=TOKEN`` once; the token becomes a kiosk session and leaves the URL.
  ``/api/…`` also takes ``Authorization: Bearer TOKEN`` (other systems reading alerts).
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import secrets
import tempfile
import time
from contextlib import suppress
from html import escape
from urllib.parse import urlencode

from dash import Dash
from flask import (
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from cockpit import access
from cockpit.ratelimit import SignInLimit
from cockpit.users import ROLE_NAMES, Directory, User, password_matches
from config.settings import Settings
from domain.paths import ROOT
from warehouse import Warehouse, WarehouseError

log = logging.getLogger(__name__)

PUBLIC = ("/login", "/healthz", "/_favicon.ico")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads
DEVICE_COOKIE = "cockpit_device"  # a browser a user signed in from before (OWASP's device cookies)
DEVICE_DAYS = 90
MAX_FIELD = 256


class GuardError(ValueError):
    """A configuration the sign-in guard cannot protect; the message says what to change."""


def current_user() -> User | None:
    """The signed-in user of this request (set by the guard); None outside a request."""
    return g.get("user") if has_request_context() else None


def csrf_token() -> str:
    """The session's CSRF token, for forms."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def signing_key(settings: Settings) -> bytes:
    """``auth.secret``, or a random key created once in ``auth.secret_file`` (owner-readable only; gunicorn's
    workers racing to create it all end up reading the same one)."""
    if settings.auth.secret:
        return settings.auth.secret.encode()
    path = ROOT / settings.auth.secret_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # created 0600
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # atomic, and refused if another worker was first: theirs is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path}: the session signing key is shorter than 32 characters; delete the file "
                           f"to have a new one made")
    return key.encode()


class SessionCookies(SecureCookieSessionInterface):
    """The signed session cookie, expiring when its session does (a password sign-in after
    ``auth.session_hours``, a kiosk one after ``auth.kiosk_days``), not after the longest of them."""

    def __init__(self, lifetimes: dict[str, float]):
        self.lifetimes = lifetimes

    def get_expiration_time(self, app, session) -> dt.datetime | None:
        kind, opened = session.get("k"), session.get("t")
        if kind not in self.lifetimes or not isinstance(opened, (int, float)):
            return None  # no session: a cookie for this browser session only
        return dt.datetime.fromtimestamp(opened + self.lifetimes[kind], dt.timezone.utc)


def register(app: Dash, settings: Settings, directory: Directory, warehouse: Warehouse | None) -> None:
    """The guard, sign-in and sign-out on ``app``'s server. Raises GuardError for a configuration the guard
    cannot protect."""
    if app._enable_mcp:
        raise GuardError("Dash's MCP endpoint (DASH_MCP_ENABLED) runs callbacks past the cockpit's role checks: "
                         "turn it off")
    server, a = app.server, settings.auth
    prefix = app.config.routes_pathname_prefix
    requests_prefix = app.config.requests_pathname_prefix
    server.secret_key = signing_key(settings)
    lifetimes = {"password": a.session_hours * 3600, "kiosk": a.kiosk_days * 86400}
    server.session_interface = SessionCookies(lifetimes)
    server.config.update(SESSION_COOKIE_NAME="cockpit_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=a.secure_cookie == "yes",
                         PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=max(lifetimes.values())))
    limit = SignInLimit(warehouse, a.login_attempts, a.login_window_minutes * 60)
    devices = URLSafeTimedSerializer(server.secret_key, salt="cockpit-device")
    trusted = access.networks(a.trusted_proxies)
    server.config["COCKPIT_HEALTH_TOKEN"] = a.health_token

    def client() -> str:
        return access.client_address(request.remote_addr or "", request.headers.get("X-Forwarded-For", ""), trusted)

    def session_user() -> User | None:
        name, kind, opened = session.get("u"), session.get("k"), session.get("t")
        if not name or kind not in lifetimes or not isinstance(opened, (int, float)):
            return None
        user = directory.get(name)
        if (user is None or user.disabled or session.get("c") != user.credential(kind)
                or not 0 <= time.time() - opened <= lifetimes[kind] or not directory.session_valid(name, opened)):
            session.clear()
            return None
        return user

    def start_session(user: User, kind: str) -> None:
        session.clear()
        session.update(u=user.name, k=kind, c=user.credential(kind), t=time.time(), csrf=secrets.token_urlsafe(24))

    @server.before_request
    def guard():
        g.client = client()
        path = request.path
        if path in PUBLIC or path.startswith(PUBLIC_PREFIXES):
            if path == "/healthz":  # public, in full for an admin (a warehouse outage is its answer, not a 500)
                with suppress(WarehouseError):
                    g.user = session_user()
            return None
        if request.url_rule is not None and not access.known_rule(request.url_rule.rule, prefix):
            log.warning("refused an endpoint the guard does not know", extra={"fields": who() | {"path": path}})
            return jsonify(error="not found"), 404
        if request.method == "GET" and "kiosk" in request.args:
            return kiosk_sign_in()
        user = session_user() or bearer_user()
        if user is None:
            if "/_dash-" in path or path.startswith("/api/"):
                return jsonify(error="not signed in"), 401
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}), 302)
        g.user = user
        if access.relative(path, prefix) == "/":
            return redirect(access.HOME[user.role], 302)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
            log.warning("refused a request without a valid CSRF token", extra={"fields": who(user) | {"path": path}})
            return jsonify(error="missing or wrong CSRF token; reload the page"), 403
        try:
            ok = allowed(user, access.relative(path, prefix))
        except access.BadCall as e:
            log.warning("refused a callback that does not match its spec",
                        extra={"fields": who(user) | {"path": path, "reason": str(e)}})
            return jsonify(error=f"bad callback: {e}"), 400
        if not ok:
            log.warning("refused: the role may not use this", extra={"fields": who(user) | {"path": path}})
            if "/_dash-" in path or path.startswith("/api/"):
                return jsonify(error=f"role {user.role} may not do this"), 403
            return page(forbidden(user, path), 403)
        return None

    def bearer_user() -> User | None:
        header = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and header.startswith("Bearer "):
            return directory.by_token(header[7:].strip())
        return None

    def allowed(user: User, path: str) -> bool:
        """Whether ``user`` may use ``path`` (relative to the prefix); a callback is checked against the spec
        Dash declared for it, the page a routing callback loads by the declared position of its path."""
        if path == "/_dash-update-component":
            body = request.get_json(silent=True)
            output = body.get("output") if isinstance(body, dict) else None
            if not isinstance(output, str):
                raise access.BadCall("no output named")
            if not access.may_call(user.role, access.output_ids(output)):
                return False
            spec = app.callback_map.get(output)
            if spec is None:
                raise access.BadCall("no such callback")
            access.check_call(body, spec)
            return all(access.may_open(user.role, access.relative(p, requests_prefix))
                       for p in access.routed_paths(body, spec))
        # /api/… (the alerts as JSON and CAP) is read-only and open to every role, as are paths of no screen
        return access.may_open(user.role, path)

    def csrf_ok() -> bool:
        sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())

    def refused(wait: float, body: str):
        return page(body, 429, {"Retry-After": str(int(wait) + 1)})

    def kiosk_sign_in():
        key = f"kiosk:{g.client}"  # counted apart: a page elsewhere linking ?kiosk=x cannot hold back sign-in
        wait = limit.retry_after(key)
        if wait:
            return refused(wait, signin_form(error=f"尝试次数过多，请 {_wait_text(wait)}后再试"))
        user = directory.by_token(request.args.get("kiosk", ""))
        if user is None:
            limit.failed(key)
            log.warning("kiosk sign-in with an unknown token", extra={"fields": who()})
            return page(signin_form(error="大屏令牌无效或已被撤销"), 403)
        start_session(user, "kiosk")
        log.info("kiosk signed in", extra={"fields": who(user)})
        rest = {k: v for k, v in request.args.items() if k != "kiosk"}
        return redirect(request.path + ("?" + urlencode(rest) if rest else ""), 302)

    def device_of(name: str) -> str | None:
        """This browser's device id if ``name`` signed in from it before (a signed cookie), else None."""
        try:
            mark = devices.loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
        except BadSignature:
            return None
        return mark.get("d") if isinstance(mark, dict) and mark.get("u") == name.lower() else None

    @server.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next", ""))
        if request.method == "GET":
            return page(signin_form(target=target))
        if not csrf_ok():
            return page(signin_form(target=target, error="表单已过期，请重新登录"), 400)
        name = request.form.get("username", "").strip()[:MAX_FIELD]
        password = request.form.get("password", "")[:MAX_FIELD + 1]
        device = device_of(name)
        # a browser the user signed in from before counts its own failures; others count against the name and
        # the address, so a stranger's guessing slows strangers, not the user at their own desk
        keys = (f"device:{device}",) if device else (f"user:{name.lower()}", f"addr:{g.client}")
        wait = limit.retry_after(*keys)
        if wait:
            log.warning("sign-in refused: too many failures", extra={"fields": who(directory.get(name), name)})
            return refused(wait, signin_form(target=target, name=name,
                                             error=f"尝试次数过多，请 {_wait_text(wait)}后再试"))
        user = directory.get(name)
        if not password_matches(user, password):
            limit.failed(*keys)
            log.warning("sign-in failed", extra={"fields": who(user, name)})
            return page(signin_form(target=target, name=name, error="用户名或密码错误"))  # the form again, as 200
        limit.succeeded(f"user:{name.lower()}", *([f"device:{device}"] if device else []))  # not the address
        start_session(user, "password")
        log.info("signed in", extra={"fields": who(user)})
        reply = redirect(target if target and access.may_open(user.role, target) else access.HOME[user.role], 302)
        reply.set_cookie(DEVICE_COOKIE, devices.dumps({"u": user.name, "d": device or secrets.token_urlsafe(12)}),
                         max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Strict",
                         secure=a.secure_cookie == "yes")
        return reply

    @server.route("/logout", methods=["POST"])
    def logout():
        user = current_user()
        log.info("signed out", extra={"fields": who(user)})
        if user is not None:
            directory.end_sessions(user.name)  # every copy of the cookie, on every server
        session.clear()  # the guard has checked the form's CSRF token
        return redirect("/login", 302)

    @server.after_request
    def headers(response: Response) -> Response:
        token = session.get("csrf")
        if token and request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, samesite="Strict", secure=a.secure_cookie == "yes")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _wait_text(seconds: float) -> str:
    return f"{seconds / 60:.0f} 分钟" if seconds >= 90 else f"{max(1, round(seconds))} 秒"


def full_health() -> bool:
    """Whether this request may read /healthz in full: a signed-in admin, or a monitor with the health token."""
    user = g.get("user")
    if user is not None and user.role == "admin":
        return True
    token = current_app.config.get("COCKPIT_HEALTH_TOKEN", "")
    header = request.headers.get("Authorization", "")
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(),
                                                                               token.encode())


def who(user: User | None = None, name: str = "") -> dict[str, str]:
    """The fields of a sign-in line: the user (or the name typed, for an unknown one), the role, the address."""
    known = {"user": user.name, "role": user.role} if user else {"user": name} if name else {}
    return known | {"addr": g.get("client") or request.remote_addr}


def safe_next(target: str) -> str:
    """A local path to return to after sign-in; anything else (another site, ``//host``, control characters)
    becomes empty."""
    if (not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 512
            or any(ord(c) < 32 for c in target) or target.startswith("/login")):
        return ""
    return target


def page(body: str, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>登录 · 城市运行一网统管</title>
<link rel="stylesheet" href="/assets/cockpit.css"><link rel="stylesheet" href="/assets/signin.css"></head><body class="signin-body">{body}</body></html>""",
                        status=status, mimetype="text/html", headers=headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def signin_form(target: str = "", name: str = "", error: str = "") -> str:
    message = f'<p class="signin-error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<main class="signin-card"><h1>城市运行一网统管</h1><p class="signin-sub">请登录</p>{message}
<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">
<input type="hidden" name="next" value="{escape(target)}">
<label>用户名<input name="username" value="{escape(name)}" required maxlength="{MAX_FIELD}" autofocus
 autocomplete="username"></label>
<label>密码<input name="password" type="password" required maxlength="{MAX_FIELD}" autocomplete="current-password">
</label><button type="submit">登录</button></form>
<p class="signin-note">大屏终端请使用管理员发放的大屏链接（含令牌）。</p></main>"""


def forbidden(user: User, path: str) -> str:
    return f"""<main class="signin-card"><h1>无权访问</h1>
<p class="signin-sub">{escape(user.label)}（{escape(ROLE_NAMES[user.role])}）无权打开 {escape(path)}。</p>
<p><a href="{access.HOME[user.role]}">返回我的页面</a></p>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{escape(csrf_token())}">
<button type="submit">切换用户</button></form></main>"""
