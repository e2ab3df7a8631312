"""The PostgreSQL store: the same tables and the same answers as the SQLite one, on a server.

`Store("postgresql://...")` (or a settings `[store] url`) returns a `PgStore`. The schema comes from
the same migrations as SQLite's, run through the dialect translation, with the version kept in its
own table (`yuqing_schema`), one migration per transaction under an advisory lock so two processes
starting together do not both migrate.

Full-text search keeps SQLite's design without any C extension: `posts_fts(rowid, words, chars)`
holds two `tsvector`s with GIN indexes, built here from the same tokens the FTS5 index stores (jieba
search-mode words, one token per Chinese character), tokenised the way FTS5's unicode61 does (lower
case, diacritics dropped, split on anything not a letter or digit). The lexemes are written as a
tsvector literal with positions, not parsed by to_tsvector, so no text-search configuration or locale
changes what is indexed; a query's characters match as a phrase (`<->`), i.e. verbatim.

The delivery outbox is claimed with FOR UPDATE SKIP LOCKED (outbox_claim), so two senders never take
one row; the daemon lock is a session advisory lock (pglock.py).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

from yuqing.errors import StoreError
from yuqing.models import Post, to_iso
from yuqing.store import MIGRATIONS, SCHEMA_VERSION, SearchHit, Store, post_filters, search_hit
from yuqing.store.dialect import NotPorted
from yuqing.store.pgconn import PgConnection
from yuqing.store.url import StoreURL

logger = logging.getLogger(__name__)

MIGRATE_LOCK = 0x79757169_6E670001  # "yuqing" + 1: the advisory lock migrations run under
INGEST_LOCK = 0x79757169_6E670002  # ... and the one ingest runs under
_TOKEN = re.compile(r"[^\W_]+")
MAX_POSITION = 16383  # PostgreSQL's largest tsvector position; later tokens share it


def fts_tokens(text: str) -> list[str]:
    """What FTS5's unicode61 tokenizer makes of `text`: lower case, no diacritics, letters/digits."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(folded)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(text: str) -> str:
    """A tsvector in its text form, each token with its positions (for phrase queries)."""
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(fts_tokens(text), start=1):
        positions.setdefault(token, []).append(min(i, MAX_POSITION))
    return " ".join(f"{_lexeme(t)}:{','.join(map(str, sorted(set(p))[:256]))}" for t, p in positions.items())


def _phrase(tokens: list[str]) -> str:
    return " <-> ".join(_lexeme(t) for t in tokens)


def tsquery_parts(query: str) -> list[tuple[str, str]]:
    """Each space-separated part of a search as (words tsquery, chars tsquery); see segment.fts_query."""
    from yuqing.analysis.segment import _WORD, chars_for_index, tokenizer

    parts = []
    for chunk in query.split():
        words = [w for w in tokenizer().lcut(chunk, HMM=False) if _WORD.search(w)]
        chars = fts_tokens(chars_for_index(chunk))
        word_phrases = [fts_tokens(w) for w in words]
        word_phrases = [p for p in word_phrases if p]
        if not word_phrases or not chars:
            continue
        by_words = " & ".join(f"({_phrase(p)})" for p in word_phrases)
        parts.append((by_words, _phrase(chars)))
    return parts


class _NoSqliteUtils:
    """Stands where the SQLite store has its sqlite-utils Database: any use says it is not ported."""

    def __init__(self, conn: PgConnection) -> None:
        self.conn = conn

    def __getattr__(self, name: str) -> Any:
        raise NotPorted(f"sqlite-utils' Database.{name} (use store.conn or a store function)")

    def __getitem__(self, name: str) -> Any:
        raise NotPorted(f"sqlite-utils' table access db[{name!r}]")


