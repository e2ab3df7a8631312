"""A daemon run as a child process (`python -m yuqing --config X run`): what the demo, the end-to-end
tests and the benchmark drive. It reads the daemon's own report (store meta "daemon") to know when
it is up, and stops it the way an operator or systemd would (SIGTERM)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from yuqing.daemon.children import descendants


class DaemonProcess:
    def __init__(self, config: Path, db: Any, log: Path | None = None) -> None:
        """`db`: the store the config names, a Path or a PostgreSQL StoreURL (both have exists())."""
        from yuqing.store.url import is_postgres

        self.config = Path(config)
        self.db = db if is_postgres(db) else Path(db)
        self.log_path = Path(log) if log else None
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, wait: float = 60.0) -> DaemonProcess:
        """Start it and wait until it reports running (RuntimeError with its output if it does not)."""
        self._log = self.log_path.open("ab") if self.log_path else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yuqing", "--config", str(self.config), "run"],
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=self.config.parent,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            meta = self.meta()
            if meta.get("running") and meta.get("pid") == self.proc.pid:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited {self.proc.returncode} at start: {self.output()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"the daemon did not report running within {wait:g}s: {self.output()[-2000:]}")

    def meta(self) -> dict[str, Any]:
        from yuqing.store import Store

        if not self.db.exists():
            return {}
        try:
            with Store(self.db, readonly=True) as store:
                return json.loads(store.get_meta("daemon", "{}") or "{}")
        except Exception:  # mid-migration or locked for a moment: ask again later
            return {}

    def crawl_children(self) -> list[int]:
        """Pids of the crawl processes it runs now."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        from yuqing.daemon.children import cmdline

        return [pid for pid in descendants(self.proc.pid) if "crawl-source" in cmdline(pid)]

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send `sig` and wait for the exit status (SIGKILL after `timeout`)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return int(self.proc.returncode)

    def kill(self) -> None:
        """SIGKILL: what a crash or an OOM killer does. Its crawl children live on, as they would."""
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        return ""
