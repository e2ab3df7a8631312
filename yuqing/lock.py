"""The daemon lock: one `yuqing run` per store, and the refusal says which process holds it.

An advisory `flock` on a file next to the database (`<db>.daemon.lock`), which holds the owner's pid.
The kernel drops the lock when its process dies, even by SIGKILL, so a crash never leaves a stale
lock behind; the pid in the file is only there to tell the user who is running. The descriptor is
close-on-exec, so crawl children never inherit (and never keep) the lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any

from yuqing.errors import StoreError

logger = logging.getLogger(__name__)


def lock_path(db_path: Path) -> Path:
    """Where the daemon lock of a store lives."""
    return db_path.with_name(db_path.name + ".daemon.lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_daemon(db_path: Any) -> int | None:
    """The pid of the daemon running on this store now, or None (a shared probe: never blocks one)."""
    from yuqing.store.url import StoreURL

    if isinstance(db_path, StoreURL):  # PostgreSQL: the server's advisory lock, not a file
        from yuqing.store.pglock import running_daemon as running_on_server

        return running_on_server(db_path)
    path = lock_path(Path(db_path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else -1
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class DaemonLock:
    """`with DaemonLock(db_path):` or acquire()/release(); raises StoreError when already held.

    For a PostgreSQL store (a StoreURL) it is the server's advisory lock instead (store/pglock.py).
    """

    def __new__(cls, db_path: Any) -> Any:
        from yuqing.store.url import StoreURL

        if isinstance(db_path, StoreURL):
            from yuqing.store.pglock import AdvisoryLock

            return AdvisoryLock(db_path)
        return super().__new__(cls)

    def __init__(self, db_path: Any) -> None:
        self.db_path = Path(db_path)
        self.path = lock_path(self.db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> int | None:
        """The pid written by the process holding the lock (None if unreadable)."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            # a read-only folder, a file where the folder should be, a full disk: say where and why
            raise StoreError(f"cannot take the daemon lock {self.path}: {exc.strerror or exc}; the daemon needs "
                             f"to write in {self.path.parent} (check [store] path and the folder's owner)") from None
        locked = False
        for _ in range(5):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except BlockingIOError:
                pid = self.holder()
                if pid is not None and _alive(pid):
                    break
                # no live pid written: a `status` probe holding it for an instant, or a daemon starting
                time.sleep(0.05)
        if not locked:
            os.close(fd)
            pid = self.holder()
            who = f"process {pid}" if pid else "another process"
            raise StoreError(
                f"another yuqing daemon is already running on {self.db_path} ({who} holds {self.path}); "
                f"stop it first (kill {pid})" if pid else
                f"another yuqing daemon is already running on {self.db_path} ({who} holds {self.path})"
            ) from None
        # we own it: replace whatever pid a dead predecessor left
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        os.fsync(fd)
        self._fd = fd
        logger.debug("daemon lock %s taken by pid %d", self.path, os.getpid())

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
        # the file is left in place: unlinking it would let two processes lock two different inodes

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
