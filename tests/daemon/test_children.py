"""Stopping the daemon's child processes: SIGTERM first, SIGKILL for those that ignore it."""

from __future__ import annotations

import subprocess
import sys
import time

from yuqing.daemon.children import alive, cmdline, descendants, stop_processes

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
PARENT = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
          " print('ready', flush=True); time.sleep(60)")


def _spawn(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_descendants_finds_children_and_grandchildren() -> None:
    parent = _spawn(PARENT)
    try:
        found = descendants()
        assert parent.pid in found
        grandchildren = descendants(parent.pid)
        assert len(grandchildren) == 1 and "time.sleep(60)" in cmdline(grandchildren[0])
        assert grandchildren[0] in found
    finally:
        stop_processes(descendants(parent.pid) + [parent.pid], grace=2)
        parent.wait()


def test_stop_processes_terminates_politely_then_kills() -> None:
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stubborn = _spawn(STUBBORN)
    started = time.monotonic()
    killed = stop_processes([polite.pid, stubborn.pid], grace=1.0)
    assert killed == 1  # only the one ignoring SIGTERM needed SIGKILL
    assert polite.wait(5) == -15
    assert stubborn.wait(5) == -9
    assert time.monotonic() - started < 5
    assert not alive(polite.pid) and not alive(stubborn.pid)


def test_stop_processes_ignores_processes_already_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert stop_processes([proc.pid], grace=0.5) == 0
    assert stop_processes([], grace=0.5) == 0
