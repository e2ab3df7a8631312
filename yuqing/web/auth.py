"""Analysts' logins for the web app: scrypt password hashes, HMAC-signed sessions, CSRF tokens.

Only the standard library: `hashlib.scrypt` for passwords (salted, memory-hard), `hmac` for the
session cookie and for CSRF tokens. A session cookie is `name.expiry.nonce.signature`; the CSRF token
of a form is the HMAC of the session's nonce (or, before login, of a separate pre-login nonce cookie),
so a token is worthless without the cookie that goes with it and a forged cross-site POST has neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from yuqing.errors import YuqingError
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import sessions

logger = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
SESSION_TTL = 12 * 3600
NAME = re.compile(r"^[\w.\-@]{1,64}$")
# Each scrypt call holds 16 MB (128 * N * r bytes); two at a time bound memory under a login flood.
HASH_SLOTS = threading.BoundedSemaphore(2)
HASH_WAIT = 10.0  # seconds a login waits for a hashing slot before it is told the server is busy
# Throttling: this many failures in LOCK_WINDOW (since the last success) lock the name or the client
USER_FAILURES, CLIENT_FAILURES = 5, 20
LOCK_WINDOW = timedelta(minutes=15)


class AuthError(YuqingError):
    """A user cannot be added or a login is refused; the message says why."""


class Busy(AuthError):
    """Every password-hashing slot stayed taken for HASH_WAIT seconds."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    if not HASH_SLOTS.acquire(timeout=HASH_WAIT):
        raise Busy("too many logins at once; try again in a moment")
    try:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=64 * 1024 * 1024)
    finally:
        HASH_SLOTS.release()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        if int(n) > 2**17 or int(r) > 16 or int(p) > 4:  # a stored hash must not make us spend unbounded memory
            return False
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def add_user(store: Store, name: str, password: str, *, replace: bool = False) -> None:
    """Create a user (or, with `replace`, set a new password); errors say what is wrong."""
    if not NAME.match(name):
        raise AuthError(f"user name {name!r} is not allowed: use 1-64 letters, digits, '.', '-', '_' or '@'")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")
    exists = store.scalar("SELECT 1 FROM users WHERE name = ?", [name])
    if exists and not replace:
        raise AuthError(f"user {name!r} exists already (use --replace to set a new password)")
    with store.transaction():
        store.conn.execute(
            "INSERT INTO users(name, password_hash, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
            (name, hash_password(password), to_iso(utcnow())),
        )
        audit(store, name, "user.password" if exists else "user.add", {}, commit=False)
    if exists:
        sessions.ensure(store)
        sessions.revoke(store, user=name, reason="password changed")


def disable_user(store: Store, name: str, *, disabled: bool = True) -> int:
    """Disable (or enable) a user; a disabled user's sessions end at once. Returns sessions ended."""
    sessions.ensure(store)
    if not sessions.set_disabled(store, name, disabled):
        raise AuthError(f"no user {name!r} (see `yuqing user list`)")
    ended = sessions.revoke(store, user=name, reason="user disabled") if disabled else 0
    audit(store, name, "user.disable" if disabled else "user.enable", {"sessions_ended": ended})
    return ended


def remove_user(store: Store, name: str) -> int:
    """Remove a user and end their sessions; their audit entries stay. Returns sessions ended."""
    sessions.ensure(store)
    if not sessions.delete_user(store, name):
        raise AuthError(f"no user {name!r} (see `yuqing user list`)")
    ended = sessions.revoke(store, user=name, reason="user removed")
    audit(store, name, "user.remove", {"sessions_ended": ended})
    return ended


def locked_out(store: Store, name: str, client: str) -> int:
    """Seconds until `name` or `client` may try again after too many failures (0: not locked)."""
    worst = 0.0
    now = datetime.now(timezone.utc)
    for count, last, limit in (
        (*sessions.recent_failures(store, window=LOCK_WINDOW, user=name), USER_FAILURES),
        (*sessions.recent_failures(store, window=LOCK_WINDOW, client=client), CLIENT_FAILURES),
    ):
        if count >= limit and last:
            left = (datetime.fromisoformat(last) + LOCK_WINDOW - now).total_seconds()
            worst = max(worst, left)
    return int(worst) + 1 if worst > 0 else 0


def check_login(store: Store, name: str, password: str) -> bool:
    row = store.query("SELECT * FROM users WHERE name = ?", [name])
    if not row:
        hash_password(password)  # spend the same time, so a wrong name is not told apart from a wrong password
        return False
    ok = verify_password(password, row[0]["password_hash"])
    return ok and not row[0].get("disabled_at")


def audit(store: Store, user: str, action: str, detail: dict[str, object], *, commit: bool = True) -> None:
    """One audit_log row; inside the caller's transaction when `commit` is false."""
    import json

    sql = "INSERT INTO audit_log(at, user, action, detail) VALUES (?, ?, ?, ?)"
    args = (to_iso(utcnow()), user, action, json.dumps(detail, ensure_ascii=False))
    if commit:
        with store.transaction():
            store.conn.execute(sql, args)
    else:
        store.conn.execute(sql, args)


def secret(settings: Settings, store: Store) -> bytes:
    """The signing key: `[web] secret`, else one generated once and kept in the store's meta."""
    if settings.web.secret:
        return settings.web.secret.encode("utf-8")
    value = store.get_meta("web_secret")
    if not value:
        value = secrets.token_hex(32)
        with store.transaction():
            store.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('web_secret', ?)", (value,))
        value = store.get_meta("web_secret") or value
    return value.encode("utf-8")


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    user: str
    nonce: str
    expires: int


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def make_session(key: bytes, user: str, ttl: int = SESSION_TTL, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl)
    name = base64.urlsafe_b64encode(user.encode("utf-8")).decode().rstrip("=")
    body = f"{name}.{expires}.{new_nonce()}"
    return f"{body}.{_sign(key, 'session|' + body)}"


def read_session(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in a cookie, or None if it is missing, forged or expired."""
    if not cookie or cookie.count(".") != 3:
        return None
    name, expires, nonce, sig = cookie.split(".")
    body = f"{name}.{expires}.{nonce}"
    if not hmac.compare_digest(sig, _sign(key, "session|" + body)):
        return None
    try:
        if int(expires) < (now or time.time()):
            return None
        user = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode("utf-8")
    except ValueError:
        return None
    return Session(user=user, nonce=nonce, expires=int(expires))


def csrf_token(key: bytes, nonce: str) -> str:
    return _sign(key, "csrf|" + nonce)


def check_csrf(key: bytes, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(key, nonce), token)
