"""A scrapyd job: one source's run on a node, as `scrapy crawl yuqing -a config=... -a store=...`.

The deployed egg (project.py) holds only a settings module and a spider class named "yuqing" that
is `JobSpider`; the spiders themselves come from the yuqing installed beside scrapyd on the node.
`JobSpider.from_crawler` reads the job's arguments, builds the source's own spider (feed, html,
...) with the same Scrapy settings a local child would use, and hands that to Scrapy instead: the
crawl, the pipeline and the posts written into the store are those of a local run. When the spider
closes, its CrawlStats go into the job's log as one JSON line, which the daemon reads back
(scrapyd's log URL). The job also holds its own timeout, so a job whose daemon is gone ends anyway.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import scrapy

from yuqing.models import CrawlStats, utcnow

logger = logging.getLogger(__name__)

# What the egg's settings module sets: Scrapy's logging is configured from these before any
# spider exists (the per-source settings come later, from the spider, at "spider" priority).
PROJECT_SETTINGS: dict[str, Any] = {
    "BOT_NAME": "yuqing",
    "SPIDER_MODULES": ["yuqing_scrapyd.spiders"],
    "NEWSPIDER_MODULE": "yuqing_scrapyd.spiders",
    "LOG_LEVEL": "INFO",  # the stats line is INFO; scrapyd's log file is where the daemon reads it
    "TELNETCONSOLE_ENABLED": False,
}
# the node's own logging (scrapyd's LOG_FILE, the level above) stays in charge
_NOT_FROM_SOURCE = {"LOG_LEVEL", "LOG_ENABLED", "LOG_INSTALL_ROOT_HANDLER", "LOG_FILE", "BOT_NAME"}


def open_store(settings: Any) -> Any:
    """The store the job writes into: whatever `[store]` names (a SQLite path or a server URL)."""
    from yuqing.store import Store

    return Store(settings.db_path)


class JobSpider(scrapy.Spider):
    """Stands in for the source's spider: `from_crawler` returns that spider, set up for the job."""

    name = "yuqing"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        return start_job(crawler, **kwargs)


def _stop(crawler: Any) -> None:
    stop_async = getattr(crawler, "stop_async", None)
    if stop_async is not None:
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(stop_async())
    else:  # Scrapy < 2.13
        crawler.stop()


def start_job(crawler: Any, config: str = "", store: str = "", timeout: str = "", yuqing_version: str = "",
              **_ignored: Any) -> Any:
    """The source's spider for this job; its stats are logged as one line when it closes."""
    from scrapy import signals

    from yuqing import __version__
    from yuqing.crawlers.engines.payload import decode
    from yuqing.crawlers.runner import refresh_urls, refresh_cap, stats_line
    from yuqing.crawlers.settings import quiet_scrapy_logging, scrapy_settings
    from yuqing.crawlers.spiders import spider_class

    settings = decode(config, store)
    source = settings.sources[0]
    if yuqing_version and yuqing_version != __version__:
        logger.warning("this node runs yuqing %s, the daemon %s: install the same on both", __version__, yuqing_version)
    limit = float(timeout or source.timeout or settings.crawl.timeout)
    deadline = time.monotonic() + limit
    wanted = {k: v for k, v in scrapy_settings(settings, source).items() if k not in _NOT_FROM_SOURCE}
    crawler.settings.setdict(wanted, priority="spider")
    # as in a local child, no DEBUG record is made per page or post: Scrapy set its loggers to
    # DEBUG and the root logger to everything, filtering only at scrapyd's log file
    quiet_scrapy_logging(logging.INFO)
    logging.getLogger().setLevel(logging.INFO)
    db = open_store(settings)
    stats = CrawlStats(source=source.name)
    # `refresh` re-visits on a node too, as many as in a local child (runner.refresh_cap)
    recent = refresh_urls(db, source, None, refresh_cap(settings, source, limit))
    spider = spider_class(source.type).from_crawler(crawler, source=source, settings=settings, stats=stats,
                                                    seen=db.seen_urls, recent=recent)
    spider.store = db  # type: ignore[attr-defined]  # the pipeline writes through it (and does not own it)
    state: dict[str, Any] = {}

    def item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
        stats.errors += 1
        stats.error = stats.error or f"could not store a post: {failure.value}"

    def timed_out() -> None:
        state["timed_out"] = True
        stats.errors += 1
        stats.error = f"timed out after {limit:g}s"
        _stop(crawler)

    def spider_opened(spider: Any) -> None:
        from twisted.internet import reactor as installed

        reactor: Any = installed  # installed by Scrapy by now
        state["timer"] = reactor.callLater(max(0.0, deadline - time.monotonic()), timed_out)

    def spider_closed(spider: Any, reason: str) -> None:
        timer = state.get("timer")
        if timer is not None and timer.active():
            timer.cancel()
        if reason == "shutdown" and stats.error is None:
            stats.stopped = True  # cancelled from outside; the daemon knows whether it was its timeout
            stats.error = "stopped by a signal before the crawl finished"
        stats.finished_at = utcnow()
        try:
            db.close()
        finally:
            logger.info("%s", stats_line(stats))

    crawler.signals.connect(item_error, signal=signals.item_error, weak=False)
    crawler.signals.connect(spider_opened, signal=signals.spider_opened, weak=False)
    crawler.signals.connect(spider_closed, signal=signals.spider_closed, weak=False)
    return spider
