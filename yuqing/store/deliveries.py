"""Delivery bookkeeping beyond the queue itself: each channel's health, and re-queueing failed messages.

`channel_health` has one row per channel name: when it was last tried, when it last took a message,
its last error in words and how many attempts in a row failed (what `yuqing status` shows).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

from yuqing.models import to_iso

if TYPE_CHECKING:
    from yuqing.store import Store

logger = logging.getLogger(__name__)


def migrate_v6(db: sqlite_utils.Database) -> None:
    from yuqing.store import run_script

    run_script(
        db,
        """
        CREATE TABLE channel_health (
            name TEXT PRIMARY KEY, url TEXT NOT NULL DEFAULT '', last_attempt_at TEXT, last_ok_at TEXT,
            last_error TEXT, failures INTEGER NOT NULL DEFAULT 0
        );
        ALTER TABLE deliveries ADD COLUMN last_attempt_at TEXT;
        """,
    )


def record_attempt(store: Store, channel: str, url: str, at: datetime, error: str | None) -> None:
    """One attempt on `channel` ended at `at`: ok (error None) or failed with `error` in words."""
    with store.transaction():
        store.conn.execute(
            "INSERT INTO channel_health(name, url, last_attempt_at, last_ok_at, last_error, failures)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET url = excluded.url,"
            " last_attempt_at = excluded.last_attempt_at,"
            " last_ok_at = COALESCE(excluded.last_ok_at, channel_health.last_ok_at),"
            " last_error = excluded.last_error,"
            " failures = CASE WHEN excluded.last_error IS NULL THEN 0 ELSE channel_health.failures + 1 END",
            (channel, url, to_iso(at), None if error else to_iso(at), error, 0 if error is None else 1),
        )


def channel_report(store: Store) -> list[dict[str, Any]]:
    """Per channel named by a row or tried once: its counts by state and its health."""
    rows = store.query(
        """
        SELECT d.channel AS name,
               sum(d.state IN ('pending', 'sending')) AS waiting, sum(d.state = 'failed') AS failed,
               sum(d.state = 'sent') AS sent
        FROM deliveries d GROUP BY d.channel
        """
    )
    by_name = {r["name"]: {**r, "url": "", "last_attempt_at": None, "last_ok_at": None, "last_error": None,
                           "failures": 0} for r in rows}
    for h in store.query("SELECT * FROM channel_health"):
        entry = by_name.setdefault(h["name"], {"name": h["name"], "waiting": 0, "failed": 0, "sent": 0})
        entry.update({k: h[k] for k in ("url", "last_attempt_at", "last_ok_at", "last_error", "failures")})
    return [by_name[name] for name in sorted(by_name)]


def failed_messages(store: Store, channel: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    sql = "SELECT id, kind, ref, channel, subject, attempts, last_error, created_at FROM deliveries WHERE state = 'failed'"
    params: list[Any] = []
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    return store.query(sql + " ORDER BY id LIMIT ?", [*params, limit])


def requeue_failed(store: Store, *, channel: str | None = None, to: str | None = None,
                   ids: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Failed rows (of `channel`, or these `ids`) back to pending with fresh attempts, readdressed to
    `to` when given; returns (requeued ids, skipped ids: `to` already has that message)."""
    requeued: list[int] = []
    skipped: list[int] = []
    with store.transaction():
        sql = "SELECT id, kind, ref, channel FROM deliveries WHERE state = 'failed'"
        params: list[Any] = []
        if channel:
            sql += " AND channel = ?"
            params.append(channel)
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            params += ids
        for row in store.conn.execute(sql + " ORDER BY id", params).fetchall():
            row_id, kind, ref, old = row
            target = to or old
            if target != old and store.conn.execute(
                "SELECT 1 FROM deliveries WHERE kind = ? AND ref = ? AND channel = ?", (kind, ref, target)
            ).fetchone():
                skipped.append(row_id)  # that channel has (or had) this very message: never twice
                continue
            store.conn.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, claimed_by = NULL,"
                " channel = ?, last_error = ? WHERE id = ?",
                (target, f"re-queued by hand (was for {old}): {_short(store, row_id)}" if target != old else None,
                 row_id),
            )
            requeued.append(row_id)
    return requeued, skipped


def _short(store: Store, row_id: int) -> str:
    error = store.scalar("SELECT last_error FROM deliveries WHERE id = ?", [row_id]) or ""
    return error[:200]
