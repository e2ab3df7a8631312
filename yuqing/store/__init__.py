"""The SQLite store (sqlite-utils): opening, migrating, and the queries every stage needs.

One file, WAL mode and a busy timeout so crawl children, the daemon and the web app can share it.
The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` (yuqing/store/migrations.py)
upgrades from version i to i+1 and runs in one transaction, so a store is never left half-migrated.
The file checks and PRAGMA quick_check are in yuqing/store/integrity.py.

Full-text search: SQLite's unicode61 tokenizer does not split Chinese, so `posts_fts` (rowid =
posts.id) stores title+text twice: `words`, the jieba search-mode segmentation, and `chars`, one token
per Chinese character so that a phrase query is an exact substring match. A query part hits when
its jieba words all occur or its characters occur verbatim (see segment.fts_query): 停水 hits
小区停水三天, and a place name jieba does not know still hits.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from yuqing.errors import StoreError
from yuqing.models import CrawlStats, Post, from_iso, to_iso, utcnow
from yuqing.store.integrity import StoreDamaged, check_file, damaged, quick_check
from yuqing.store.migrations import MIGRATIONS, SCHEMA_VERSION, run_script

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SearchHit", "Store", "StoreDamaged", "StoreError", "inserted_id", "run_script",
           "when"]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False, isolation_level=None)
    else:
        # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE), never implicitly
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                               isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The id an INSERT just gave its row (sqlite3 types lastrowid as optional: it is set after one)."""
    if cur.lastrowid is None:
        raise StoreError("the store did not return the new row's id")
    return cur.lastrowid


@dataclass
class SearchHit:
    post: Post
    label: str | None
    negative_prob: float | None
    topics: list[str]
    event_id: int | None


