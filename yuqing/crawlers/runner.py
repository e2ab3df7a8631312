"""Running crawls: each source in its own child process, with a timeout, its run recorded.

Scrapy's reactor cannot be restarted inside one process, and a child also gives isolation (one
source's crash or hang cannot touch another's) and memory back after each run. The parent
(`crawl_one`, `crawl_sources`) records the run in the store; the child (`run_source`, behind the
hidden `yuqing crawl-source NAME` command) crawls, writes posts, and prints its CrawlStats as one
JSON line. At the timeout the child gets SIGTERM (Scrapy stops gracefully and flushes what it has),
then SIGKILL after a grace period; the run is recorded as "timed out after 60s".
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

from yuqing.errors import ConfigError
from yuqing.models import CrawlStats, from_iso, to_iso, utcnow
from yuqing.settings import Settings

logger = logging.getLogger(__name__)

STATS_PREFIX = '{"crawl_stats"'
GRACE_SECONDS = 3.0
_active: set[subprocess.Popen[str]] = set()  # running children, so an interruption can stop them
_active_lock = threading.Lock()
_interrupted = threading.Event()
WORKERS = 2  # children at once: Scrapy + jieba start-up is CPU-bound


# -- the child ---------------------------------------------------------------------------------
def run_source(settings: Settings, name: str, now: datetime | None = None) -> CrawlStats:
    """Crawl one source in this process and store its posts. Call at most once per process."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from yuqing.crawlers.settings import quiet_scrapy_logging, scrapy_settings
    from yuqing.crawlers.spiders import spider_class
    from yuqing.store import Store

    source = settings.source(name)
    stats = CrawlStats(source=name)
    store = Store(settings.db_path)
    try:
        process = CrawlerProcess(settings=scrapy_settings(settings, source))
        quiet_scrapy_logging()
        crawler = process.create_crawler(spider_class(source.type))

        def item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
            stats.errors += 1
            stats.error = stats.error or f"could not store a post: {failure.value}"

        crawler.signals.connect(item_error, signal=signals.item_error)
        process.crawl(crawler, source=source, settings=settings, stats=stats, seen=store.seen_urls, now=now)
        process.start()
    finally:
        store.close()
    stats.finished_at = utcnow()
    return stats


def stats_line(stats: CrawlStats) -> str:
    data = asdict(stats)
    data["started_at"] = to_iso(stats.started_at)
    data["finished_at"] = to_iso(stats.finished_at)
    return json.dumps({"crawl_stats": data}, ensure_ascii=False)


def parse_stats_line(output: str) -> CrawlStats | None:
    for line in reversed(output.splitlines()):
        if line.startswith(STATS_PREFIX):
            data = json.loads(line)["crawl_stats"]
            data["started_at"] = from_iso(data.get("started_at")) or utcnow()
            data["finished_at"] = from_iso(data.get("finished_at"))
            return CrawlStats(**data)
    return None


# -- the parent --------------------------------------------------------------------------------
def _child_command(settings: Settings, name: str) -> list[str]:
    return [sys.executable, "-m", "yuqing", "--config", str(settings.config_file), "crawl-source", name]


