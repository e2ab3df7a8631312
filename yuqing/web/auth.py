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
import time
from dataclasses import dataclass

from yuqing.errors import YuqingError
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
SESSION_TTL = 12 * 3600
NAME = re.compile(r"^[\w.\-@]{1,64}$")


class AuthError(YuqingError):
    """A user cannot be added or a login is refused; the message says why."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
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


def check_login(store: Store, name: str, password: str) -> bool:
    row = store.query("SELECT password_hash FROM users WHERE name = ?", [name])
    if not row:
        hash_password(password)  # spend the same time, so a wrong name is not told apart from a wrong password
        return False
    return verify_password(password, row[0]["password_hash"])


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
