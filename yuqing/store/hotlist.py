"""Hot-list snapshots (one row per entry per poll) and engagement observations (append-only).

A hot list is polled often; each poll is kept whole so an entry's rank over time can be shown in
its alert. Engagement observations are appended on each re-visit of a post and never updated, so
a post's growth can be measured between any two of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from yuqing.models import to_iso


def migrate_v3(db: sqlite_utils.Database) -> None:
    from yuqing.store import run_script

    run_script(
        db,
        """
        CREATE TABLE hotlist_snapshots (
            id INTEGER PRIMARY KEY, source TEXT NOT NULL, polled_at TEXT NOT NULL,
            rank INTEGER NOT NULL, title TEXT NOT NULL, heat INTEGER, url TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX hotlist_title ON hotlist_snapshots(title, polled_at);
        CREATE INDEX hotlist_source ON hotlist_snapshots(source, polled_at);
        CREATE TABLE engagement_observations (
            id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, observed_at TEXT NOT NULL,
            reposts INTEGER, comments INTEGER, likes INTEGER, reads INTEGER
        );
        CREATE INDEX engagement_post ON engagement_observations(post_id, observed_at);
        """,
    )


def save_snapshot(conn: Any, source: str, polled_at: datetime, entries: list[dict[str, Any]]) -> None:
    """Store one poll: entries carry title, rank, heat (or None) and url."""
    stamp = to_iso(polled_at)
    conn.executemany(
        "INSERT INTO hotlist_snapshots(source, polled_at, rank, title, heat, url) VALUES (?, ?, ?, ?, ?, ?)",
        [(source, stamp, int(e["rank"]), str(e["title"]), e.get("heat"), str(e.get("url") or ""))
         for e in entries])


def trajectory(conn: Any, source: str, title: str, limit: int = 50) -> list[dict[str, Any]]:
    """The entry's rank at each poll that listed it, oldest first."""
    rows = conn.execute(
        "SELECT polled_at, rank, heat FROM hotlist_snapshots WHERE source = ? AND title = ?"
        " ORDER BY polled_at DESC LIMIT ?", (source, title, limit)).fetchall()
    return [{"at": r[0], "rank": r[1], "heat": r[2]} for r in reversed(rows)]