def _kill(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the child's own process group: Scrapy and anything it started
    except ProcessLookupError:
        pass


def _last_words(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def crawl_one(settings: Settings, name: str, timeout: float | None = None) -> CrawlStats:
    """Run one source in a child process with a timeout; record the run; return its stats."""
    from yuqing.store import Store

    source = settings.source(name)
    limit = float(timeout or source.timeout or settings.crawl.timeout)
    started = utcnow()
    with Store(settings.db_path) as store:
        store.sync_sources([source])
        run_id = store.start_run(name, started)
        last_id = int(store.scalar("SELECT coalesce(max(id), 0) FROM posts"))
    if not settings.config_file:
        stats = CrawlStats(source=name, started_at=started, error="cannot start a crawl: settings have no config file")
    else:
        try:
            stats = _run_child(settings, name, limit, started)
        except BaseException:
            with Store(settings.db_path) as store:  # the run is not left open
                store.finish_run(run_id, CrawlStats(source=name, started_at=started, errors=1,
                                                    error="interrupted before the crawl finished"))
            raise
    if stats.error and stats.error.startswith("timed out") and stats.new == 0:
        # a killed child could not report; what it stored still counts
        with Store(settings.db_path) as store:
            stats.new = int(store.scalar("SELECT count(*) FROM posts WHERE source = ? AND id > ?", (name, last_id)))
    stats.started_at = started
    stats.finished_at = stats.finished_at or utcnow()
    with Store(settings.db_path) as store:
        store.finish_run(run_id, stats)
    logger.info("%s: fetched %d matched %d new %d duplicates %d errors %d%s", name, stats.fetched, stats.matched,
                stats.new, stats.duplicates, stats.errors, f" — {stats.error}" if stats.error else "")
    return stats


def _run_child(settings: Settings, name: str, limit: float, started: datetime) -> CrawlStats:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        _child_command(settings, name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", errors="replace", start_new_session=True, env=env,
    )
    with _active_lock:
        _active.add(proc)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill(proc, signal.SIGKILL)
            out, err = proc.communicate()
    except BaseException:
        # Ctrl-C or a stopping daemon: the child has its own process group and would not hear it
        _kill(proc, signal.SIGTERM)  # let it flush what it has, briefly
        try:
            proc.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill(proc, signal.SIGKILL)
            proc.wait()
        raise
    finally:
        with _active_lock:
            _active.discard(proc)
    stats = parse_stats_line(out or "")
    if _interrupted.is_set():
        stats = stats or CrawlStats(source=name, started_at=started)
        stats.error = "interrupted before the crawl finished"
        stats.errors += 1
    elif timed_out:
        stats = stats or CrawlStats(source=name, started_at=started)
        stats.error = f"timed out after {limit:g}s"
        stats.errors += 1
    elif stats is None:
        stats = CrawlStats(source=name, started_at=started, errors=1,
                           error=f"crawler process failed (exit status {proc.returncode}): {_last_words(err or '')}")
    if err and (stats.error or logger.isEnabledFor(logging.DEBUG)):
        logger.debug("%s child stderr:\n%s", name, err[-4000:])
    return stats


def crawl_sources(settings: Settings, names: list[str] | None = None, workers: int | None = None) -> list[CrawlStats]:
    """Run the named sources (default: every enabled one), each in its own child; one CrawlStats each,
    in the order asked. Unknown names raise ConfigError before anything runs."""
    if names:
        for name in names:
            settings.source(name)
        chosen = list(dict.fromkeys(names))
    else:
        chosen = [s.name for s in settings.sources if s.enabled]
    if not chosen:
        return []
    from yuqing.store import Store

    with Store(settings.db_path) as store:  # create/migrate once, before the children race to it
        store.sync_sources(settings.sources)

    def one(name: str) -> CrawlStats:
        try:
            return crawl_one(settings, name)
        except ConfigError:
            raise
        except Exception as exc:  # the parent must outlive anything one source does
            logger.exception("crawl of %s failed", name)
            return CrawlStats(source=name, errors=1, error=f"crawl could not run: {type(exc).__name__}: {exc}")

    workers = workers or getattr(settings.daemon, "crawl_workers", WORKERS)
    _interrupted.clear()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen)))) as pool:
        try:
            return list(pool.map(one, chosen))
        except BaseException:
            # Ctrl-C reaches only this (main) thread: stop the children the workers wait on
            stop_children()
            raise


def stop_children(grace: float = GRACE_SECONDS) -> None:
    """SIGTERM every running crawl child (they flush what they have), SIGKILL after `grace`;
    their runs are recorded as interrupted."""
    _interrupted.set()
    with _active_lock:
        procs = list(_active)
    for proc in procs:
        _kill(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(proc, signal.SIGKILL)
