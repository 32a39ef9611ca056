"""Cockpit users: names, roles, password and kiosk-token checks, kept in the warehouse's ``users`` table.

Roles (ARCHITECTURE.md's user table): ``wall`` (read-only, the command-centre wall; signs in with a kiosk
token), ``duty``, ``leader``, ``analyst``, ``admin``. Passwords are stored as scrypt hashes; a kiosk token is
256 random bits, stored as its SHA-256 and shown once when issued.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, replace

from werkzeug.security import check_password_hash, generate_password_hash

from alerts.text import plain_text
from warehouse import Warehouse

ROLES = ("wall", "duty", "leader", "analyst", "admin")
ROLE_NAMES = {"wall": "大屏", "duty": "值班员", "leader": "领导", "analyst": "分析员", "admin": "管理员"}
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,31}")
_COLUMNS = ("name", "role", "display_name", "password_hash", "token_hash", "disabled", "updated_at", "version")
_DUMMY_HASH = generate_password_hash("never a password")  # checked for unknown names: the same time either way


class UserError(ValueError):
    """A bad user name, role or password, or an unknown user; the message says which."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display_name: str = ""
    password_hash: str = ""
    token_hash: str = ""
    disabled: bool = False

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def credential(self, kind: str) -> str:
        """A short fingerprint of the credential a session was opened with: a new password or token (or a
        disabled account) changes it and so ends the sessions opened with the old one."""
        secret = self.password_hash if kind == "password" else self.token_hash
        return hashlib.sha256(f"{secret}|{self.disabled}".encode()).hexdigest()[:16]


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise UserError(f"user name {name!r}: 2–32 characters, lower-case letters, digits and . _ -, "
                        f"starting with a letter")
    return name


def shown_name(display_name: str) -> str:
    """A display name as screens show it: plain text (no control or bidi characters), one line, ≤ 64 characters."""
    return plain_text(display_name or "", newlines=False).strip()[:64]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(f"a password has {MIN_PASSWORD}–{MAX_PASSWORD} characters")
    return password


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; as slow for an unknown or disabled user as for a known one."""
    if len(password) > MAX_PASSWORD:
        return False
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    return ok and user is not None and bool(user.password_hash) and not user.disabled


# --- the users table --------------------------------------------------------------------------------------------

def load(wh: Warehouse) -> dict[str, User]:
    """Every user's newest row, by name (``argMax``: correct before the table's merges)."""
    picks = ", ".join(f"argMax({c}, version) AS {c}" for c in _COLUMNS[1:6])
    df = wh.query_df(f"SELECT name, {picks} FROM users GROUP BY name ORDER BY name")
    return {r["name"]: User(r["name"], r["role"], r["display_name"], r["password_hash"], r["token_hash"],
                            bool(r["disabled"])) for r in df.to_dict("records")}


def save(wh: Warehouse, user: User) -> User:
    now = time.time()
    row = {"name": user.name, "role": user.role, "display_name": user.display_name,
           "password_hash": user.password_hash, "token_hash": user.token_hash, "disabled": int(user.disabled),
           "updated_at": dt.datetime.fromtimestamp(int(now), dt.timezone.utc), "version": time.time_ns()}
    wh.insert_columns("users", {c: [row[c]] for c in _COLUMNS})
    return user


def add(wh: Warehouse, name: str, role: str, password: str, display_name: str = "") -> User:
    """A new user; an existing name is refused (``set_password`` changes a password)."""
    check_name(name)
    if name in load(wh):
        raise UserError(f"user {name!r} exists")
    return save(wh, User(name, check_role(role), shown_name(display_name),
                         generate_password_hash(check_password(password))))


def set_password(wh: Warehouse, name: str, password: str) -> User:
    """A new password (the user's sessions opened with the old one end)."""
    return save(wh, replace(_existing(wh, name), password_hash=generate_password_hash(check_password(password))))


def put(wh: Warehouse, name: str, role: str, password: str, display_name: str = "") -> User:
    """Create the user or reset its role and password (the demo's users)."""
    check_name(name)
    return save(wh, User(name, check_role(role), shown_name(display_name),
                         generate_password_hash(check_password(password))))


def issue_token(wh: Warehouse, name: str) -> str:
    """A new kiosk token for a ``wall`` user (the old one stops working); returned once, stored as a hash."""
    user = _existing(wh, name)
    if user.role != "wall":
        raise UserError(f"kiosk tokens are for wall users; {name!r} is {user.role}")
    token = secrets.token_urlsafe(32)
    save(wh, replace(user, token_hash=hash_token(token)))
    return token


def set_disabled(wh: Warehouse, name: str, disabled: bool = True) -> User:
    return save(wh, replace(_existing(wh, name), disabled=disabled))


def end_sessions(wh: Warehouse, name: str, at: float | None = None) -> float:
    """End every session of ``name`` opened before ``at`` (now), on every server (sign-out, ``user signout``)."""
    at = time.time() if at is None else at
    wh.insert_columns("session_ends", {"name": [name], "ended_at": [float(at)]})
    return at


def session_ends(wh: Warehouse) -> dict[str, float]:
    """When each user's sessions were last ended: those opened before are over."""
    df = wh.query_df("SELECT name, max(ended_at) AS ended_at FROM session_ends GROUP BY name")
    return dict(zip(df["name"], map(float, df["ended_at"])))


def _existing(wh: Warehouse, name: str) -> User:
    user = load(wh).get(name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


class Directory:
    """The users as the web server sees them: read from the warehouse at most every ``ttl`` seconds, so a
    changed password, revoked token, disabled account or ended session takes effect within that time on every
    worker (at once on the one that made the change)."""

    def __init__(self, wh: Warehouse, ttl: float = 5.0):
        self._wh = wh
        self._ttl = ttl
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._by_token: dict[str, User] = {}
        self._ends: dict[str, float] = {}
        self._read_at = float("-inf")

    def _fresh(self, ttl: float | None = None) -> None:
        with self._lock:
            if time.monotonic() - self._read_at >= (self._ttl if ttl is None else ttl):
                self._users = load(self._wh)
                self._by_token = {u.token_hash: u for u in self._users.values() if u.token_hash}
                self._ends = session_ends(self._wh)
                self._read_at = time.monotonic()

    def session_valid(self, name: str, opened_at: float) -> bool:
        """Whether a session of ``name`` opened at ``opened_at`` has not been ended since."""
        self._fresh()
        return opened_at > self._ends.get(name, float("-inf"))

    def end_sessions(self, name: str) -> None:
        """End ``name``'s sessions everywhere; on this server at once."""
        at = end_sessions(self._wh, name)
        with self._lock:
            self._ends[name] = max(at, self._ends.get(name, at))

    def get(self, name: str) -> User | None:
        """The user named ``name``; an unknown name reads the table again, so a user just added can sign in at
        once (sign-in attempts are rate-limited before they get here; session names are signed)."""
        self._fresh()
        if name not in self._users:
            self._fresh(ttl=0.0)
        return self._users.get(name)

    def by_token(self, token: str) -> User | None:
        self._fresh()
        user = self._by_token.get(hash_token(token)) if len(token) <= 128 else None
        return user if user is not None and not user.disabled else None
