"""Web sessions, login attempts and used pre-login tokens, kept in the store so they can be ended.

The tables are created on first use (``ensure``) rather than by a numbered migration: they belong
to the web app alone, and an older yuqing reading the same store simply never looks at them.
A session row is keyed by the cookie's nonce; the cookie's signature still proves it was issued
here, the row says whether it is still valid (logout, password change, disable and remove revoke).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from yuqing.models import to_iso, utcnow
from yuqing.store import Store

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_sessions (
    nonce TEXT PRIMARY KEY, user TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    revoked_at TEXT, reason TEXT
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions(user);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, client TEXT NOT NULL, ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_at ON login_attempts(at);
CREATE TABLE IF NOT EXISTS used_tokens (nonce TEXT PRIMARY KEY, at TEXT NOT NULL);
"""


def ensure(store: Store) -> None:
    """Create the tables (idempotent) and the users.disabled_at column."""
    with store.transaction() as conn:
        for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
            conn.execute(stmt)
        cols = {r[1] for r in conn.execute("PRAGMA table_info(users)")}
        if "disabled_at" not in cols:
            conn.execute("ALTER TABLE users ADD COLUMN disabled_at TEXT")


def user_state(store: Store, name: str) -> str | None:
    """'active', 'disabled' or None when there is no such user."""
    rows = store.query("SELECT disabled_at FROM users WHERE name = ?", [name])
    if not rows:
        return None
    return "disabled" if rows[0].get("disabled_at") else "active"


def open_session(store: Store, nonce: str, user: str, expires: datetime) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO web_sessions(nonce, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
                     (nonce, user, to_iso(utcnow()), to_iso(expires)))


def session_valid(store: Store, nonce: str, user: str) -> bool:
    """The session exists, is not revoked nor expired, and its user still exists and is enabled."""
    row = store.conn.execute(
        "SELECT 1 FROM web_sessions s JOIN users u ON u.name = s.user WHERE s.nonce = ? AND s.user = ? "
        "AND s.revoked_at IS NULL AND s.expires_at > ? AND u.disabled_at IS NULL",
        (nonce, user, to_iso(utcnow())),
    ).fetchone()
    return row is not None


def revoke(store: Store, *, nonce: str | None = None, user: str | None = None, reason: str) -> int:
    """Revoke one session (by nonce) or every session of a user; returns how many."""
    now = to_iso(utcnow())
    with store.transaction() as conn:
        if nonce is not None:
            cur = conn.execute("UPDATE web_sessions SET revoked_at = ?, reason = ? WHERE nonce = ? "
                               "AND revoked_at IS NULL", (now, reason, nonce))
        else:
            cur = conn.execute("UPDATE web_sessions SET revoked_at = ?, reason = ? WHERE user = ? "
                               "AND revoked_at IS NULL", (now, reason, user))
        return cur.rowcount


def set_disabled(store: Store, name: str, disabled: bool) -> bool:
    with store.transaction() as conn:
        cur = conn.execute("UPDATE users SET disabled_at = ? WHERE name = ?",
                           (to_iso(utcnow()) if disabled else None, name))
        return cur.rowcount > 0


def delete_user(store: Store, name: str) -> bool:
    with store.transaction() as conn:
        cur = conn.execute("DELETE FROM users WHERE name = ?", (name,))
        return cur.rowcount > 0


def record_attempt(store: Store, user: str, client: str, ok: bool) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO login_attempts(at, user, client, ok) VALUES (?, ?, ?, ?)",
                     (to_iso(utcnow()), user, client, int(ok)))


def recent_failures(store: Store, *, window: timedelta, user: str | None = None,
                    client: str | None = None) -> tuple[int, str | None]:
    """Failed attempts since the last success within `window`, and the latest failure's time."""
    since = to_iso(utcnow() - window)
    column, value = ("user", user) if user is not None else ("client", client)
    last_ok = store.scalar(f"SELECT max(at) FROM login_attempts WHERE {column} = ? AND ok = 1 AND at > ?",
                           [value, since])
    row = store.conn.execute(
        f"SELECT count(*), max(at) FROM login_attempts WHERE {column} = ? AND ok = 0 AND at > ?",
        (value, max(since, last_ok or since)),
    ).fetchone()
    return int(row[0]), row[1]


def use_token(store: Store, nonce: str) -> bool:
    """Mark a pre-login token used; False if it was used already (a replay)."""
    with store.transaction() as conn:
        cur = conn.execute("INSERT OR IGNORE INTO used_tokens(nonce, at) VALUES (?, ?)", (nonce, to_iso(utcnow())))
        return cur.rowcount == 1


def purge(store: Store, older_than: timedelta = timedelta(days=30)) -> int:
    """Forget old attempts, used tokens and ended sessions (housekeeping)."""
    cutoff = to_iso(utcnow() - older_than)
    with store.transaction() as conn:
        n = conn.execute("DELETE FROM login_attempts WHERE at < ?", (cutoff,)).rowcount
        n += conn.execute("DELETE FROM used_tokens WHERE at < ?", (cutoff,)).rowcount
        n += conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (cutoff,)).rowcount
    return n
