"""Queries of the reports (周报, 月报, 专报) and of the post export: aggregates in SQL, posts streamed.

A month of a busy county is 1.5 million posts, so nothing here returns a period's posts as a list:
figures are GROUP BY queries, and the export and the xlsx post sheet iterate a cursor. The queries
of one event name its index (INDEXED BY posts_event): left to itself, SQLite may walk a month of
one source's posts through posts_source_ts to find an event's few thousand.
Local days are grouped with the timezone's UTC offset at the period's end (`offset` like
"+480 minutes"); for a zone with daylight saving the hour of a change lands on the neighbour day.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from yuqing.models import to_iso

if TYPE_CHECKING:
    from yuqing.store import Store

EXPORT_COLUMNS = ("id", "ts", "source", "title", "text", "url", "author", "label", "negative_prob", "topics",
                  "keywords", "event_id", "reposts", "comments", "likes")

_ENGAGEMENT = "(coalesce(reposts, 0) + coalesce(comments, 0) + coalesce(likes, 0))"


def _weight_sql(weights: dict[str, float]) -> tuple[str, list[Any]]:
    if not weights:
        return "1.0", []
    sql = "CASE source " + " ".join("WHEN ? THEN ?" for _ in weights) + " ELSE 1.0 END"
    params: list[Any] = []
    for name, w in weights.items():
        params += [name, float(w)]
    return sql, params


def migrate_report_index(db: Any) -> None:
    """A covering index of the report aggregates: a month's GROUP BY reads it, not the posts' text."""
    from yuqing.store import run_script

    run_script(db, "CREATE INDEX IF NOT EXISTS posts_report ON posts(ts, label, source, event_id, negative_prob, "
                   "reposts, comments, likes, topics);")


def rollup(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Posts per UTC hour ('YYYY-MM-DDTHH'), source and label: one pass over the period, from the
    covering index; local days and hours, sources and totals are summed from it in Python."""
    return store.query(
        "SELECT substr(ts, 1, 13) AS hour, source, label, count(*) AS posts FROM posts "
        "WHERE ts >= ? AND ts < ? GROUP BY hour, source, label",
        [to_iso(start), to_iso(end)],
    )


