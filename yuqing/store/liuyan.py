"""留言 tracking queries: reply state lives in posts.extra (answered, reply_at, reply_by, forum)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from yuqing.models import to_iso


def _field(conn: Any, key: str) -> str:
    """posts.extra's `key` as SQL text: SQLite's json_extract, PostgreSQL's ->> on the same JSON text."""
    if getattr(conn, "backend", "sqlite") == "postgresql":
        return f"(extra::jsonb ->> '{key}')"
    return f"json_extract(extra, '$.{key}')"


def _answered(conn: Any) -> str:
    """A true/false SQL condition: the 留言 has been answered (extra.answered true or 1)."""
    if getattr(conn, "backend", "sqlite") == "postgresql":
        # as json_extract reads it: true/false as 1/0, a number as itself, any string as answered
        return ("(CASE jsonb_typeof(extra::jsonb -> 'answered') WHEN 'boolean' THEN "
                "(extra::jsonb ->> 'answered')::boolean::int WHEN 'number' THEN (extra::jsonb ->> 'answered')::numeric "
                "WHEN 'string' THEN 1 ELSE 0 END) != 0")
    return "coalesce(json_extract(extra, '$.answered'), 0) != 0"


def _dept(conn: Any) -> str:
    return f"coalesce(nullif({_field(conn, 'reply_by')}, ''), nullif({_field(conn, 'forum')}, ''), '未注明')"


def overdue(conn: Any, now: datetime, overdue_s: float, sources: list[str] | None = None) -> list[dict[str, Any]]:
    """Unanswered 留言 older than the deadline, oldest first; of these sources only when given (read
    through posts(source, ts): without them every older post's JSON is parsed, on each detection)."""
    cutoff = to_iso(now - timedelta(seconds=overdue_s))
    where, params = "", [cutoff]
    if sources is not None:
        if not sources:
            return []
        where = f" AND source IN ({', '.join('?' * len(sources))})"
        params = [*sources, cutoff]
    rows = conn.execute(
        f"SELECT id, source, title, url, ts, {_dept(conn)} FROM posts WHERE {_field(conn, 'tid')} IS NOT NULL"
        f"{where} AND NOT {_answered(conn)} AND ts < ? ORDER BY ts, id", params).fetchall()
    return [{"id": r[0], "source": r[1], "title": r[2], "url": r[3], "ts": r[4], "department": r[5]} for r in rows]


def answered_ids(conn: Any, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = conn.execute(f"SELECT id FROM posts WHERE id IN ({','.join('?' * len(ids))}) AND {_answered(conn)}", ids)
    return {int(r[0]) for r in rows}


def summary(conn: Any, since: datetime, now: datetime, overdue_s: float) -> dict[str, Any]:
    """留言办理 for the digest: new and answered since a time, overdue by department (oldest first)."""
    stamp = to_iso(since)
    new = conn.execute(f"SELECT count(*) FROM posts WHERE {_field(conn, 'tid')} IS NOT NULL AND fetched_at >= ?",
                       (stamp,)).fetchone()[0]
    answered = conn.execute(
        f"SELECT count(*) FROM posts WHERE {_field(conn, 'tid')} IS NOT NULL AND {_answered(conn)}"
        f" AND coalesce({_field(conn, 'reply_at')}, '') >= ?", (stamp,)).fetchone()[0]
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for row in overdue(conn, now, overdue_s):
        by_dept.setdefault(row["department"], []).append(row)
    return {"new": int(new), "answered": int(answered), "overdue": by_dept}


def period(conn: Any, sources: list[str], start: datetime, end: datetime, cutoff: datetime,
           overdue_s: float) -> dict[str, Any]:
    """留言办理 of a period for these (liuyan) sources: new (posted in it) and answered (replied in it)
    per department, and the messages still unanswered at `cutoff` that waited longer than the
    deadline, oldest first.

    A reply dated after `cutoff` did not exist yet then: a digest rebuilt later says what it said.
    Read through posts(source, ts): a day of 50,000 posts from elsewhere is never parsed as JSON.
    """
    if not sources:
        return {"new": {}, "answered": {}, "overdue": []}
    s, e, c = to_iso(start), to_iso(end), to_iso(cutoff)
    dept, done, reply_at = _dept(conn), _answered(conn), f"coalesce({_field(conn, 'reply_at')}, '')"
    mine = f"source IN ({', '.join('?' * len(sources))}) AND {_field(conn, 'tid')} IS NOT NULL"
    new = conn.execute(f"SELECT {dept} AS dept, count(*) FROM posts WHERE {mine} AND ts >= ? AND ts < ?"
                       " GROUP BY dept", (*sources, s, e)).fetchall()
    answered = conn.execute(
        f"SELECT {dept} AS dept, count(*) FROM posts WHERE {mine} AND {done}"
        f" AND {reply_at} >= ? AND {reply_at} < ? GROUP BY dept", (*sources, s, e)).fetchall()
    late = conn.execute(
        f"SELECT id, source, title, url, ts, {dept} FROM posts WHERE {mine} AND ts < ?"
        f" AND (NOT {done} OR {reply_at} > ?) ORDER BY ts, id",
        (*sources, to_iso(cutoff - timedelta(seconds=overdue_s)), c)).fetchall()
    return {"new": {str(r[0]): int(r[1]) for r in new}, "answered": {str(r[0]): int(r[1]) for r in answered},
            "overdue": [{"id": r[0], "source": r[1], "title": r[2], "url": r[3], "ts": r[4], "department": r[5]}
                        for r in late]}
