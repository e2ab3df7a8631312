"""`yuqing store migrate --to postgresql://...`: copy a SQLite store into PostgreSQL, resumably.

Every table the PostgreSQL schema has is copied in rowid order, a chunk per transaction; the
chunk's rows and the copy's progress (`yuqing_copy`: table, last rowid) commit together, so an
interrupted copy (Ctrl-C, kill -9, a dropped connection) starts again after the last chunk that
committed, never copying a row twice or missing one. The full-text index is copied as SQLite holds
it (the same jieba and character tokens, as tsvectors), not segmented again. Identity sequences are
moved past the copied ids, and at the end each table's row count must agree on both sides.

The source must be quiet: a daemon running on it is refused (stop it first). Tables that only the
SQLite backend has (created outside the migrations) are listed as not copied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from yuqing.errors import StoreError
from yuqing.store import Store
from yuqing.store.pg import PgStore, tsvector_literal

logger = logging.getLogger(__name__)

CHUNK = 2000
FTS_TABLE = "posts_fts"
Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in the table)


@dataclass
class CopyReport:
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows, equal on both sides
    copied: dict[str, int] = field(default_factory=dict)  # table -> rows copied by this run
    skipped: list[str] = field(default_factory=list)  # tables the PostgreSQL schema has not got
    resumed: bool = False


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(src: Store) -> list[str]:
    rows = src.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    names = [r[0] for r in rows]
    # FTS5 keeps its data in shadow tables posts_fts_data, _idx, _content, _docsize, _config
    return [n for n in names if not n.startswith(FTS_TABLE + "_")]


def _sqlite_columns(src: Store, table: str) -> list[str]:
    return [r[1] for r in src.conn.execute(f"PRAGMA table_info({_q(table)})").fetchall()]


def _pg_columns(dst: PgStore) -> dict[str, list[str]]:
    rows = dst.conn.native(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "ORDER BY table_name, ordinal_position").fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _progress_table(dst: PgStore) -> dict[str, int]:
    dst.conn.native("CREATE TABLE IF NOT EXISTS yuqing_copy (tab TEXT PRIMARY KEY, last_rowid BIGINT NOT NULL)")
    return {r[0]: int(r[1]) for r in dst.conn.native("SELECT tab, last_rowid FROM yuqing_copy").fetchall()}


def _check_quiet(src: Store) -> None:
    from yuqing.lock import running_daemon

    pid = running_daemon(src.path)
    if pid is not None:
        raise StoreError(f"a yuqing daemon (pid {pid}) is running on {src.path}: stop it before copying the store")


def _check_empty(dst: PgStore, tables: list[str]) -> None:
    busy = [t for t in tables if dst.conn.native(f"SELECT EXISTS (SELECT 1 FROM {_q(t)})").fetchone()[0]]
    if busy:
        raise StoreError(f"{dst.target} already holds data ({', '.join(busy[:5])}): store migrate copies into an "
                         f"empty PostgreSQL store (or resumes its own unfinished copy)")


def copy_store(src: Store, dst: PgStore, *, chunk: int = CHUNK, progress: Progress | None = None) -> CopyReport:
    """Copy every table of `src` (SQLite) that `dst` (PostgreSQL) has; returns the checked counts."""
    if src.backend != "sqlite" or dst.backend != "postgresql":
        raise StoreError("store migrate copies a SQLite store into a PostgreSQL one")
    if src.version != dst.version:
        raise StoreError(f"schemas differ: {src.path} is at {src.version}, {dst.target} at {dst.version}")
    _check_quiet(src)
    pg_cols = _pg_columns(dst)
    tables = _sqlite_tables(src)
    report = CopyReport()
    report.skipped = [t for t in tables if t not in pg_cols]
    plain = [t for t in tables if t in pg_cols and t != FTS_TABLE]
    done = _progress_table(dst)
    report.resumed = bool(done)
    if not done:
        _check_empty(dst, plain + ([FTS_TABLE] if FTS_TABLE in pg_cols else []))
    for table in plain:
        cols = [c for c in _sqlite_columns(src, table) if c in pg_cols[table]]
        report.copied[table] = _copy_table(src, dst, table, cols, done.get(table, 0), chunk, progress)
    if FTS_TABLE in tables and FTS_TABLE in pg_cols:
        report.copied[FTS_TABLE] = _copy_fts(src, dst, done.get(FTS_TABLE, 0), chunk, progress)
    _advance_identities(dst, plain, pg_cols)
    report.counts = _check_counts(src, dst, plain + ([FTS_TABLE] if FTS_TABLE in tables and FTS_TABLE in pg_cols else []))
    dst.conn.native("DROP TABLE yuqing_copy")
    return report


def _total(src: Store, table: str) -> int:
    return int(src.conn.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])


def _copy_table(src: Store, dst: PgStore, table: str, cols: list[str], after: int, chunk: int,
                progress: Progress | None) -> int:
    total = _total(src, table)
    select = f"SELECT rowid, {', '.join(_q(c) for c in cols)} FROM {_q(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    insert = (f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in cols)}) "
              f"VALUES ({', '.join(['%s'] * len(cols))})")
    copied = 0
    before = int(src.conn.execute(f"SELECT count(*) FROM {_q(table)} WHERE rowid <= ?", (after,)).fetchone()[0])
    while True:
        rows = src.conn.execute(select, (after, chunk)).fetchall()
        if not rows:
            break
        last = int(rows[-1][0])
        with dst.transaction():
            cur = dst.conn.raw.cursor()
            try:
                cur.executemany(insert, [tuple(r[1:]) for r in rows])
            except Exception as exc:
                raise StoreError(f"cannot copy {table} rows after rowid {after} into PostgreSQL: "
                                 f"{' '.join(str(exc).split())}") from None
            _save_progress(dst, table, last)
        after = last
        copied += len(rows)
        if progress:
            progress(table, before + copied, total)
    if copied == 0 and progress:
        progress(table, before, total)
    return copied


def _copy_fts(src: Store, dst: PgStore, after: int, chunk: int, progress: Progress | None) -> int:
    total = _total(src, FTS_TABLE)
    copied = 0
    before = int(src.conn.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE rowid <= ?", (after,)).fetchone()[0])
    while True:
        rows = src.conn.execute(f"SELECT rowid, words, chars FROM {FTS_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                (after, chunk)).fetchall()
        if not rows:
            break
        last = int(rows[-1][0])
        data = [(int(r[0]), tsvector_literal(r[1] or ""), tsvector_literal(r[2] or "")) for r in rows]
        with dst.transaction():
            dst.conn.raw.cursor().executemany(
                f"INSERT INTO {FTS_TABLE}(rowid, words, chars) VALUES (%s, %s::tsvector, %s::tsvector) "
                "ON CONFLICT (rowid) DO UPDATE SET words = excluded.words, chars = excluded.chars", data)
            _save_progress(dst, FTS_TABLE, last)
        after = last
        copied += len(rows)
        if progress:
            progress(FTS_TABLE, before + copied, total)
    return copied


def _save_progress(dst: PgStore, table: str, last: int) -> None:
    dst.conn.native("INSERT INTO yuqing_copy(tab, last_rowid) VALUES (%s, %s) "
                    "ON CONFLICT (tab) DO UPDATE SET last_rowid = excluded.last_rowid", (table, last))


def _advance_identities(dst: PgStore, tables: list[str], pg_cols: dict[str, list[str]]) -> None:
    for table in tables:
        if "id" not in pg_cols.get(table, []):
            continue
        seq = dst.conn.native("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
        if seq:
            dst.conn.native(f"SELECT setval(%s, GREATEST((SELECT max(id) FROM {_q(table)}), 1), "
                            f"(SELECT max(id) FROM {_q(table)}) IS NOT NULL)", (seq,))


def _check_counts(src: Store, dst: PgStore, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    wrong: list[str] = []
    for table in tables:
        here = _total(src, table)
        there = int(dst.conn.native(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])
        counts[table] = there
        if here != there:
            wrong.append(f"{table}: {here} in SQLite, {there} in PostgreSQL")
    if wrong:
        raise StoreError("the copy does not match: " + "; ".join(wrong))
    return counts


def describe(report: CopyReport) -> list[str]:
    """The report in lines for the command line."""
    lines = [f"{t}: {n} rows" + (f" ({report.copied[t]} copied now)" if report.resumed else "")
             for t, n in report.counts.items()]
    if report.skipped:
        lines.append("not copied (not supported on PostgreSQL yet): " + ", ".join(report.skipped))
    return lines


def open_pair(source: Any, target: Any) -> tuple[Store, PgStore]:
    src = Store(source)
    try:
        dst = Store(target)
    except BaseException:
        src.close()
        raise
    if not isinstance(dst, PgStore):
        src.close()
        dst.close()
        raise StoreError(f"--to must be a postgresql:// url, got {target}")
    return src, dst
