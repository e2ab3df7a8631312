"""留言 tracking queries: reply state lives in posts.extra (answered, reply_at, reply_by, forum)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from yuqing.models import to_iso

_ANSWERED = "coalesce(json_extract(extra, '$.answered'), 0)"
_DEPT = "coalesce(nullif(json_extract(extra, '$.reply_by'), ''), nullif(json_extract(extra, '$.forum'), ''), '未注明')"
_TID = "json_extract(extra, '$.tid') IS NOT NULL"
_REPLY_AT = "coalesce(json_extract(extra, '$.reply_at'), '')"

# PostgreSQL has no json_extract: the same answers from jsonb. Only rows whose extra names a tid are
# parsed (json_extract gives 1/0 for true/false, a number as a number: `answered` follows that)
_PG = {
    _ANSWERED: ("(CASE jsonb_typeof(extra::jsonb -> 'answered') WHEN 'boolean' THEN "
                "(extra::jsonb ->> 'answered')::boolean::int WHEN 'number' THEN (extra::jsonb ->> 'answered')::numeric "
                "WHEN 'string' THEN 1 ELSE 0 END)"),
    _DEPT: ("coalesce(nullif(extra::jsonb ->> 'reply_by', ''), nullif(extra::jsonb ->> 'forum', ''), '未注明')"),
    _TID: "extra LIKE '%\"tid\"%' AND (extra::jsonb -> 'tid') IS NOT NULL AND jsonb_typeof(extra::jsonb -> 'tid') != 'null'",
    _REPLY_AT: "coalesce(extra::jsonb ->> 'reply_at', '')",
}


def _sql(conn: Any, sql: str) -> str:
    if getattr(conn, "backend", "sqlite") != "postgresql":
        return sql
    for sqlite_words, pg_words in _PG.items():
        sql = sql.replace(sqlite_words, pg_words)
    return sql


def overdue(conn: Any, now: datetime, overdue_s: float) -> list[dict[str, Any]]:
    """Unanswered 留言 older than the deadline, oldest first."""
    cutoff = to_iso(now - timedelta(seconds=overdue_s))
    rows = conn.execute(_sql(conn, f"SELECT id, source, title, url, ts, {_DEPT} FROM posts WHERE {_TID}"
                                   f" AND {_ANSWERED} = 0 AND ts < ? ORDER BY ts, id"), (cutoff,)).fetchall()
    return [{"id": r[0], "source": r[1], "title": r[2], "url": r[3], "ts": r[4], "department": r[5]} for r in rows]


def answered_ids(conn: Any, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = conn.execute(_sql(conn, f"SELECT id FROM posts WHERE id IN ({','.join('?' * len(ids))}) AND {_ANSWERED} != 0"),
                        ids)
    return {int(r[0]) for r in rows}


def summary(conn: Any, since: datetime, now: datetime, overdue_s: float) -> dict[str, Any]:
    """留言办理 for the digest: new and answered since a time, overdue by department (oldest first)."""
    stamp = to_iso(since)
    new = conn.execute(_sql(conn, f"SELECT count(*) FROM posts WHERE {_TID} AND fetched_at >= ?"),
                       (stamp,)).fetchone()[0]
    answered = conn.execute(
        _sql(conn, f"SELECT count(*) FROM posts WHERE {_TID} AND {_ANSWERED} != 0 AND {_REPLY_AT} >= ?"),
        (stamp,)).fetchone()[0]
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for row in overdue(conn, now, overdue_s):
        by_dept.setdefault(row["department"], []).append(row)
    return {"new": int(new), "answered": int(answered), "overdue": by_dept}
