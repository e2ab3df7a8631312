"""The pipeline worker: one thread that runs the stages sharing analysis and alert state, one at a time.

Analysis, detection, the digest and housekeeping all read and write the same rows (posts' analysis
columns, events, alerts). Running two of them at once would let detection see half an analysis batch,
so every such task goes through this single worker. Crawls stay outside it: they only insert posts, in
their own processes. Delivery has a second worker of this kind (the daemon's `delivery`): it waits on
mail servers, and rows are claimed in a transaction, so it never needs to wait for analysis, nor
analysis for it.

Tasks are keyed: submitting a key already waiting is a no-op (ten crawls finishing together ask for
one analysis run, not ten). A key submitted while its task runs is queued again, so nothing that
arrived during a run is missed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Pipeline:
    """A single worker thread with a keyed, coalescing queue of tasks."""

    def __init__(self, name: str = "pipeline") -> None:
        self._cond = threading.Condition()
        self._tasks: OrderedDict[str, Callable[[], object]] = OrderedDict()
        self._busy: str | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.done = 0  # tasks finished (for status and tests)

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def busy(self) -> str | None:
        """Key of the task running now, if any."""
        return self._busy

    def pending(self) -> list[str]:
        with self._cond:
            return list(self._tasks)

    def start(self) -> Pipeline:
        self._thread.start()
        return self

    def submit(self, key: str, task: Callable[[], object]) -> bool:
        """Queue `task` under `key`; False when that key already waits or the worker is stopping."""
        with self._cond:
            if self._stopping or key in self._tasks:
                return False
            self._tasks[key] = task
            self._cond.notify_all()
            return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._tasks and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                key, task = self._tasks.popitem(last=False)
                self._busy = key
            started = time.monotonic()
            try:
                task()
            except Exception:  # a bug in one stage must not stop the others
                logger.exception("pipeline task %r failed", key)
            finally:
                with self._cond:
                    self._busy = None
                    self.done += 1
                    self._cond.notify_all()
            logger.debug("pipeline task %r took %.2fs", key, time.monotonic() - started)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing runs or waits; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._tasks or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, timeout: float = 30.0) -> bool:
        """Drop waiting tasks, let the running one finish (up to `timeout`); True if the worker ended.

        Dropped tasks lose nothing: their work is found again from the store on the next start
        (posts not analysed, deliveries pending).
        """
        with self._cond:
            self._stopping = True
            dropped = list(self._tasks)
            self._tasks.clear()
            self._cond.notify_all()
        if dropped:
            logger.debug("pipeline: dropped waiting tasks %s at shutdown", dropped)
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()
