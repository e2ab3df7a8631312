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


def event_growth(conn: Any, now: datetime, window_s: float) -> list[dict[str, Any]]:
    """Per event with posts observed in the window: each such post's growth (as `growth` gives it).

    Grouped here rather than summed in SQL: the spread signal leaves out the posts that alert on
    their own before it sums, and quotes the fastest posts.
    """
    since = to_iso(now - timedelta(seconds=window_s))
    rows = conn.execute(
        """
        SELECT p.event_id, e.title, o.post_id, p.source, p.title, p.url,
               (SELECT coalesce(reposts, 0) + coalesce(comments, 0) FROM engagement_observations f
                 WHERE f.post_id = o.post_id AND f.observed_at >= ? ORDER BY f.observed_at, f.id LIMIT 1),
               (SELECT coalesce(reposts, 0) + coalesce(comments, 0) FROM engagement_observations l
                 WHERE l.post_id = o.post_id ORDER BY l.observed_at DESC, l.id DESC LIMIT 1),
               min(o.observed_at), max(o.observed_at)
          FROM engagement_observations o JOIN posts p ON p.id = o.post_id JOIN events e ON e.id = p.event_id
         WHERE o.observed_at >= ?
         GROUP BY p.event_id, e.title, o.post_id, p.source, p.title, p.url
         ORDER BY p.event_id, o.post_id
        """, (since, since)).fetchall()
    events: dict[int, dict[str, Any]] = {}
    for r in rows:
        event = events.setdefault(int(r[0]), {"event_id": int(r[0]), "title": r[1], "posts": []})
        event["posts"].append({"post_id": r[2], "source": r[3], "title": r[4], "url": r[5], "first": r[6] or 0,
                               "last": r[7] or 0, "from": r[8], "to": r[9]})
    return list(events.values())


def top_by_reach(conn: Any, since: datetime, limit: int = 10, until: datetime | None = None) -> list[dict[str, Any]]:
    """Posts of [since, until) with the most reposts+comments+likes, as last counted (top posts by reach).

    Ranked on the report's covering index first (a month is 1.5 million posts), then only the
    winners' rows are read whole; posts nobody reposted, commented or liked are left out.
    """
    sql = "SELECT id, coalesce(reposts,0) + coalesce(comments,0) + coalesce(likes,0) AS reach FROM posts WHERE ts >= ?"
    params: list[Any] = [to_iso(since)]
    if until is not None:
        sql += " AND ts < ?"
        params.append(to_iso(until))
    top = [(int(r[0]), int(r[1])) for r in conn.execute(sql + " ORDER BY reach DESC, id LIMIT ?", (*params, limit))
           if r[1]]
    if not top:
        return []
    rows = {int(r[0]): r for r in conn.execute(
        f"SELECT id, source, title, url, ts, reposts, comments, likes, event_id, text FROM posts"
        f" WHERE id IN ({', '.join('?' * len(top))})", [i for i, _ in top])}
    return [{"id": i, "source": r[1], "title": r[2], "url": r[3], "reach": reach, "ts": r[4], "reposts": r[5],
             "comments": r[6], "likes": r[7], "event_id": r[8], "text": r[9]}
            for i, reach in top if (r := rows.get(i)) is not None]


def event_observations(conn: Any, event_id: int, until: datetime) -> list[tuple[int, str, int]]:
    """(post id, observed_at, reposts+comments+likes) of an event's posts before `until`, in time order.

    Everything before the period is read too: a post counted yesterday still reaches today.
    """
    rows = conn.execute(
        "SELECT o.post_id, o.observed_at, coalesce(o.reposts, 0) + coalesce(o.comments, 0) + coalesce(o.likes, 0)"
        " FROM engagement_observations o JOIN posts p ON p.id = o.post_id"
        " WHERE p.event_id = ? AND o.observed_at < ? ORDER BY o.observed_at, o.id",
        (event_id, to_iso(until))).fetchall()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def event_reach(conn: Any, event_id: int, limit: int) -> list[dict[str, Any]]:
    """An event's posts with the most reposts+comments+likes, as last counted, and its last post's time."""
    rows = conn.execute(
        "SELECT id, source, title, url, ts, text, coalesce(reposts,0) + coalesce(comments,0) + coalesce(likes,0) AS reach"
        " FROM posts WHERE event_id = ? ORDER BY reach DESC, ts, id LIMIT ?", (event_id, limit)).fetchall()
    return [{"id": r[0], "source": r[1], "title": r[2], "url": r[3], "ts": r[4], "text": r[5], "reach": int(r[6])}
            for r in rows if r[6]]


def event_last(conn: Any, event_id: int) -> str | None:
    row = conn.execute("SELECT max(ts) FROM posts WHERE event_id = ?", (event_id,)).fetchone()
    return str(row[0]) if row and row[0] else None