def post_filters(mark: str, topic_clause: str, *, since: datetime | None, until: datetime | None,
                 source: str | None, topic: str | None, label: str | None) -> tuple[list[str], list[Any]]:
    """The search's filters as WHERE clauses and their values; `mark` is the backend's placeholder and
    `topic_clause` its test of membership in the topics JSON array (one placeholder)."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in ((f"p.ts >= {mark}", to_iso(since) if since else None),
                          (f"p.ts < {mark}", to_iso(until) if until else None),
                          (f"p.source = {mark}", source), (topic_clause, topic), (f"p.label = {mark}", label)):
        if value:
            where.append(clause)
            params.append(value)
    return where, params


def search_hit(row: dict[str, Any]) -> SearchHit:
    return SearchHit(post=Post.from_row(row), label=row.get("label"), negative_prob=row.get("negative_prob"),
                     topics=json.loads(row.get("topics") or "[]"), event_id=row.get("event_id"))


class Store:
    """A yuqing database. `Store(path)` opens (and migrates) it; `readonly=True` for browsing.

    `create=False` refuses a missing file (every command but init, run and crawl: a mistyped path
    must not quietly become a new, empty store).

    `Store("postgresql://...")` (or a StoreURL from `[store] url`) gives the PostgreSQL backend, a
    subclass with the same methods (yuqing/store/pg.py).
    """

    backend = "sqlite"

    def __new__(cls, path: Any = None, *args: Any, **kwargs: Any) -> Store:
        from yuqing.store.url import is_postgres

        if cls is Store and is_postgres(path):
            from yuqing.store.pg import PgStore

            return super().__new__(PgStore)
        return super().__new__(cls)

    def outbox_claim_clause(self) -> str:
        """Appended to the outbox's claiming SELECT (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
        return ""

    def __init__(self, path: str | Path, readonly: bool = False, migrate: bool = True, create: bool = True) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if not self.path.exists():
            if readonly or not create:
                raise StoreError(f"no store at {self.path}: check [store] path in the config, "
                                 "or run `yuqing init` to create it")
        else:
            check_file(self.path)
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise StoreError(f"cannot create the folder of store {self.path}: {exc.filename or self.path.parent} "
                                 "is a file, not a folder (check [store] path)") from None
            except OSError as exc:
                raise StoreError(f"cannot create the folder of store {self.path}: {exc.strerror or exc} "
                                 f"({exc.filename or self.path.parent})") from None
        try:
            self.conn = _connect(self.path, readonly)
            self.db = sqlite_utils.Database(self.conn)
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            hint = " (is its folder writable by this user?)" if "unable to open" in str(exc) else ""
            if "not a database" in str(exc):
                hint = (": it is not a yuqing store (its header is damaged or it is another kind of file); "
                        "restore it from a backup, or move it away and run `yuqing init`")
            raise StoreError(f"cannot open store {self.path}: {exc}{hint}") from None
        try:
            if migrate and not readonly:
                self.migrate()
            elif self.version > SCHEMA_VERSION:
                raise StoreError(f"store {self.path} has schema {self.version}, newer than this yuqing ({SCHEMA_VERSION})")
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"cannot open store {self.path}: {exc}; `yuqing status` checks it") from None

    # -- schema ---------------------------------------------------------------------------------
    def check_integrity(self, limit: int = 10) -> list[str]:
        """PRAGMA quick_check: [] when the store is sound, else SQLite's findings in words."""
        return quick_check(self.conn, limit)

    def verify(self) -> None:
        """Raise StoreDamaged, in words, when quick_check finds the store damaged."""
        problems = self.check_integrity()
        if problems:
            raise damaged(self.path, problems)

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Bring the schema up to date; returns the number of migrations applied."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(f"store {self.path} has schema {current}, newer than this yuqing ({SCHEMA_VERSION})")
        for version in range(current, SCHEMA_VERSION):
            with self.transaction():
                if self.version > version:  # another process (a crawl child) migrated meanwhile
                    continue
                MIGRATIONS[version](self.db)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")
            logger.info("store %s migrated to schema %d", self.path, version + 1)
        return SCHEMA_VERSION - current

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def scalar(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params if isinstance(params, dict) else tuple(params)).fetchone()
        return row[0] if row else None

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- posts ----------------------------------------------------------------------------------
    def add_posts(self, posts: Iterable[Post], refresh_since: datetime | None = None) -> tuple[int, int]:
        """Insert posts not seen before (by canonical URL, then by identical content).

        Returns (new, duplicates). Sets `post.id` on the new ones. They become searchable once the
        analysis stage has indexed them (index_rows). With `refresh_since` (a source's `refresh`),
        a post stored under the same URL and first seen since then is a re-visit: its counts and
        extra are recorded as an engagement observation at the post's fetched_at (still counted a
        duplicate), and a new post's own counts are its first observation.
        """
        from yuqing.store import engagement

        new = dup = 0
        since = to_iso(refresh_since) if refresh_since is not None else None
        with self.transaction():
            for post in posts:
                canonical = post.canonical_url or post.url
                digest = post.ensure_hash()
                if since is not None:
                    row = self.conn.execute("SELECT fetched_at FROM posts WHERE canonical_url = ?",
                                            (canonical,)).fetchone()
                    if row is not None:
                        if row[0] >= since:
                            engagement.observe(self.conn, canonical, post.fetched_at, engagement.counts_of(post),
                                               post.extra)
                        dup += 1
                        continue
                seen = self.conn.execute(
                    "SELECT 1 FROM posts WHERE canonical_url = ? OR content_hash = ? LIMIT 1",
                    (canonical, digest),
                ).fetchone()
                if seen:
                    dup += 1
                    continue
                data = post.to_dict()
                data.pop("id")
                data["canonical_url"] = canonical
                data["ts"] = to_iso(post.when)
                data["extra"] = json.dumps(post.extra, ensure_ascii=False)
                cur = self.conn.execute(
                    f"INSERT INTO posts ({', '.join(data)}) VALUES ({', '.join('?' * len(data))})",
                    list(data.values()),
                )
                post.id = inserted_id(cur)
                if since is not None:
                    engagement.record(self.conn, post.id, post.fetched_at, engagement.counts_of(post))
                new += 1
        return new, dup

    def index_rows(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Put (post id, title, text) into the full-text index, replacing what was there.

        The analysis stage calls this inside its batch transaction: segmentation is analysis work
        and keeps the crawl children light; a post becomes searchable when it is analysed.
        """
        from yuqing.analysis.segment import chars_for_index, cut_for_index

        data = []
        for post_id, title, text in rows:
            body = f"{title or ''}\n{text or ''}"
            data.append((post_id, cut_for_index(body), chars_for_index(body)))
        self.conn.executemany("INSERT OR REPLACE INTO posts_fts(rowid, words, chars) VALUES (?, ?, ?)", data)

    def seen_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are stored already (spiders skip their detail pages)."""
        urls = list(urls)
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = urls[i : i + 500]
            rows = self.conn.execute(
                f"SELECT canonical_url FROM posts WHERE canonical_url IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    def post(self, post_id: int) -> Post | None:
        row = self.get_post_row(post_id)  # None when there is none (sqlite-utils' Table.get would raise)
        return Post.from_row(row) if row else None

    def get_post_row(self, post_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM posts WHERE id = ?", [post_id])
        return rows[0] if rows else None

    def count_posts(self) -> int:
        return int(self.scalar("SELECT count(*) FROM posts"))

    def delete_posts_before(self, before: datetime) -> int:
        """Retention: drop posts (and their index rows) counted before `before`."""
        with self.transaction():
            ids = [r[0] for r in self.conn.execute("SELECT id FROM posts WHERE ts < ?", (to_iso(before),))]
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM posts_fts WHERE rowid IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM corrections WHERE post_id IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM posts WHERE id IN ({marks})", chunk)
        return len(ids)

    def search(
        self,
        query: str = "",
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        topic: str | None = None,
        label: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Posts matching a Chinese full-text query and filters, newest first."""
        from yuqing.analysis.segment import fts_query

        where: list[str] = []
        params: list[Any] = []
        if query.strip():
            expr = fts_query(query)
            if not expr:
                return []
            where.append("p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
            params.append(expr)
        more, values = post_filters("?", "EXISTS (SELECT 1 FROM json_each(p.topics) WHERE value = ?)",
                                    since=since, until=until, source=source, topic=topic, label=label)
        where += more
        params += values
        sql = "SELECT p.* FROM posts p"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY p.ts DESC, p.id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [search_hit(row) for row in self.query(sql, params)]

    # -- sources and runs -----------------------------------------------------------------------
    def sync_sources(self, sources: Iterable[Any]) -> None:
        """Make sure every configured source has a row (its health survives restarts)."""
        with self.transaction():
            for src in sources:
                self.conn.execute(
                    "INSERT INTO sources(name, type, url) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET type = excluded.type, url = excluded.url",
                    (src.name, src.type, src.url),
                )

    def start_run(self, source: str, started_at: datetime | None = None) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO crawl_runs(source, started_at) VALUES (?, ?)", (source, to_iso(started_at or utcnow()))
            )
            return inserted_id(cur)

    def finish_run(self, run_id: int | None, stats: CrawlStats) -> None:
        """Record a finished run and update the source's health in one transaction."""
        finished = stats.finished_at or utcnow()
        with self.transaction():
            if run_id is None:
                run_id = self.conn.execute(
                    "INSERT INTO crawl_runs(source, started_at) VALUES (?, ?)", (stats.source, to_iso(stats.started_at))
                ).lastrowid
            self.conn.execute(
                "UPDATE crawl_runs SET finished_at=?, fetched=?, matched=?, new=?, duplicates=?, errors=?, error=?, "
                "pages=? WHERE id=?",
                (to_iso(finished), stats.fetched, stats.matched, stats.new, stats.duplicates, stats.errors,
                 stats.error, stats.pages, run_id),
            )
            self.conn.execute("INSERT OR IGNORE INTO sources(name) VALUES (?)", (stats.source,))
            if stats.stopped:
                # a shutdown is not the source's fault: failures, last_error and last_ok_at stay as
                # they were; last_run_at too, so a restarted daemon runs the source again soon
                self.conn.execute(
                    "UPDATE sources SET runs=runs+1, posts=posts+?, "
                    "last_new_at=CASE WHEN ? > 0 THEN ? ELSE last_new_at END WHERE name=?",
                    (stats.new, stats.new, to_iso(finished), stats.source),
                )
            elif stats.ok:
                self.conn.execute(
                    "UPDATE sources SET last_run_at=?, last_ok_at=?, last_error=NULL, failures=0, runs=runs+1, "
                    "posts=posts+?, last_new_at=CASE WHEN ? > 0 THEN ? ELSE last_new_at END WHERE name=?",
                    (to_iso(finished), to_iso(finished), stats.new, stats.new, to_iso(finished), stats.source),
                )
            else:
                self.conn.execute(
                    "UPDATE sources SET last_run_at=?, last_error=?, failures=failures+1, runs=runs+1, "
                    "posts=posts+?, last_new_at=CASE WHEN ? > 0 THEN ? ELSE last_new_at END WHERE name=?",
                    (to_iso(finished), stats.error, stats.new, stats.new, to_iso(finished), stats.source),
                )

    def recent_runs(self, source: str, limit: int) -> list[dict[str, Any]]:
        """The source's last `limit` finished runs, newest first."""
        return self.query("SELECT * FROM crawl_runs WHERE source = ? AND finished_at IS NOT NULL "
                          "ORDER BY id DESC LIMIT ?", [source, limit])

    def parsed_posts_before(self, source: str, run_id: int) -> bool:
        """Whether any run of the source before `run_id` read posts."""
        return bool(self.query("SELECT 1 FROM crawl_runs WHERE source = ? AND id < ? AND fetched > 0 LIMIT 1",
                               [source, run_id]))

    def sources_health(self) -> list[dict[str, Any]]:
        """Each source's row plus its last run's counts."""
        rows = self.query(
            """
            SELECT s.*, r.fetched AS last_fetched, r.matched AS last_matched, r.new AS last_new,
                   r.duplicates AS last_duplicates, r.errors AS last_errors
            FROM sources s
            LEFT JOIN crawl_runs r ON r.id = (SELECT max(id) FROM crawl_runs WHERE source = s.name)
            ORDER BY s.name
            """
        )
        return rows

    def runs(self, source: str, limit: int = 20) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM crawl_runs WHERE source = ? ORDER BY id DESC LIMIT ?", [source, limit])

    # -- backlog --------------------------------------------------------------------------------
    def backlog(self) -> dict[str, int]:
        return {
            "unanalysed_posts": int(self.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL")),
            "undelivered": int(self.scalar("SELECT count(*) FROM deliveries WHERE state IN ('pending', 'sending')")),
            "open_alerts": int(self.scalar("SELECT count(*) FROM alerts WHERE state != 'resolved'")),
        }


def when(value: str | None) -> datetime | None:
    """Store string -> datetime (re-exported for stages that read rows directly)."""
    return from_iso(value)
