"""The local engine: each run in a child process on this machine, as runner.py has always done.

The child's life (timeouts, signals, orphans) is in runner.py, unchanged; this is only its face
as an engine, so the runner can treat both engines alike.
"""

from __future__ import annotations

from datetime import datetime

from yuqing.models import CrawlStats
from yuqing.settings import Settings


class LocalEngine:
    def run(self, settings: Settings, name: str, limit: float, started: datetime, run_id: int) -> CrawlStats:
        from yuqing.crawlers import runner

        if not settings.config_file:
            return CrawlStats(source=name, started_at=started, error="cannot start a crawl: settings have no config file")
        return runner._run_child(settings, name, limit, started, run_id)

    def stop(self, reason: str, grace: float) -> None:
        from yuqing.crawlers import runner

        runner.stop_children(grace=grace, reason=reason)


LOCAL = LocalEngine()
