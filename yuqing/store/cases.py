"""The SQL of cases (研判、处置): the tables, and every read and write the cases package needs.

A case is one incident: its alerts (`case_alerts`), its steps (`case_steps`, the timeline: who,
when, what, note) and its deadlines, kept as ISO times to the second. The writers here never open a
transaction of their own: the caller (yuqing.cases) holds one, so a step, its row changes and its
messages are committed together or not at all.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from yuqing.store import Store, run_script

FINAL_STATES = ("办结", "不予处置")


def migrate_v3(db: sqlite_utils.Database) -> None:
    """Cases, their alerts and their steps."""
    run_script(
        db,
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY, state TEXT NOT NULL, level TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT 'alert',           -- alert | manual | watch
            opened_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            verdict TEXT, unit TEXT, assigned_at TEXT, respond_due TEXT, close_due TEXT,
            respond_overdue_at TEXT, close_overdue_at TEXT,  -- when the overdue notice was queued
            response_url TEXT, responded_at TEXT, closed_at TEXT, summary TEXT, reason TEXT,
            posts TEXT NOT NULL DEFAULT '[]',                -- representative posts: [{id, title, url}]
            events TEXT NOT NULL DEFAULT '[]'                -- event ids
        );
        CREATE INDEX cases_state ON cases(state);
        CREATE TABLE case_alerts (
            alert_id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), joined_at TEXT NOT NULL
        );
        CREATE INDEX case_alerts_case ON case_alerts(case_id);
        CREATE TABLE case_steps (
            id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), at TEXT NOT NULL,
            who TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX case_steps_case ON case_steps(case_id, id);
        """,
    )


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["posts"] = json.loads(row.get("posts") or "[]")
    row["events"] = json.loads(row.get("events") or "[]")
    return row


