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
        return "coalesce((extra::jsonb ->> 'answered') IN ('true', '1'), false)"
    return "coalesce(json_extract(extra, '$.answered'), 0) != 0"


def _dept(conn: Any) -> str:
    return f"coalesce(nullif({_field(conn, 'reply_by')}, ''), nullif({_field(conn, 'forum')}, ''), '未注明')"


def overdue(conn: Any, now: datetime, overdue_s: float) -> list[dict[str, Any]]:
    """Unanswered 留言 older than the deadline, oldest first."""
    cutoff = to_iso(now - timedelta(seconds=overdue_s))
    rows = conn.execute(
        f"SELECT id, source, title, url, ts, {_dept(conn)} FROM posts WHERE {_field(conn, 'tid')} IS NOT NULL"
        f" AND NOT {_answered(conn)} AND ts < ? ORDER BY ts, id", (cutoff,)).fetchall()
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
