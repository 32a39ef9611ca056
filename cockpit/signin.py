"""Sign-in and the server-side guard every request passes (Flask ``before_request``).

- A page request without a valid session is redirected to ``/login`` (HTTP 302); a Dash or API request gets
  401. A page, a callback (by its output ids, see ``cockpit.access``) or an API call that the user's role may
  not use gets 403. Static files, ``/login`` and ``/healthz`` are public.
- Sessions live in a signed cookie (HttpOnly, SameSite=Lax): user name, kind (password or kiosk), the
  credential's fingerprint (a new password, a new token or a disabled account ends the session) and the
  sign-in time (a session expires after ``auth.session_hours``, a kiosk one after ``auth.kiosk_days``).
- CSRF: every POST carries the session's token, in the sign-in and sign-out forms as a field, in Dash's
  callbacks as the ``X-CSRFToken`` header that dash-renderer copies from the ``_csrf_token`` cookie.
- Failed sign-ins are limited per user name and per client address (``auth.login_attempts`` per
  ``auth.login_window_minutes``): more are refused with 429 before the password is even checked.
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
from html import escape
from urllib.parse import urlencode

from flask import Flask, Response, g, has_request_context, jsonify, redirect, request, session

from cockpit import access
from cockpit.ratelimit import FailureLimit
from cockpit.users import ROLE_NAMES, Directory, User, password_matches
from config.settings import ROOT, Settings

log = logging.getLogger(__name__)

PUBLIC = ("/login", "/healthz", "/_favicon.ico")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads
MAX_FIELD = 256


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


def register(server: Flask, settings: Settings, directory: Directory) -> None:
    a = settings.auth
    server.secret_key = signing_key(settings)
    server.config.update(SESSION_COOKIE_NAME="cockpit_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=a.secure_cookie == "yes",
                         PERMANENT_SESSION_LIFETIME=dt.timedelta(days=max(a.kiosk_days, a.session_hours / 24)))
    limit = FailureLimit(a.login_attempts, a.login_window_minutes * 60)
    lifetimes = {"password": a.session_hours * 3600, "kiosk": a.kiosk_days * 86400}

    def session_user() -> User | None:
        name, kind = session.get("u"), session.get("k")
        if not name or kind not in lifetimes:
            return None
        user = directory.get(name)
        if (user is None or user.disabled or session.get("c") != user.credential(kind)
                or not 0 <= time.time() - float(session.get("t", 0)) <= lifetimes[kind]):
            session.clear()
            return None
        return user

    def start_session(user: User, kind: str) -> None:
        session.clear()
        session.update(u=user.name, k=kind, c=user.credential(kind), t=time.time(), csrf=secrets.token_urlsafe(24))
        session.permanent = True

    @server.before_request
    def guard():
        path = request.path
        if path in PUBLIC or path.startswith(PUBLIC_PREFIXES):
            return None
        if request.method == "GET" and "kiosk" in request.args:
            return kiosk_sign_in()
        user = session_user() or bearer_user()
        if user is None:
            if path.startswith(("/_dash-", "/api/")):
                return jsonify(error="not signed in"), 401
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}), 302)
        g.user = user
        if path == "/":
            return redirect(access.HOME[user.role], 302)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
            log.warning("refused a request without a valid CSRF token", extra={"fields": who(user) | {"path": path}})
            return jsonify(error="missing or wrong CSRF token; reload the page"), 403
        if not allowed(user, path):
            log.warning("refused: the role may not use this", extra={"fields": who(user) | {"path": path}})
            if path.startswith(("/_dash-", "/api/")):
                return jsonify(error=f"role {user.role} may not do this"), 403
            return page(forbidden(user, path), 403)
        return None

    def bearer_user() -> User | None:
        header = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and header.startswith("Bearer "):
            return directory.by_token(header[7:].strip())
        return None

    def allowed(user: User, path: str) -> bool:
        if path.startswith("/_dash-update-component"):
            body = request.get_json(silent=True)
            body = body if isinstance(body, dict) else {}
            return (access.may_call(user.role, access.output_ids(str(body.get("output", ""))))
                    and all(access.may_open(user.role, p) for p in access.page_paths(body)))
        # /api/… (the alerts as JSON and CAP) is read-only and open to every role, as are paths of no screen
        return access.may_open(user.role, path)

    def csrf_ok() -> bool:
        sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())

    def kiosk_sign_in():
        client = f"addr:{request.remote_addr}"
        wait = limit.retry_after(client)
        if wait:
            return page(signin_form(error=f"尝试次数过多，请 {wait / 60:.0f} 分钟后再试"), 429,
                        {"Retry-After": str(int(wait) + 1)})
        user = directory.by_token(request.args.get("kiosk", ""))
        if user is None:
            limit.failed(client)
            log.warning("kiosk sign-in with an unknown token", extra={"fields": who()})
            return page(signin_form(error="大屏令牌无效或已被撤销"), 403)
        start_session(user, "kiosk")
        log.info("kiosk signed in", extra={"fields": who(user)})
        rest = {k: v for k, v in request.args.items() if k != "kiosk"}
        return redirect(request.path + ("?" + urlencode(rest) if rest else ""), 302)

    @server.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next", ""))
        if request.method == "GET":
            return page(signin_form(target=target))
        if not csrf_ok():
            return page(signin_form(target=target, error="表单已过期，请重新登录"), 400)
        name = request.form.get("username", "").strip()[:MAX_FIELD]
        password = request.form.get("password", "")[:MAX_FIELD + 1]
        keys = (f"user:{name.lower()}", f"addr:{request.remote_addr}")
        wait = limit.retry_after(*keys)
        if wait:
            log.warning("sign-in refused: too many failures", extra={"fields": who(directory.get(name), name)})
            return page(signin_form(target=target, name=name, error=f"尝试次数过多，请 {wait / 60:.0f} 分钟后再试"),
                        429, {"Retry-After": str(int(wait) + 1)})
        user = directory.get(name)
        if not password_matches(user, password):
            limit.failed(*keys)
            log.warning("sign-in failed", extra={"fields": who(user, name)})
            return page(signin_form(target=target, name=name, error="用户名或密码错误"))  # the form again, as 200
        limit.succeeded(*keys)
        start_session(user, "password")
        log.info("signed in", extra={"fields": who(user)})
        return redirect(target if target and access.may_open(user.role, target) else access.HOME[user.role], 302)

    @server.route("/logout", methods=["POST"])
    def logout():
        log.info("signed out", extra={"fields": who(current_user())})
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


def who(user: User | None = None, name: str = "") -> dict[str, str]:
    """The fields of a sign-in line: the user (or the name typed, for an unknown one), the role, the address."""
    known = {"user": user.name, "role": user.role} if user else {"user": name} if name else {}
    return known | {"addr": request.remote_addr}


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
