"""Child processes of the daemon: find them (from /proc) and stop them, politely then firmly.

Crawls run as child processes started by the crawl stage; the daemon does not hold their handles,
so on shutdown it finds its descendants by parent pid and stops them: SIGTERM first (Scrapy closes
its spider and flushes what it has), SIGKILL after a grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    # "pid (comm) state ppid ...": comm may hold spaces or parentheses, so split after the last ')'
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pid: int | None = None) -> list[int]:
    """Every live process below `pid` (default: this one), children before grandchildren."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[0] in ("Z", "X"):
            continue
        parents.setdefault(stat[1], []).append(int(entry.name))
    found: list[int] = []
    queue = [root]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def stop_processes(pids: list[int], grace: float = 5.0) -> int:
    """SIGTERM each process, SIGKILL those still running after `grace` seconds; returns how many were killed."""
    if not pids:
        return 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    remaining = [p for p in pids if alive(p)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [p for p in remaining if alive(p)]
    for pid in remaining:
        logger.warning("process %d did not stop within %.0fs of SIGTERM: killing it (%s)", pid, grace, cmdline(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(remaining)
