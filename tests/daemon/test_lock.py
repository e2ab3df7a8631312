"""The daemon lock: one daemon per store, a refusal naming the holder, nothing stale after a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yuqing.errors import StoreError
from yuqing.lock import DaemonLock, lock_path

HOLDER = """
import sys, time
from yuqing.lock import DaemonLock
lock = DaemonLock(sys.argv[1]); lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _holder(db: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_holder_is_refused_with_the_pid_of_the_first(tmp_path: Path) -> None:
    db = tmp_path / "yuqing.db"
    proc = _holder(db)
    try:
        with pytest.raises(StoreError) as info:
            DaemonLock(db).acquire()
        message = str(info.value)
        assert f"process {proc.pid}" in message
        assert "already running" in message and str(db) in message
        assert DaemonLock(db).holder() == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_a_killed_daemon_is_free_again(tmp_path: Path) -> None:
    db = tmp_path / "yuqing.db"
    proc = _holder(db)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lock = DaemonLock(db)
    lock.acquire()  # the kernel dropped the dead process's lock; its pid in the file is replaced
    try:
        import os

        assert lock.holder() == os.getpid()
        assert lock_path(db).read_text().strip() == str(os.getpid())
    finally:
        lock.release()


def test_release_lets_the_next_one_in_and_clears_the_pid(tmp_path: Path) -> None:
    db = tmp_path / "yuqing.db"
    with DaemonLock(db) as first:
        assert first.held
    assert lock_path(db).read_text() == ""
    second = DaemonLock(db)
    second.acquire()
    assert second.held
    second.release()
    second.release()  # twice is harmless
    assert not second.held


def test_lock_is_not_inherited_by_child_processes(tmp_path: Path) -> None:
    db = tmp_path / "yuqing.db"
    with DaemonLock(db):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)
        other = DaemonLock(db)
        other.acquire()  # a crawl child outliving its daemon must not keep the store locked
        other.release()
    finally:
        child.kill()
        child.wait()
