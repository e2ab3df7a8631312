"""The daemon lock on PostgreSQL is the server's advisory lock: one daemon per store, freed by kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from yuqing.errors import StoreError
from yuqing.lock import DaemonLock, running_daemon
from yuqing.store.pglock import AdvisoryLock
from yuqing.store.url import StoreURL

HOLD = """
import sys, time
from yuqing.lock import DaemonLock
from yuqing.store.url import StoreURL
lock = DaemonLock(StoreURL(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_second_lock_is_refused_naming_the_holder(pg_url):
    target = StoreURL(pg_url)
    first = DaemonLock(target)
    assert isinstance(first, AdvisoryLock)
    assert running_daemon(target) is None
    with first:
        assert first.held and running_daemon(target) == os.getpid()
        with pytest.raises(StoreError, match=rf"already running on .*yuqing daemon {os.getpid()}@"):
            DaemonLock(target).acquire()
    assert running_daemon(target) is None
    with DaemonLock(target) as again:  # released: free for the next daemon
        assert again.held


def test_two_stores_in_one_database_have_two_locks(pg_cluster):
    a, b = StoreURL(pg_cluster.schema_url()), StoreURL(pg_cluster.schema_url())
    with DaemonLock(a), DaemonLock(b):
        assert running_daemon(a) == running_daemon(b) == os.getpid()


def test_kill_9_frees_the_lock(pg_url):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, pg_url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert running_daemon(StoreURL(pg_url)) == proc.pid
        with pytest.raises(StoreError, match=f"yuqing daemon {proc.pid}@"):
            DaemonLock(StoreURL(pg_url)).acquire()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 10  # the server notices the closed socket at once, or nearly
        while running_daemon(StoreURL(pg_url)) is not None and time.time() < deadline:
            time.sleep(0.05)
        with DaemonLock(StoreURL(pg_url)) as lock:
            assert lock.held
    finally:
        proc.kill()
