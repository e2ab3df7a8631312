"""Is the store file sound? Checks before opening (a folder, an empty file) and PRAGMA quick_check.

A damaged store is reported in words and never written to again (StoreDamaged): the daemon stops
writing and raises a health alert (yuqing.daemon.integrity), `status` exits 1.
`yuqing.store` re-exports StoreDamaged; Store.check_integrity and Store.verify use these functions.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from yuqing.errors import StoreError


class StoreDamaged(StoreError):
    """PRAGMA quick_check found the database damaged: nothing more should be written to it."""


def check_file(path: Path) -> None:
    """An empty file or a folder is an error in words, never a new store.

    Only stat() here, never open(): closing any descriptor of the database file drops every POSIX
    lock this process holds on it (SQLite's own connections included), which lets another writer
    corrupt the file. SQLite checks the header itself on the first read ("file is not a database").
    """
    if path.is_dir():
        raise StoreError(f"store path {path} is a folder, not a file: check [store] path")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror or exc}") from None
    if size == 0:
        # SQLite would quietly treat an empty file as a new store: a truncated copy would then
        # look like a fresh install and lose every post without a word
        raise StoreError(f"store {path} is an empty (zero-byte) file, not a yuqing store: "
                         "restore it from a backup, or remove it and run `yuqing init`")


def quick_check(conn: sqlite3.Connection, limit: int = 10) -> list[str]:
    """PRAGMA quick_check: [] when the store is sound, else SQLite's findings in words."""
    try:
        rows = conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [str(r[0]) for r in rows if str(r[0]).lower() != "ok"]


def damaged(path: object, problems: list[str]) -> StoreDamaged:
    """The error for a store whose quick_check found `problems`, with what to do about it."""
    return StoreDamaged(
        f"store {path} is damaged (PRAGMA quick_check: {'; '.join(problems[:3])}"
        f"{'; ...' if len(problems) > 3 else ''}): nothing more is written to it; restore it from a "
        f"backup, or try `sqlite3 {path} .recover` into a new file")