class PgStore(Store):
    """A yuqing store on PostgreSQL; the same methods as the SQLite Store."""

    backend = "postgresql"
    # The connection stands where the SQLite store has its sqlite3.Connection: it takes the same calls
    # (execute, executemany, the cursors' fetch methods) that Store's shared methods make, plus the
    # backend's own (native, raw); mypy cannot see that duck typing across the subclass.
    conn: PgConnection  # type: ignore[assignment]
    db: _NoSqliteUtils  # type: ignore[assignment]

    def __init__(self, path: Any, readonly: bool = False, migrate: bool = True, create: bool = True) -> None:
        self.target = path if isinstance(path, StoreURL) else StoreURL(str(path))
        self.path = self.target  # type: ignore[assignment]  # status and the lock read it
        self.readonly = readonly
        self.conn = PgConnection(self.target, readonly=readonly)
        self.db = _NoSqliteUtils(self.conn)
        try:
            self.conn.native("CREATE TABLE IF NOT EXISTS yuqing_schema (version INTEGER NOT NULL)") \
                if not readonly else None
            if migrate and not readonly:
                self.migrate()
                self.ensure_functions()
            elif self.version > SCHEMA_VERSION:
                raise StoreError(f"store {self.target} has schema {self.version}, newer than this yuqing "
                                 f"({SCHEMA_VERSION})")
            elif readonly and self.version == 0:
                raise StoreError(f"no store at {self.target}: run `yuqing init` first")
        except BaseException:
            self.conn.close()
            raise

    # -- schema ---------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        rows = self.conn.native(
            "SELECT CASE WHEN to_regclass('yuqing_schema') IS NULL THEN 0 "
            "ELSE (SELECT coalesce(max(version), 0) FROM yuqing_schema) END").fetchall()
        return int(rows[0][0]) if rows else 0

    def check_integrity(self, limit: int = 10) -> list[str]:
        """The server keeps its own pages sound (write-ahead log, crash recovery): there is no
        quick_check; a store that answers a read of its schema table is sound to this check."""
        try:
            self.conn.native("SELECT count(*) FROM yuqing_schema").fetchone()
        except StoreError as exc:
            return [str(exc)]
        return []

    def ensure_functions(self) -> None:
        """SQLite idioms the stages' SQL relies on, as PostgreSQL functions in the store's schema:
        sum() of a comparison (SQLite counts true as 1; PostgreSQL has no sum(boolean))."""
        if self.conn.native("SELECT to_regprocedure('yq_bool_add(bigint, boolean)')").fetchone()[0]:
            return
        with self.transaction():
            self.conn.native("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            if self.conn.native("SELECT to_regprocedure('yq_bool_add(bigint, boolean)')").fetchone()[0]:
                return
            self.conn.native("CREATE FUNCTION yq_bool_add(bigint, boolean) RETURNS bigint LANGUAGE sql IMMUTABLE "
                             "AS 'SELECT $1 + CASE WHEN $2 THEN 1 ELSE 0 END'")
            self.conn.native("CREATE AGGREGATE sum(boolean) (SFUNC = yq_bool_add, STYPE = bigint, INITCOND = '0')")

    def migrate(self) -> int:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(f"store {self.target} has schema {current}, newer than this yuqing ({SCHEMA_VERSION})")
        for version in range(current, SCHEMA_VERSION):
            with self.transaction():
                self.conn.native("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                if self.version > version:  # another process migrated meanwhile
                    continue
                self.conn.refresh_schema()
                # the migrations reach the connection only through db.conn (run_script): _NoSqliteUtils has it
                MIGRATIONS[version](self.db)  # type: ignore[arg-type]
                self.conn.native("DELETE FROM yuqing_schema")
                self.conn.native("INSERT INTO yuqing_schema(version) VALUES (%s)", (version + 1,))
            self.conn.refresh_schema()
            logger.info("store %s migrated to schema %d", self.target, version + 1)
        return SCHEMA_VERSION - current

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.conn.transaction():
            yield self.conn

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return self.conn.query(sql, params if isinstance(params, dict) else list(params))

    # -- meta -----------------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        self.conn.native("INSERT INTO meta(key, value) VALUES (%s, %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- posts ----------------------------------------------------------------------------------
    def post(self, post_id: int) -> Post | None:
        row = self.get_post_row(post_id)
        return Post.from_row(row) if row else None

    def add_posts(self, posts: Iterable[Post], refresh_since: datetime | None = None) -> tuple[int, int]:
        """As on SQLite (the same answers, re-visits included), in a few statements a batch.

        Ingest is serialised by an advisory lock, as BEGIN IMMEDIATE does there, so two crawlers
        storing the same post at once store it once. Which posts are known is asked once for the
        whole batch and the new rows go in as one pipelined executemany: a statement per post would
        make every post wait on a round trip to the server.
        """
        from yuqing.store import engagement

        batch = list(posts)
        if not batch:
            return 0, 0
        new = dup = 0
        since = to_iso(refresh_since) if refresh_since is not None else None
        keys = [(post.canonical_url or post.url, post.ensure_hash()) for post in batch]
        with self.transaction():
            self.conn.native("SELECT pg_advisory_xact_lock(%s)", (INGEST_LOCK,))
            urls = {u for u, _ in keys}
            hashes = {h for _, h in keys}
            first_seen: dict[str, str] = {}
            seen_hashes: set[str] = set()
            for url, digest, fetched in self.conn.native(
                    "SELECT canonical_url, content_hash, fetched_at FROM posts "
                    "WHERE canonical_url = ANY(%s) OR content_hash = ANY(%s)", (list(urls), list(hashes))).fetchall():
                if url in urls:
                    first_seen.setdefault(url, fetched)
                seen_hashes.add(digest)
            fresh: list[tuple[Post, str, dict[str, Any]]] = []
            for post, (canonical, digest) in zip(batch, keys, strict=True):
                if since is not None and canonical in first_seen:
                    if first_seen[canonical] >= since:
                        engagement.observe(self.conn, canonical, post.fetched_at, engagement.counts_of(post),
                                           post.extra)
                    dup += 1
                    continue
                if canonical in first_seen or digest in seen_hashes:
                    dup += 1
                    continue
                data = post.to_dict()
                data.pop("id")
                data["canonical_url"] = canonical
                data["ts"] = to_iso(post.when)
                data["extra"] = json.dumps(post.extra, ensure_ascii=False)
                first_seen[canonical] = data["fetched_at"]
                seen_hashes.add(digest)
                fresh.append((post, canonical, data))
            if fresh:
                columns = list(fresh[0][2])
                # a server-binding cursor: executemany pipelines its statements (a ClientCursor would not)
                cur = psycopg.Cursor(self.conn.raw)
                try:
                    cur.executemany(f"INSERT INTO posts ({', '.join(columns)}) VALUES "
                                    f"({', '.join(['%s'] * len(columns))}) "
                                    "ON CONFLICT (canonical_url) DO NOTHING RETURNING id",
                                    [[d[c] for c in columns] for _, _, d in fresh], returning=True)
                    ids = []
                    while True:
                        row = cur.fetchone()
                        ids.append(int(row[0]) if row else None)
                        if not cur.nextset():
                            break
                except Exception as exc:
                    raise StoreError(f"cannot store posts: {' '.join(str(exc).split())}") from None
                for (post, _, _), post_id in zip(fresh, ids, strict=True):
                    if post_id is None:  # stored meanwhile by a writer that does not take the lock
                        dup += 1
                        continue
                    post.id = post_id
                    new += 1
                    if since is not None:
                        engagement.record(self.conn, post_id, post.fetched_at, engagement.counts_of(post))
        return new, dup

    def index_rows(self, rows: Iterable[tuple[int, str, str]]) -> None:
        from yuqing.analysis.segment import chars_for_index, cut_for_index

        data = []
        for post_id, title, text in rows:
            body = f"{title or ''}\n{text or ''}"
            data.append((post_id, tsvector_literal(cut_for_index(body)), tsvector_literal(chars_for_index(body))))
        if not data:
            return
        with self.transaction():
            cur = psycopg.Cursor(self.conn.raw)  # server binding: executemany pipelines the rows
            try:
                cur.executemany(
                    "INSERT INTO posts_fts(rowid, words, chars) VALUES (%s, %s::tsvector, %s::tsvector) "
                    "ON CONFLICT (rowid) DO UPDATE SET words = excluded.words, chars = excluded.chars", data)
            except Exception as exc:
                raise StoreError(f"cannot index posts for search: {' '.join(str(exc).split())}") from None

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
        where: list[str] = []
        params: list[Any] = []
        if query.strip():
            parts = tsquery_parts(query)
            if not parts:
                return []
            match = " AND ".join("(f.words @@ %s::tsquery OR f.chars @@ %s::tsquery)" for _ in parts)
            for words, chars in parts:
                params += [words, chars]
            where.append(f"p.id IN (SELECT f.rowid FROM posts_fts f WHERE {match})")
        # topics is a JSON array in a TEXT column, as on SQLite; a malformed one matches nothing
        more, values = post_filters("%s", "p.topics LIKE '[%%' AND (p.topics::jsonb) ? %s",
                                    since=since, until=until, source=source, topic=topic, label=label)
        where += more
        params += values
        sql = "SELECT p.* FROM posts p"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY p.ts DESC, p.id DESC LIMIT %s OFFSET %s"
        params += [limit, offset]
        return [search_hit(row) for row in self.conn.native_query(sql, params)]

    # -- queues ---------------------------------------------------------------------------------
    def outbox_claim_clause(self) -> str:
        """What the outbox's claim appends to its SELECT: two senders never take one row."""
        return " FOR UPDATE SKIP LOCKED"


def table_counts(store: Store, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table (for `store migrate`'s check)."""
    return {t: int(store.scalar(f"SELECT count(*) FROM {t}")) for t in tables}
