"""The daemon's running crawls: which sources are crawling now, and stopping them at shutdown.

Each crawl job runs in a scheduler thread that waits on its child process (yuqing.crawlers.runner);
this book is what `status` shows as "crawling" and what the shutdown waits for. At shutdown the
crawls get a few seconds to finish on their own (most do: a run cut short is recorded as a failed
one), then the crawl stage stops its children, and anything still left below the daemon is stopped
by pid (yuqing.daemon.children).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from yuqing.daemon.children import descendants, stop_processes

logger = logging.getLogger(__name__)

CRAWL_FINISH_GRACE = 3.0  # seconds running crawls get to finish by themselves at shutdown
CHILD_GRACE = 5.0  # seconds a crawl child gets between SIGTERM and SIGKILL at shutdown


class RunningCrawls:
    """The names of the sources crawling now, safe from any thread."""

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def running(self, name: str) -> Iterator[None]:
        """Count `name` as crawling while the block runs."""
        with self._lock:
            self._names.add(name)
        try:
            yield
        finally:
            with self._lock:
                self._names.discard(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._names)

    def stop(self, failed: Callable[[str, BaseException], None]) -> None:
        """At shutdown: let the crawls finish, else stop their children; `failed` hears of an error."""
        finish_by = time.monotonic() + CRAWL_FINISH_GRACE
        while time.monotonic() < finish_by and self.names():
            time.sleep(0.1)
        if self.names():
            # the crawl stage's own way: its runs are then recorded as "stopped: the daemon shut down",
            # not as failures
            try:
                from yuqing.crawlers.runner import stop_children

                stop_children(grace=CHILD_GRACE)
            except Exception as exc:
                failed("stopping the crawls", exc)
        deadline = time.monotonic() + CHILD_GRACE + 10
        while True:  # and anything left below us, whoever started it
            children = descendants()
            if children:
                logger.info("stopping %d crawl process(es): %s", len(children), ", ".join(map(str, children)))
                stop_processes(children, grace=CHILD_GRACE)
            running = self.names()
            if not running or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if running:
            logger.warning("crawls still finishing at exit: %s", ", ".join(running))