# -- reads ----------------------------------------------------------------------------------------
def get(store: Store, case_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM cases WHERE id = ?", [case_id])
    return _decode(rows[0]) if rows else None


def listing(store: Store, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    if state:
        rows = store.query("SELECT * FROM cases WHERE state = ? ORDER BY id DESC LIMIT ?", [state, limit])
    else:
        rows = store.query("SELECT * FROM cases ORDER BY id DESC LIMIT ?", [limit])
    return [_decode(r) for r in rows]


def open_cases(store: Store) -> list[dict[str, Any]]:
    rows = store.query(f"SELECT * FROM cases WHERE state NOT IN ({','.join('?' * len(FINAL_STATES))}) ORDER BY id",
                       list(FINAL_STATES))
    return [_decode(r) for r in rows]


def alert_ids(store: Store, case_id: int) -> list[int]:
    return [int(r["alert_id"]) for r in store.query(
        "SELECT alert_id FROM case_alerts WHERE case_id = ? ORDER BY alert_id", [case_id])]


def alert_rows(store: Store, case_id: int) -> list[dict[str, Any]]:
    return store.query("SELECT a.* FROM alerts a JOIN case_alerts c ON c.alert_id = a.id WHERE c.case_id = ?"
                       " ORDER BY a.id", [case_id])


def case_of_alert(store: Store, alert_id: int) -> int | None:
    value = store.scalar("SELECT case_id FROM case_alerts WHERE alert_id = ?", [alert_id])
    return int(value) if value is not None else None


def steps(store: Store, case_id: int) -> list[dict[str, Any]]:
    rows = store.query("SELECT at, who, action, state, note, detail FROM case_steps WHERE case_id = ? ORDER BY id",
                       [case_id])
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


def due_deadlines(store: Store, now_iso: str) -> list[dict[str, Any]]:
    """Open cases whose respond or close deadline has passed and was not yet notified."""
    rows = store.query(
        "SELECT * FROM cases WHERE state NOT IN ('办结', '不予处置') AND ("
        " (respond_due IS NOT NULL AND respond_due <= ? AND respond_overdue_at IS NULL AND responded_at IS NULL)"
        " OR (close_due IS NOT NULL AND close_due <= ? AND close_overdue_at IS NULL)) ORDER BY id",
        [now_iso, now_iso])
    return [_decode(r) for r in rows]


def posts_by_id(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return store.query(f"SELECT id, title, text, url, source, ts, event_id, label, negative_prob FROM posts"
                       f" WHERE id IN ({','.join('?' * len(ids))})", ids)


def event_posts(store: Store, events: list[int], limit: int = 50) -> list[dict[str, Any]]:
    if not events:
        return []
    return store.query(f"SELECT id, title, text, url, source, ts, label, negative_prob FROM posts"
                       f" WHERE event_id IN ({','.join('?' * len(events))}) ORDER BY negative_prob DESC, ts DESC"
                       f" LIMIT ?", [*events, limit])


def negative_times(store: Store, events: list[int], post_ids: list[int], since: str, threshold: float) -> list[str]:
    """ts of the negative posts of the case's events (or of its own posts when it has no event)."""
    if events:
        where, params = f"event_id IN ({','.join('?' * len(events))})", list(events)
    elif post_ids:
        where, params = f"id IN ({','.join('?' * len(post_ids))})", list(post_ids)
    else:
        return []
    rows = store.query(f"SELECT ts FROM posts WHERE {where} AND ts >= ? AND negative_prob >= ? ORDER BY ts",
                       [*params, since, threshold])
    return [r["ts"] for r in rows]


def event_of_post(store: Store, post_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT id, title, url, event_id FROM posts WHERE id = ?", [post_id])
    return rows[0] if rows else None


def event_row(store: Store, event_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT id, title FROM events WHERE id = ?", [event_id])
    return rows[0] if rows else None


def top_post_of_event(store: Store, event_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT id, title, url FROM posts WHERE event_id = ? ORDER BY negative_prob DESC, ts LIMIT 1",
                       [event_id])
    return rows[0] if rows else None


def posts_after(store: Store, after_id: int, limit: int = 5000) -> list[dict[str, Any]]:
    return store.query("SELECT id, title, text, url, ts, event_id FROM posts WHERE id > ? AND analyzed_at IS NOT NULL"
                       " ORDER BY id LIMIT ?", [after_id, limit])


def counts_between(store: Store, start: str, end: str) -> dict[str, int]:
    """The digest's 处置情况: cases opened, responded, closed in [start, end), and overdue now."""
    def n(sql: str, params: list[Any]) -> int:
        return int(store.scalar(sql, params) or 0)

    return {
        "opened": n("SELECT count(*) FROM cases WHERE opened_at >= ? AND opened_at < ?", [start, end]),
        "responded": n("SELECT count(*) FROM cases WHERE responded_at >= ? AND responded_at < ?", [start, end]),
        "closed": n("SELECT count(*) FROM cases WHERE closed_at >= ? AND closed_at < ? AND state = '办结'", [start, end]),
        "overdue": n("SELECT count(*) FROM cases WHERE state NOT IN ('办结', '不予处置') AND"
                     " (respond_overdue_at IS NOT NULL OR close_overdue_at IS NOT NULL)", []),
    }


def feedback(store: Store) -> list[dict[str, Any]]:
    """Cases judged 不实 or 无关 with their alerts: what detection and the sentiment corrections learn from."""
    return store.query("SELECT c.id, c.verdict, c.events, c.posts, group_concat(ca.alert_id) AS alerts FROM cases c"
                       " LEFT JOIN case_alerts ca ON ca.case_id = c.id WHERE c.verdict IN ('不实', '无关')"
                       " GROUP BY c.id ORDER BY c.id")


# -- writes (inside the caller's transaction) ----------------------------------------------------
def insert(store: Store, *, state: str, level: str, title: str, origin: str, at: str,
           posts: list[dict[str, Any]], events: list[int]) -> int:
    cur = store.conn.execute(
        "INSERT INTO cases(state, level, title, origin, opened_at, updated_at, posts, events)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (state, level, title, origin, at, at, json.dumps(posts, ensure_ascii=False), json.dumps(events)))
    return int(cur.lastrowid)  # type: ignore[arg-type]


_COLUMNS = {"state", "level", "title", "verdict", "unit", "assigned_at", "respond_due", "close_due",
            "respond_overdue_at", "close_overdue_at", "response_url", "responded_at", "closed_at", "summary",
            "reason", "posts", "events", "updated_at"}


def update(store: Store, case_id: int, **values: Any) -> None:
    bad = set(values) - _COLUMNS
    if bad:
        raise ValueError(f"not a case column: {sorted(bad)}")
    for key in ("posts", "events"):
        if key in values:
            values[key] = json.dumps(values[key], ensure_ascii=False)
    sets = ", ".join(f"{k} = ?" for k in values)
    store.conn.execute(f"UPDATE cases SET {sets} WHERE id = ?", [*values.values(), case_id])


def link_alert(store: Store, case_id: int, alert_id: int, at: str) -> None:
    store.conn.execute("INSERT OR IGNORE INTO case_alerts(alert_id, case_id, joined_at) VALUES (?, ?, ?)",
                       (alert_id, case_id, at))


def add_step(store: Store, case_id: int, *, at: str, who: str, action: str, state: str, note: str = "",
             detail: dict[str, Any] | None = None) -> None:
    store.conn.execute("INSERT INTO case_steps(case_id, at, who, action, state, note, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (case_id, at, who, action, state, note, json.dumps(detail or {}, ensure_ascii=False)))


def audit(store: Store, at: str, who: str, action: str, detail: dict[str, Any]) -> None:
    store.conn.execute("INSERT INTO audit_log(at, user, action, detail) VALUES (?, ?, ?, ?)",
                       (at, who, action, json.dumps(detail, ensure_ascii=False)))


def set_meta_row(store: Store, key: str, value: str) -> None:
    store.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
