"""The daemon's delivery worker: the outbox sent from a thread of its own, beside the pipeline.

A mail server that trickles or never answers holds up only the messages (each attempt bounded by
`[alerts] send_timeout`), never analysis, detection or the digest. The worker has its own store
connection; rows are claimed in a transaction, so it and a `yuqing deliver` never send one message
twice. Its tasks coalesce like the pipeline's (yuqing.daemon.pipeline): ten requests while an attempt
waits on a server make one more run, not ten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from yuqing.daemon.pipeline import Pipeline
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE = 0.5  # seconds a run between messages gets to notice the shutdown by itself
AFTER_ABORT = 5.0  # seconds, beyond send_timeout, an attempt cut short gets to record its outcome


class DeliveryWorker(Pipeline):
    """The outbox's sender thread; `failed(what, exc)` is told of a run that raised."""

    def __init__(self, settings: Settings, failed: Callable[[str, BaseException], None]) -> None:
        super().__init__("delivery")
        self.settings = settings
        self.store: Store | None = None  # used by the delivery thread only
        self._failed = failed

    def open(self, db_path: Path) -> None:
        """Open the worker's own store connection (before `start()`)."""
        self.store = Store(db_path)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def request(self) -> None:
        """Ask for a delivery run (a no-op when one already waits)."""
        self.submit("deliver", self.deliver)

    def deliver(self) -> tuple[int, int]:
        """Send what is due; returns (sent, failed). A failure of the run is reported, never raised."""
        try:
            from yuqing.delivery.outbox import deliver_pending

            assert self.store is not None
            sent, failed = deliver_pending(self.settings, self.store, stopping=lambda: self.stopping)
        except Exception as exc:
            self._failed("delivery", exc)
            return 0, 0
        if failed:
            logger.warning("delivery: %d sent, %d failed (retried later)", sent, failed)
        elif sent:
            logger.info("delivery: %d sent", sent)
        return sent, failed

    def shut_down(self) -> None:
        """Stop at shutdown: an attempt still waiting on a mail server is cut short (it is retried after
        the restart); messages not tried yet stay queued for the next start."""
        from yuqing.delivery.channels import abort_attempts

        self.stop(timeout=SHUTDOWN_GRACE)
        if abort_attempts("the daemon stopped during the attempt; it is retried after the restart"):
            logger.info("a delivery attempt in flight was cut short by the shutdown")
        if not self.stop(timeout=float(self.settings.alerts.send_timeout) + AFTER_ABORT):
            logger.warning("a delivery attempt was still running at exit; it is sent again on the next start")
