"""Hot-list snapshots (one row per entry per poll) and engagement observations (append-only).

A hot list is polled often; each poll is kept whole so an entry's rank over time can be shown in
its alert. Engagement observations are appended on each re-visit of a post and never updated, so
a post's growth can be measured between any two of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from yuqing.models import content_hash, to_iso
from yuqing.text import to_simplified


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
    """Store one poll: entries carry title, rank, heat (or None) and url.

    Times are whole seconds, so a second poll within the same second (a `yuqing crawl` by hand
    beside the daemon's) replaces the first: a snapshot is one list, never two mixed together.
    """
    stamp = to_iso(polled_at)
    conn.execute("DELETE FROM hotlist_snapshots WHERE source = ? AND polled_at = ?", (source, stamp))
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


def latest(conn: Any, source: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The source's last poll: (polled_at, entries by rank); (None, []) before its first."""
    stamp = conn.execute("SELECT max(polled_at) FROM hotlist_snapshots WHERE source = ?", (source,)).fetchone()[0]
    if stamp is None:
        return None, []
    rows = conn.execute("SELECT rank, title, heat, url FROM hotlist_snapshots WHERE source = ? AND polled_at = ?"
                        " ORDER BY rank, id", (source, stamp)).fetchall()
    return stamp, [{"rank": r[0], "title": r[1], "heat": r[2], "url": r[3]} for r in rows]


_POST = "id, title, url, source, ts, event_id"


def _post(r: Any) -> dict[str, Any]:
    return {"id": r[1], "title": r[2], "url": r[3], "source": r[4], "ts": r[5], "event_id": r[6]}


def posts_at(conn: Any, urls: list[str]) -> dict[str, dict[str, Any]]:
    """Stored posts by canonical URL: the hot-list entries that named the locality."""
    found: dict[str, dict[str, Any]] = {}
    wanted = [u for u in dict.fromkeys(urls) if u]
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        for r in conn.execute(f"SELECT canonical_url, {_POST} FROM posts"
                              f" WHERE canonical_url IN ({','.join('?' * len(chunk))})", chunk):
            found[r[0]] = _post(r)
    return found


def entry_posts(conn: Any, entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The stored post of each entry that named the locality, by entry title.

    By the entry's URL, else by its words: the crawl stores an entry's post once, so the same
    title under a link that carries its rank (Weibo's band_rank) or on a second list is a duplicate
    of the post first stored, not a post of its own. The words are compared in simplified script,
    as the crawl stores them: 蘆山縣 on a second list is the post stored as 芦山县.
    """
    by_url = posts_at(conn, [e["url"] for e in entries])
    found = {str(e["title"]): by_url[e["url"]] for e in entries if e["url"] in by_url}
    hashes = {content_hash(to_simplified(str(e["title"])), ""): str(e["title"]) for e in entries if str(e["title"]) not in found}
    wanted = list(hashes)
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        for r in conn.execute(f"SELECT content_hash, {_POST} FROM posts WHERE text = ''"
                              f" AND content_hash IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk):
            found.setdefault(hashes[r[0]], _post(r))
    return found


def sources(conn: Any) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT source FROM hotlist_snapshots ORDER BY source")]


def last_listed(conn: Any, source: str, title: str) -> str | None:
    """When the source last listed the title (None: never)."""
    value: str | None = conn.execute("SELECT max(polled_at) FROM hotlist_snapshots WHERE source = ? AND title = ?",
                                     (source, title)).fetchone()[0]
    return value


def open_keys(conn: Any, kind: str) -> list[str]:
    """Keys of the alerts of one kind not resolved yet (hotlist:<title>, post:<id>): the signals end them."""
    return [r[0] for r in conn.execute("SELECT key FROM alerts WHERE kind = ? AND state != 'resolved' ORDER BY id",
                                       (kind,))]