def topic_rollup(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Posts per UTC hour, topics (the JSON list as stored) and label, for topic figures per day."""
    return store.query(
        "SELECT substr(ts, 1, 13) AS hour, topics, label, count(*) AS posts FROM posts "
        "WHERE ts >= ? AND ts < ? GROUP BY hour, topics, label",
        [to_iso(start), to_iso(end)],
    )


def event_count(store: Store, start: datetime, end: datetime) -> int:
    return int(store.scalar("SELECT count(DISTINCT event_id) FROM posts WHERE ts >= ? AND ts < ?",
                            [to_iso(start), to_iso(end)]) or 0)


def counts(store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    row = store.query(
        "SELECT count(*) AS posts, coalesce(sum(label = 'negative'), 0) AS negative, "
        "coalesce(sum(label IS NOT NULL), 0) AS analysed, count(DISTINCT source) AS sources, "
        "count(DISTINCT event_id) AS events FROM posts WHERE ts >= ? AND ts < ?",
        [to_iso(start), to_iso(end)],
    )[0]
    return row


def per_bucket(store: Store, start: datetime, end: datetime, offset: str, hourly: bool,
               event_id: int | None = None) -> list[dict[str, Any]]:
    """Posts and negatives per local day ('YYYY-MM-DD') or hour ('YYYY-MM-DD HH')."""
    fmt = "%Y-%m-%d %H" if hourly else "%Y-%m-%d"
    where, table = "ts >= ? AND ts < ?", "posts"
    params: list[Any] = [to_iso(start), to_iso(end)]
    if event_id is not None:
        where += " AND event_id = ?"
        params.append(event_id)
        table = "posts INDEXED BY posts_event"
    return store.query(
        f"SELECT strftime('{fmt}', ts, ?) AS bucket, count(*) AS posts, "
        f"coalesce(sum(label = 'negative'), 0) AS negative FROM {table} WHERE {where} GROUP BY bucket ORDER BY bucket",
        [offset, *params],
    )


def per_source(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return store.query(
        "SELECT source AS name, count(*) AS posts, coalesce(sum(label = 'negative'), 0) AS negative "
        "FROM posts WHERE ts >= ? AND ts < ? GROUP BY source ORDER BY posts DESC",
        [to_iso(start), to_iso(end)],
    )


def posts_per_source(store: Store, start: datetime, end: datetime) -> dict[str, int]:
    """Posts per source in [start, end) (coverage: against the source's usual)."""
    return {r["name"]: int(r["posts"]) for r in store.query(
        "SELECT source AS name, count(*) AS posts FROM posts WHERE ts >= ? AND ts < ? GROUP BY source",
        [to_iso(start), to_iso(end)])}


def per_topic(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Posts per topic; an analysed post with no topic counts as 未归类 (as in the daily digest)."""
    rows = store.query(
        "SELECT j.value AS name, count(*) AS posts, coalesce(sum(p.label = 'negative'), 0) AS negative "
        "FROM posts p, json_each(CASE WHEN p.topics IS NULL OR p.topics = '' OR p.topics = '[]' "
        "THEN (CASE WHEN p.label IS NULL THEN '[]' ELSE '[\"未归类\"]' END) ELSE p.topics END) j "
        "WHERE p.ts >= ? AND p.ts < ? GROUP BY j.value ORDER BY posts DESC",
        [to_iso(start), to_iso(end)],
    )
    return rows


def per_day_split(store: Store, start: datetime, end: datetime, offset: str, by: str) -> list[dict[str, Any]]:
    """(day, name, posts, negative) per local day and topic or source, for the trend page."""
    if by == "source":
        return store.query(
            "SELECT strftime('%Y-%m-%d', ts, ?) AS day, source AS name, count(*) AS posts, "
            "coalesce(sum(label = 'negative'), 0) AS negative FROM posts WHERE ts >= ? AND ts < ? "
            "GROUP BY day, name ORDER BY day",
            [offset, to_iso(start), to_iso(end)],
        )
    return store.query(
        "SELECT strftime('%Y-%m-%d', p.ts, ?) AS day, j.value AS name, count(*) AS posts, "
        "coalesce(sum(p.label = 'negative'), 0) AS negative FROM posts p, json_each(coalesce(p.topics, '[]')) j "
        "WHERE p.ts >= ? AND p.ts < ? GROUP BY day, name ORDER BY day",
        [offset, to_iso(start), to_iso(end)],
    )


def event_heat(store: Store, start: datetime, end: datetime, weights: dict[str, float],
               limit: int) -> list[dict[str, Any]]:
    """Events of the period by heat (the digest's formula, summed over the period's posts)."""
    wsql, wparams = _weight_sql(weights)
    return store.query(
        f"SELECT event_id AS id, count(*) AS posts, coalesce(sum(label = 'negative'), 0) AS negative, "
        f"sum({_ENGAGEMENT}) AS engagement, "
        f"sum(({wsql}) * (1 + (label = 'negative')) * (1 + log10(1 + {_ENGAGEMENT}))) AS heat, "
        f"count(DISTINCT source) AS sources "
        f"FROM posts WHERE ts >= ? AND ts < ? AND event_id IS NOT NULL GROUP BY event_id "
        f"ORDER BY heat DESC LIMIT ?",
        [*wparams, to_iso(start), to_iso(end), limit],
    )


def event_row(store: Store, event_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM events WHERE id = ?", [event_id])
    return rows[0] if rows else None


def event_sources(store: Store, event_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return store.query(
        "SELECT source AS name, count(*) AS posts, min(ts) AS first FROM posts INDEXED BY posts_event "
        "WHERE event_id = ? AND ts >= ? AND ts < ? GROUP BY source ORDER BY first",
        [event_id, to_iso(start), to_iso(end)],
    )


def event_posts(store: Store, event_id: int, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """The event's most seen posts (by interactions, negative first on a tie)."""
    return store.query(
        f"SELECT * FROM posts INDEXED BY posts_event WHERE event_id = ? AND ts >= ? AND ts < ? "
        f"ORDER BY {_ENGAGEMENT} DESC, label = 'negative' DESC, ts LIMIT ?",
        [event_id, to_iso(start), to_iso(end), limit],
    )


def event_span(store: Store, event_id: int) -> dict[str, Any]:
    return store.query(
        "SELECT min(ts) AS first, max(ts) AS last, count(*) AS posts, coalesce(sum(label = 'negative'), 0) AS negative "
        "FROM posts INDEXED BY posts_event WHERE event_id = ?",
        [event_id],
    )[0]


def first_post(store: Store, event_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM posts INDEXED BY posts_event WHERE event_id = ? ORDER BY ts, id LIMIT 1",
                       [event_id])
    return rows[0] if rows else None


def event_pickup(store: Store, event_id: int) -> list[dict[str, Any]]:
    """The first post of each source on an event, in the order the sources picked it up (溯源)."""
    return store.query(
        f"SELECT id, source, title, url, ts, text, {_ENGAGEMENT} AS reach FROM ("
        "SELECT id, source, title, url, ts, text, reposts, comments, likes, "
        "row_number() OVER (PARTITION BY source ORDER BY ts, id) AS n FROM posts WHERE event_id = ?"
        ") AS firsts WHERE n = 1 ORDER BY ts, id",
        [event_id],
    )


def event_keywords(store: Store, event_id: int, limit: int = 5000) -> Iterator[str]:
    """The keyword lists of an event's posts (JSON), newest first, at most `limit`."""
    for (value,) in store.conn.execute(
        "SELECT keywords FROM posts INDEXED BY posts_event WHERE event_id = ? AND keywords IS NOT NULL "
        "ORDER BY ts DESC LIMIT ?",
        (event_id, limit),
    ):
        yield value


def top_negatives(store: Store, start: datetime, end: datetime, weights: dict[str, float],
                  limit: int) -> list[dict[str, Any]]:
    """Negative posts by probability × source weight × reach (the digest's score).

    Ranked on the covering index first, then only the winners' rows are read whole.
    """
    wsql, wparams = _weight_sql(weights)
    top = store.query(
        f"SELECT id, coalesce(negative_prob, 0.5) * ({wsql}) * (1 + log10(1 + {_ENGAGEMENT})) AS score "
        f"FROM posts WHERE ts >= ? AND ts < ? AND label = 'negative' ORDER BY score DESC LIMIT ?",
        [*wparams, to_iso(start), to_iso(end), limit],
    )
    if not top:
        return []
    rows = {r["id"]: r for r in store.query(
        f"SELECT * FROM posts WHERE id IN ({', '.join('?' * len(top))})", [t["id"] for t in top])}
    return [{**rows[t["id"]], "score": t["score"]} for t in top if t["id"] in rows]


def alerts_in(store: Store, start: datetime, end: datetime, kind: str | None = None,
              key: str | None = None) -> list[dict[str, Any]]:
    """Alerts open at any moment of [start, end), optionally of one scope."""
    sql = "SELECT * FROM alerts WHERE opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)"
    params: list[Any] = [to_iso(end), to_iso(start)]
    if kind:
        sql += " AND kind = ? AND key = ?"
        params += [kind, key]
    return store.query(sql + " ORDER BY opened_at", params)


def cases_in(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Cases open at any moment of [start, end): opened before its end, not finished before its start."""
    return store.query(
        "SELECT id, state, level, title, origin, opened_at, verdict, unit, assigned_at, respond_due, close_due, "
        "respond_overdue_at, close_overdue_at, response_url, responded_at, closed_at, events FROM cases "
        "WHERE opened_at < ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY opened_at, id",
        [to_iso(end), to_iso(start)],
    )


def cases_of_event(store: Store, event_id: int) -> list[dict[str, Any]]:
    """Cases whose events include `event_id`, oldest first."""
    return store.query(
        "SELECT * FROM cases WHERE EXISTS (SELECT 1 FROM json_each(cases.events) WHERE value = ?) ORDER BY id",
        [event_id],
    )


def case_row(store: Store, case_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM cases WHERE id = ?", [case_id])
    return rows[0] if rows else None


def case_steps(store: Store, case_ids: list[int]) -> list[dict[str, Any]]:
    """The timeline rows of these cases, in order."""
    if not case_ids:
        return []
    return store.query(
        f"SELECT case_id, at, who, action, state, note, detail FROM case_steps "
        f"WHERE case_id IN ({', '.join('?' * len(case_ids))}) ORDER BY at, id",
        list(case_ids),
    )


def iter_posts(store: Store, *, since: datetime | None = None, until: datetime | None = None,
               topic: str | None = None, label: str | None = None, source: str | None = None,
               event_id: int | None = None, limit: int | None = None, fts: str | None = None,
               newest_first: bool = False) -> Iterator[tuple[Any, ...]]:
    """Posts matching the filters, oldest first, as tuples of EXPORT_COLUMNS, from an open cursor.

    `fts` is a full-text MATCH expression (yuqing.analysis.segment.fts_query), as the search page uses.
    """
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("ts >= ?")
        params.append(to_iso(since))
    if until is not None:
        where.append("ts < ?")
        params.append(to_iso(until))
    if label:
        where.append("label = ?")
        params.append(label)
    if source:
        where.append("source = ?")
        params.append(source)
    if topic:
        where.append("EXISTS (SELECT 1 FROM json_each(coalesce(posts.topics, '[]')) WHERE value = ?)")
        params.append(topic)
    if event_id is not None:
        where.append("event_id = ?")
        params.append(event_id)
    if fts:
        where.append("id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(fts)
    sql = f"SELECT {', '.join(EXPORT_COLUMNS)} FROM posts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY ts DESC, id DESC" if newest_first else " ORDER BY ts, id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    if store.backend != "sqlite":  # PostgreSQL (#12): readers never block writers there
        yield from store.conn.execute(sql, params).fetchall()
        return
    # a connection of its own: the caller may write (or stream to a slow client) meanwhile
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, timeout=30)
    try:
        cur = conn.execute(sql, params)
        while batch := cur.fetchmany(1000):
            yield from batch
    finally:
        conn.close()


# -- stored reports -------------------------------------------------------------------------------
def save_report(store: Store, kind: str, ref: str, title: str, data: dict[str, Any], files: list[str],
                built_at: datetime) -> None:
    with store.transaction():
        store.conn.execute(
            "INSERT OR REPLACE INTO reports(kind, ref, title, built_at, data, files) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, ref, title, to_iso(built_at), json.dumps(data, ensure_ascii=False), json.dumps(files)),
        )


def report_exists(store: Store, kind: str, ref: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM reports WHERE kind = ? AND ref = ?", [kind, ref]))


def report_queued(store: Store, kind: str, ref: str) -> bool:
    """Whether a report's mail was queued (on any channel): the daemon's mark of a report done."""
    return bool(store.scalar("SELECT 1 FROM deliveries WHERE kind = ? AND ref = ? LIMIT 1", [kind, ref]))


def fetched_before(store: Store, at: datetime) -> bool:
    """Whether any post was collected before `at`; the oldest rows come first, so this stops early."""
    return bool(store.scalar("SELECT 1 FROM posts WHERE fetched_at < ? LIMIT 1", [to_iso(at)]))


def list_reports(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT kind, ref, title, built_at, files FROM reports ORDER BY kind, ref DESC")


def get_report(store: Store, kind: str, ref: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM reports WHERE kind = ? AND ref = ?", [kind, ref])
    return rows[0] if rows else None


def report_index(store: Store) -> list[dict[str, Any]]:
    """Every stored report with its headline figures, newest first within a kind."""
    return store.query(
        "SELECT kind, ref, title, built_at, files, json_extract(data, '$.overview.posts') AS posts, "
        "json_extract(data, '$.overview.negative_share') AS share, json_extract(data, '$.posts') AS event_posts "
        "FROM reports ORDER BY kind, ref DESC"
    )


def digest_index(store: Store, limit: int = 400) -> list[dict[str, Any]]:
    """The daily digests (日报), newest first, with their headline figures."""
    return store.query(
        "SELECT date, built_at, json_extract(data, '$.overview.posts') AS posts, "
        "json_extract(data, '$.overview.negative_share') AS share FROM digests ORDER BY date DESC LIMIT ?",
        [limit],
    )


def event_choices(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest events, for the 专报 list: id, title, size, negative, first and last seen."""
    return store.query(
        "SELECT id, title, size, negative, first_seen, last_seen FROM events ORDER BY last_seen DESC, id DESC LIMIT ?",
        [limit],
    )


def source_names(store: Store) -> list[str]:
    return [r["name"] for r in store.query("SELECT name FROM sources ORDER BY name")]


def last_post_ts(store: Store) -> str | None:
    value = store.scalar("SELECT max(ts) FROM posts")
    return str(value) if value else None
