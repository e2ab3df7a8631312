"""Scrapy settings for one source's run, from yuqing's [crawl] section and the source's overrides.

Polite by default: robots.txt obeyed, AutoThrottle, a per-source delay, a User-Agent that names
yuqing, bodies above `max_body` refused, a bounded number of redirects (a loop is an error).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.settings import default_settings

from yuqing.crawlers.pipelines import ITEM_PIPELINES
from yuqing.crawlers.robots import MIDDLEWARES as ROBOTS_MIDDLEWARES
from yuqing.settings import Settings, SourceConfig

REDIRECT_MAX_TIMES = 10


def scrapy_settings(settings: Settings, source: SourceConfig, *, pipelines: bool = True) -> dict[str, Any]:
    crawl = settings.crawl
    delay = crawl.delay if source.delay is None else source.delay
    jitter: dict[str, Any] = (
        {"DOWNLOAD_DELAY_JITTER": 0.5 if delay > 0 else 0.0}
        if hasattr(default_settings, "DOWNLOAD_DELAY_JITTER")
        else {"RANDOMIZE_DOWNLOAD_DELAY": delay > 0}
    )
    return {
        **jitter,
        "BOT_NAME": "yuqing",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "DOWNLOADER_MIDDLEWARES": ROBOTS_MIDDLEWARES,  # every waiter on robots.txt obeys it (crawlers/robots.py)
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": max(delay * 10, 30.0),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(max(1, crawl.concurrency)),
        "CONCURRENT_REQUESTS": max(1, crawl.concurrency) * 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, crawl.concurrency),
        # a page's posts leave as one PostBatch and the pipeline is synchronous, so a response
        # yields a handful of outputs: Scrapy's default of 100 output workers per response
        # (asyncio tasks, each created and woken) was most of the per-page CPU (bench/crawl.py)
        "CONCURRENT_ITEMS": 8,
        # Scrapy re-reads a callback's source (inspect + ast) on every response to warn about a
        # `return value` in a generator: its cache is keyed weakly by the bound method, which is a
        # new object per request, so it never hits. ~6 ms a response, a fifth of a refresh run's
        # 10,000 re-visits (bench/daemon.py); our callbacks never return a value.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOAD_TIMEOUT": crawl.request_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_body,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "REDIRECT_MAX_TIMES": REDIRECT_MAX_TIMES,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_ENABLED": True,
        "DEFAULT_DROPITEM_LOG_LEVEL": "DEBUG",  # off-topic posts are normal, not warnings
        "ITEM_PIPELINES": ITEM_PIPELINES if pipelines else {},
        "LOG_INSTALL_ROOT_HANDLER": False,  # yuqing's logging config stays in charge
        # nothing listens on a port, nothing polls: a crawl child only crawls
        "EXTENSIONS": {
            "scrapy.extensions.telnet.TelnetConsole": None,
            "scrapy.extensions.remote_control.RemoteControl": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
            "scrapy.extensions.logstats.LogStats": None,
        },
        "HTTPCACHE_ENABLED": False,
        "DNS_TIMEOUT": min(crawl.request_timeout, 30.0),
    }


def quiet_scrapy_logging(level: int = logging.WARNING) -> None:
    """Scrapy sets its own loggers to DEBUG when a process starts; a record per page and per
    dropped post costs measurable time even when nothing prints it. Call after creating the process."""
    logging.getLogger("scrapy").setLevel(level)
