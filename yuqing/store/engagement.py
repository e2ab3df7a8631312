"""Engagement over time: each re-visit of a post appends an observation and updates its current counts.

`add_posts` skips a URL it has seen; a refresh calls `observe` instead, so counts (and a 留言's
reply state in `extra`) follow the post. Observations are never updated or deleted.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from yuqing.models import to_iso

COUNTS = ("reposts", "comments", "likes", "reads")


def counts_of(post: Any) -> dict[str, int | None]:
    """A Post's counts as an observation (reads: where a site gives them, in extra)."""
    reads = post.extra.get("reads") if isinstance(post.extra, dict) else None
    return {"reposts": post.reposts, "comments": post.comments, "likes": post.likes,
            "reads": reads if isinstance(reads, int) and not isinstance(reads, bool) else None}


def record(conn: Any, post_id: int, at: datetime, counts: dict[str, int | None]) -> bool:
    """Append one observation; False (nothing written) when no count is given."""
    if all(counts.get(k) is None for k in COUNTS):
        return False
    conn.execute(
        "INSERT INTO engagement_observations(post_id, observed_at, reposts, comments, likes, reads)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (post_id, to_iso(at), *(counts.get(k) for k in COUNTS)))
    return True


def observe(conn: Any, canonical_url: str, at: datetime, counts: dict[str, int | None],
            extra: dict[str, Any] | None = None) -> int | None:
    """Record one observation of a stored post; returns its id, None when the post is unknown.

    The post's current counts follow the observation; `extra` (a 留言's reply state) is merged
    into the stored one, so a re-visit that does not mention a key leaves it as it was.
    """
    row = conn.execute("SELECT id, extra FROM posts WHERE canonical_url = ?", (canonical_url,)).fetchone()
    if row is None:
        return None
    post_id = int(row[0])
    record(conn, post_id, at, counts)
    sets: dict[str, Any] = {k: counts[k] for k in ("reposts", "comments", "likes") if counts.get(k) is not None}
    if extra:
        stored = json.loads(row[1] or "{}")
        merged = {**stored, **extra}
        if merged != stored:
            sets["extra"] = json.dumps(merged, ensure_ascii=False)
    if sets:
        conn.execute(f"UPDATE posts SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                     (*sets.values(), post_id))
    return post_id


def recent_urls(conn: Any, source: str, now: datetime, window_s: float) -> list[str]:
    """URLs of the source's posts first seen inside the refresh window, newest first."""
    since = to_iso(now - timedelta(seconds=window_s))
    return [r[0] for r in conn.execute(
        "SELECT url FROM posts WHERE source = ? AND fetched_at >= ? ORDER BY fetched_at DESC", (source, since))]


def growth(conn: Any, now: datetime, window_s: float) -> list[dict[str, Any]]:
    """Per post observed in the window: reposts+comments at its first and last observation in it."""
    since = to_iso(now - timedelta(seconds=window_s))
    rows = conn.execute(
        """
        SELECT o.post_id, p.source, p.title, p.url,
               (SELECT coalesce(reposts, 0) + coalesce(comments, 0) FROM engagement_observations f
                 WHERE f.post_id = o.post_id AND f.observed_at >= ? ORDER BY f.observed_at, f.id LIMIT 1),
               (SELECT coalesce(reposts, 0) + coalesce(comments, 0) FROM engagement_observations l
                 WHERE l.post_id = o.post_id ORDER BY l.observed_at DESC, l.id DESC LIMIT 1),
               min(o.observed_at), max(o.observed_at)
          FROM engagement_observations o JOIN posts p ON p.id = o.post_id
         WHERE o.observed_at >= ? GROUP BY o.post_id, p.source, p.title, p.url
        """, (since, since)).fetchall()
    return [{"post_id": r[0], "source": r[1], "title": r[2], "url": r[3], "first": r[4] or 0,
             "last": r[5] or 0, "from": r[6], "to": r[7]} for r in rows]


def top_by_reach(conn: Any, since: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """Posts since a time with the most reposts+comments+likes (digest: top posts by reach)."""
    rows = conn.execute(
        "SELECT id, source, title, url, coalesce(reposts,0) + coalesce(comments,0) + coalesce(likes,0) AS reach"
        " FROM posts WHERE ts >= ? ORDER BY reach DESC, id LIMIT ?", (to_iso(since), limit)).fetchall()
    return [{"id": r[0], "source": r[1], "title": r[2], "url": r[3], "reach": r[4]} for r in rows]
