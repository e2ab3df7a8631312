"""The store's schema as versioned migrations: `MIGRATIONS[i]` takes a store from version i to i+1.

Each runs inside one transaction (Store.migrate), so a store is never left half-migrated; the
PostgreSQL store runs the same functions through its dialect translation (yuqing/store/pg.py).
`yuqing.store` re-exports MIGRATIONS, SCHEMA_VERSION and run_script.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Execute statements one by one: executescript() would COMMIT the migration's transaction."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.conn.execute(pending)
            pending = ""
    if pending.strip():
        db.conn.execute(pending)


def _v1(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY, type TEXT, url TEXT,
            last_run_at TEXT, last_ok_at TEXT, last_new_at TEXT, last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,      -- consecutive failed runs
            runs INTEGER NOT NULL DEFAULT 0, posts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY, source TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
            fetched INTEGER DEFAULT 0, matched INTEGER DEFAULT 0, new INTEGER DEFAULT 0,
            duplicates INTEGER DEFAULT 0, errors INTEGER DEFAULT 0, error TEXT
        );
        CREATE INDEX crawl_runs_source ON crawl_runs(source, started_at);
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL, canonical_url TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '',
            published_at TEXT, fetched_at TEXT NOT NULL,
            ts TEXT NOT NULL,                          -- published_at, else fetched_at: when it counts
            reposts INTEGER, comments INTEGER, likes INTEGER,
            extra TEXT NOT NULL DEFAULT '{}', content_hash TEXT NOT NULL,
            -- filled by the analysis stage
            analyzed_at TEXT, label TEXT, negative_prob REAL,
            topics TEXT, topic_terms TEXT, keywords TEXT, simhash INTEGER, event_id INTEGER
        );
        CREATE INDEX posts_hash ON posts(content_hash);
        CREATE INDEX posts_ts ON posts(ts);
        CREATE INDEX posts_source_ts ON posts(source, ts);
        CREATE INDEX posts_unanalyzed ON posts(id) WHERE analyzed_at IS NULL;
        CREATE INDEX posts_event ON posts(event_id);
        CREATE VIRTUAL TABLE posts_fts USING fts5(words, chars, tokenize = 'unicode61');
        CREATE TABLE events (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0,
            negative INTEGER NOT NULL DEFAULT 0, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            sources TEXT NOT NULL DEFAULT '[]', keywords TEXT NOT NULL DEFAULT '[]',
            simhash INTEGER NOT NULL DEFAULT 0, updated_at TEXT
        );
        CREATE INDEX events_last_seen ON events(last_seen);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id),
            label TEXT, topics TEXT, who TEXT NOT NULL, at TEXT NOT NULL, note TEXT
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, level TEXT NOT NULL,
            state TEXT NOT NULL, opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, resolved_at TEXT,
            title TEXT NOT NULL DEFAULT '', explanation TEXT NOT NULL DEFAULT '{}',
            acknowledged_by TEXT, acknowledged_at TEXT, ack_note TEXT
        );
        CREATE INDEX alerts_scope ON alerts(kind, key, state);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL, channel TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, last_error TEXT,
            created_at TEXT NOT NULL, sent_at TEXT,
            UNIQUE(kind, ref, channel)
        );
        CREATE INDEX deliveries_pending ON deliveries(state, next_attempt_at);
        CREATE TABLE digests (
            date TEXT PRIMARY KEY, built_at TEXT NOT NULL, data TEXT NOT NULL, html TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        """,
    )


def _v2_delivery_bodies(db: sqlite_utils.Database) -> None:
    """Deliveries keep their message (so a restart can send it) and who is sending it (the claim)."""
    run_script(
        db,
        """
        ALTER TABLE deliveries ADD COLUMN html TEXT NOT NULL DEFAULT '';
        ALTER TABLE deliveries ADD COLUMN text TEXT NOT NULL DEFAULT '';
        ALTER TABLE deliveries ADD COLUMN recipients TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
        """,
    )


def _v3_cases(db: sqlite_utils.Database) -> None:
    from yuqing.store.cases import migrate_v3  # the cases' own module (imports this one)

    migrate_v3(db)


def _v4_reports(db: sqlite_utils.Database) -> None:
    """Built reports (周报, 月报, 专报) by (kind, ref), and files attached to a delivery (paths, JSON)."""
    run_script(
        db,
        """
        CREATE TABLE reports (
            kind TEXT NOT NULL, ref TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', built_at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}', files TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (kind, ref)
        );
        ALTER TABLE deliveries ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
        """,
    )


def _v5_hotlist(db: sqlite_utils.Database) -> None:
    from yuqing.store.hotlist import migrate_v3  # hot-list snapshots and engagement observations

    migrate_v3(db)


def _v6_i10_channels(db: sqlite_utils.Database) -> None:
    from yuqing.store.deliveries import migrate_v6  # channel health, each row's last attempt

    migrate_v6(db)


def _v7_i11_run_pages(db: sqlite_utils.Database) -> None:
    """crawl_runs.pages: pages a run fetched and read, so that a source whose pages still come but
    yield no post (its layout changed) is told apart from one with nothing new."""
    run_script(db, "ALTER TABLE crawl_runs ADD COLUMN pages INTEGER NOT NULL DEFAULT 0;")


def _v8_i14_report_index(db: sqlite_utils.Database) -> None:
    from yuqing.store.reports import migrate_report_index  # the report aggregates' covering index

    migrate_report_index(db)


# MIGRATIONS[i] takes a store at version i to version i+1, inside one transaction: use run_script()
# or db.conn.execute(), never executescript(). Append, never edit a released one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1, _v2_delivery_bodies, _v3_cases, _v4_reports, _v5_hotlist, _v6_i10_channels,
    _v7_i11_run_pages, _v8_i14_report_index,
]
SCHEMA_VERSION = len(MIGRATIONS)
