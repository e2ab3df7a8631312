"""Crawl engines: where one source's run happens, behind the runner.

`[crawl] engine` chooses one for every source:

    local     a child process on this machine (`yuqing crawl-source NAME`): runner.py's own, whose
              child life (timeouts, signals, orphans) stays there unchanged; `LocalEngine` is
              only its face as an engine
    scrapyd   a job on one of the `[crawl] scrapyd` nodes, scheduled, followed and cancelled over
              scrapyd's HTTP API; the spiders reach the node as an egg (`yuqing scrapyd deploy`)

An engine runs one source's run and answers with its CrawlStats (fetched, matched, new,
duplicates, errors, the last error in words); `runner.crawl_one` records the run either way, so the
two engines differ only in where the crawl happens. The posts themselves go straight into the
store from wherever the crawl runs, which is why a scrapyd node needs a store it can reach.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from yuqing.models import CrawlStats
from yuqing.settings import Settings

logger = logging.getLogger(__name__)


class Engine(Protocol):
    """One source's run, somewhere; never raises for what the source or a node does."""

    def run(self, settings: Settings, name: str, limit: float, started: datetime, run_id: int) -> CrawlStats:
        ...

    def stop(self, reason: str, grace: float) -> None:
        """Stop every run in flight (a shutdown); each is recorded as "stopped: <reason>"."""
        ...


class LocalEngine:
    """Each run in a child process on this machine, as runner.py has always run it."""

    def run(self, settings: Settings, name: str, limit: float, started: datetime, run_id: int) -> CrawlStats:
        from yuqing.crawlers import runner

        if not settings.config_file:
            return CrawlStats(source=name, started_at=started, error="cannot start a crawl: settings have no config file")
        return runner._run_child(settings, name, limit, started, run_id)

    def stop(self, reason: str, grace: float) -> None:
        from yuqing.crawlers import runner

        runner.stop_children(grace=grace, reason=reason)


LOCAL = LocalEngine()


def engine_for(settings: Settings) -> Engine:
    """The engine `[crawl] engine` names (settings checked it is one we know)."""
    if settings.crawl.engine == "scrapyd":
        from yuqing.crawlers.engines.scrapyd import SCRAPYD

        return SCRAPYD
    return LOCAL


def stop_all(reason: str, grace: float) -> None:
    """Stop the runs of the other engines that have started one in this process (runner.stop_children
    stops the local children itself, after this)."""
    import sys

    for module in ("yuqing.crawlers.engines.scrapyd",):
        loaded = sys.modules.get(module)
        if loaded is not None:
            try:
                loaded.SCRAPYD.stop(reason, grace)
            except Exception:  # a shutdown goes on whatever one engine does
                logger.exception("stopping the %s runs failed", module.rsplit(".", 1)[-1])


__all__ = ["LOCAL", "Engine", "LocalEngine", "engine_for", "stop_all"]
