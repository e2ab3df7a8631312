"""The daemon lock on PostgreSQL: a session advisory lock, one `yuqing run` per store.

Daemons on several machines share one server, so a lock file cannot tell them apart; the server's
advisory lock can. It is held by a connection of its own, so the server drops it when that
connection ends, by a clean stop, a crash or kill -9 (the socket closes). The holder names itself in
`application_name` ("yuqing daemon pid@host"), which the refusal reads from pg_stat_activity.
The key is derived from the store's schema, so two stores in one database have two locks.
"""

from __future__ import annotations

import logging
import os
import socket

from yuqing.errors import StoreError
from yuqing.store.pgconn import PgConnection
from yuqing.store.url import StoreURL

logger = logging.getLogger(__name__)

_KEY_SQL = "SELECT ('x' || substr(md5('yuqing daemon ' || current_schema()), 1, 15))::bit(60)::bigint"
_HOLDER_SQL = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database()) AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = %s LIMIT 1"
)


def _me() -> str:
    return f"yuqing daemon {os.getpid()}@{socket.gethostname()}"


def _holder(conn: PgConnection, key: int) -> str | None:
    rows = conn.native(_HOLDER_SQL, (key,)).fetchall()
    return str(rows[0][0]) if rows else None


def _pid_of(holder: str | None) -> int | None:
    """The holder's pid if it runs on this machine (a pid on another host means nothing here)."""
    if not holder or not holder.startswith("yuqing daemon "):
        return None
    pid, _, host = holder[len("yuqing daemon "):].partition("@")
    return int(pid) if pid.isdigit() and host == socket.gethostname() else None


class AdvisoryLock:
    """`with AdvisoryLock(url):` like lock.DaemonLock; StoreError naming the holder when taken."""

    def __init__(self, target: StoreURL) -> None:
        self.db_path = target
        self.path = target
        self._conn: PgConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def holder(self) -> int | None:
        conn = PgConnection(self.db_path, application="yuqing probe")
        try:
            return _pid_of(_holder(conn, _key(conn)))
        finally:
            conn.close()

    def acquire(self) -> None:
        conn = PgConnection(self.db_path, application=_me())
        try:
            key = _key(conn)
            got = conn.native("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not (got and got[0]):
                who = _holder(conn, key) or "another process"
                raise StoreError(f"another yuqing daemon is already running on {self.db_path} ({who} holds its "
                                 f"advisory lock); stop it first")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        logger.debug("daemon advisory lock on %s taken by pid %d", self.db_path, os.getpid())

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.close()  # ending the session releases the lock
        finally:
            self._conn = None

    def __enter__(self) -> AdvisoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _key(conn: PgConnection) -> int:
    row = conn.native(_KEY_SQL).fetchone()
    return int(row[0])


def running_daemon(target: StoreURL) -> int | None:
    """The pid of the daemon holding this store's lock (-1 if it runs elsewhere), or None."""
    try:
        conn = PgConnection(target, application="yuqing probe")
    except StoreError:
        return None
    try:
        key = _key(conn)
        holder = _holder(conn, key)
        if holder is None:
            return None
        pid = _pid_of(holder)
        return pid if pid is not None else -1
    finally:
        conn.close()
