"""A PostgreSQL connection that answers like the sqlite3 one the stages already use.

`execute`/`executemany` take SQLite-dialect SQL with `?` (or `:name`) parameters and return a cursor
with `fetchone`, `fetchall`, iteration, `rowcount` and `lastrowid`; `dialect.translate` does the
rewriting. Parameters are bound client-side (psycopg's ClientCursor) so a literal's type is inferred
from where it is used, as SQLite does, instead of failing on "could not determine data type".
Booleans are stored as 0/1 and numeric results come back as int or float, as SQLite gives them.

Errors come out in words: PostgreSQL refusing a statement the SQLite store runs is a StoreError
saying it is not supported on PostgreSQL yet (and which statement); a unique violation is also a
sqlite3.IntegrityError so code that catches that goes on working.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.rows import dict_row
from psycopg.types.numeric import Int8Dumper

from yuqing.errors import StoreError
from yuqing.store.dialect import NotPorted, translate
from yuqing.store.url import StoreURL

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10


class PgIntegrityError(StoreError, sqlite3.IntegrityError):
    """A constraint refused a row on PostgreSQL (caught like SQLite's IntegrityError)."""


class _BoolAsInt(Int8Dumper):
    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    """numeric (sum(), avg() of integers) -> int when whole, else float: what SQLite returns."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode("ascii"))
        if not value.is_finite():
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)


class PgCursor:
    """The parts of sqlite3.Cursor the store and the stages use."""

    def __init__(self, cur: psycopg.Cursor[Any], lastrowid: int | None) -> None:
        self._cur = cur
        self.lastrowid = lastrowid
        self.rowcount = cur.rowcount

    @property
    def description(self) -> Any:
        return self._cur.description

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall()) if self._cur.description else []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return list(self._cur.fetchmany(size)) if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def _words(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class PgConnection:
    """sqlite3.Connection's shape over psycopg, translating SQLite SQL on the way."""

    backend = "postgresql"  # store modules with SQL of their own for PostgreSQL read it

    def __init__(self, target: StoreURL, *, readonly: bool = False, application: str = "yuqing") -> None:
        self.target = target
        try:
            self.raw = psycopg.connect(target.url, autocommit=True, cursor_factory=psycopg.ClientCursor,
                                       connect_timeout=CONNECT_TIMEOUT_S, application_name=application)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {target}: {_words(exc)}") from None
        self.raw.adapters.register_dumper(bool, _BoolAsInt)
        self.raw.adapters.register_loader("numeric", _NumericLoader)
        if readonly:
            self.raw.execute("SET default_transaction_read_only = on")
        self._lock = threading.RLock()
        self._id_tables: frozenset[str] | None = None
        self._keys: dict[str, list[str]] = {}
        self.in_transaction = False

    # -- schema facts the translation needs ----------------------------------------------------
    def refresh_schema(self) -> None:
        self._id_tables = None
        self._keys.clear()

    @property
    def id_tables(self) -> frozenset[str]:
        if self._id_tables is None:
            rows = self.raw.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'id'").fetchall()
            self._id_tables = frozenset(r[0] for r in rows)
        return self._id_tables

    def primary_keys(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self.raw.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)", (table,)).fetchall()
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]

    # -- statements ----------------------------------------------------------------------------
    def _translate(self, sql: str) -> tuple[str, bool]:
        return _cached_translate(sql, self.id_tables, self)

    @staticmethod
    def _params(params: Any) -> Any:
        if params is None:
            return ()
        if isinstance(params, dict):
            return params
        return tuple(params)

    def execute(self, sql: str, params: Iterable[Any] | dict[str, Any] | None = ()) -> PgCursor:
        pg_sql, returns_id = self._translate(sql)
        with self._lock:
            cur = self.raw.cursor()
            self._run(cur.execute, pg_sql, self._params(params), sql)
            lastrowid = None
            if returns_id and cur.description:
                row = cur.fetchone()
                lastrowid = int(row[0]) if row else None
            return PgCursor(cur, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any] | dict[str, Any]]) -> PgCursor:
        pg_sql, returns_id = self._translate(sql)
        if returns_id:
            pg_sql = pg_sql[: -len(" RETURNING id")]
        rows = [self._params(p) for p in seq]
        with self._lock:
            cur = self.raw.cursor()
            if rows:
                self._run(cur.executemany, pg_sql, rows, sql)
            return PgCursor(cur, None)

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] | None = ()) -> list[dict[str, Any]]:
        """Rows as dicts (what sqlite-utils' db.query gives)."""
        pg_sql, _ = self._translate(sql)
        with self._lock:
            cur = self.raw.cursor(row_factory=dict_row)
            self._run(cur.execute, pg_sql, self._params(params), sql)
            return list(cur.fetchall()) if cur.description else []

    def native(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> PgCursor:
        """PostgreSQL SQL as written (%s parameters), for the backend's own statements."""
        with self._lock:
            cur = self.raw.cursor()
            self._run(cur.execute, sql, params, sql)
            return PgCursor(cur, None)

    def native_query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.raw.cursor(row_factory=dict_row)
            self._run(cur.execute, sql, params, sql)
            return list(cur.fetchall()) if cur.description else []

    def _run(self, method: Any, pg_sql: str, params: Any, original: str) -> None:
        try:
            method(pg_sql, params)
        except psycopg.errors.IntegrityError as exc:
            raise PgIntegrityError(f"the store refused a row: {_words(exc)}") from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreError(f"lost the PostgreSQL store {self.target}: {_words(exc)}") from None
        except psycopg.errors.ReadOnlySqlTransaction:
            raise StoreError("the store was opened read-only") from None
        except psycopg.Error as exc:
            diag = _words(exc).split(" LINE ")[0]
            raise NotPorted(f"{' '.join(original.split())[:160]!r} ({diag})") from None

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One transaction; nested calls join the outer one (as the SQLite store's callers expect)."""
        with self._lock:
            if self.in_transaction:
                yield self
                return
            try:
                with self.raw.transaction():
                    self.in_transaction = True
                    try:
                        yield self
                    finally:
                        self.in_transaction = False
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                raise StoreError(f"lost the PostgreSQL store {self.target}: {_words(exc)}") from None

    def commit(self) -> None:
        """sqlite3 API compatibility: statements outside a transaction commit on their own."""

    def close(self) -> None:
        self.raw.close()


@lru_cache(maxsize=2048)
def _translate_for(sql: str, id_tables: frozenset[str], keys: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str, bool]:
    table_keys = {t: list(k) for t, k in keys}
    return translate(sql, id_tables=id_tables, primary_keys=lambda t: table_keys.get(t, []))


def _cached_translate(sql: str, id_tables: frozenset[str], conn: PgConnection) -> tuple[str, bool]:
    keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if "REPLACE" in sql.upper():
        import re

        m = re.match(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)", sql, re.I)
        if m:
            keys = ((m.group(1), tuple(conn.primary_keys(m.group(1)))),)
    return _translate_for(sql, id_tables, keys)


__all__ = ["NotPorted", "PgConnection", "PgCursor", "PgIntegrityError"]
