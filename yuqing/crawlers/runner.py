"""Running crawls: each source in its own child process, with a timeout, its run recorded.

Scrapy's reactor cannot be restarted inside one process, and a child also gives isolation (one
source's crash or hang cannot touch another's) and memory back after each run. The parent
(`crawl_one`, `crawl_sources`) records the run in the store; the child (`run_source`, behind the
hidden `yuqing crawl-source NAME` command) crawls, writes posts, and prints its CrawlStats as one
JSON line. At the timeout the child gets SIGTERM (Scrapy stops gracefully and flushes what it has),
then SIGKILL after a grace period; the run is recorded as "timed out after 60s".

A run cut short by a shutdown (`stop_children`, Ctrl-C, a SIGTERM/SIGINT from outside) is recorded
as "stopped: ..." with `CrawlStats.stopped`, which does not count as one of the source's failures.
A child outlives no parent for long: on Linux it gets SIGTERM when its parent dies (prctl
PR_SET_PDEATHSIG), and everywhere it holds the run timeout itself; an orphan records its own run.
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
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from yuqing.errors import ConfigError
from yuqing.models import CrawlStats, from_iso, to_iso, utcnow
from yuqing.settings import Settings

logger = logging.getLogger(__name__)

STATS_PREFIX = '{"crawl_stats"'
GRACE_SECONDS = 3.0
_active: set[subprocess.Popen[str]] = set()  # running children, so an interruption can stop them
_stopping: dict[int, str] = {}  # pid -> why: children stop_children is stopping
_active_lock = threading.Lock()
PR_SET_PDEATHSIG = 1
WORKERS = 2  # children at once: Scrapy start-up is CPU-bound
REFRESH_SHARE = 0.5  # of a run's timeout that `refresh` re-visits may take (refresh_cap)


# -- the child ---------------------------------------------------------------------------------
class _Stopped(BaseException):
    """A shutdown signal before Scrapy's own handlers were in place."""


def die_with_parent(parent_pid: int | None) -> None:
    """Linux: have the kernel send this process SIGTERM when its parent dies (kill -9, OOM killer),
    so a crawl child never outlives its daemon by more than a graceful stop."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
                logger.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError) as exc:
            logger.debug("prctl unavailable: %s", exc)
    if parent_pid and os.getppid() != parent_pid:  # it died before prctl: the kernel will not tell us
        os.kill(os.getpid(), signal.SIGTERM)


def run_source(
    settings: Settings,
    name: str,
    now: datetime | None = None,
    *,
    timeout: float | None = None,
    run_id: int | None = None,
    parent_pid: int | None = None,
) -> CrawlStats:
    """Crawl one source in this process and store its posts. Call at most once per process.

    `timeout` (default: the source's) also holds here, so an orphaned child ends by itself: at the
    deadline, or at SIGTERM/SIGINT, the crawl stops gracefully (what was parsed is stored) and, if
    an open download keeps it from closing, `GRACE_SECONDS` later for good. A child that finds
    itself orphaned (`parent_pid` gone) records run `run_id` itself, since nobody else will."""
    source = settings.source(name)
    limit = float(timeout or source.timeout or settings.crawl.timeout)
    deadline = time.monotonic() + limit
    stats = CrawlStats(source=name)
    state: dict[str, Any] = {}

    def on_signal(signum: int, frame: Any) -> None:
        if "timed_out" not in state:
            stats.stopped = True
            stats.error = stats.error or f"stopped by {signal.Signals(signum).name} before the crawl finished"
        if "process" not in state:  # still starting up: nothing to flush
            raise _Stopped()
        from twisted.internet import reactor

        reactor.callFromThread(_stop_crawl, state["process"])

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    die_with_parent(parent_pid)
    from yuqing.store import Store

    store = Store(settings.db_path)
    try:
        try:
            _crawl(settings, source, stats, store, now, deadline, limit, state)
        except _Stopped:
            pass
        stats.finished_at = utcnow()
        if run_id is not None and parent_pid and os.getppid() != parent_pid:
            if stats.stopped:
                stats.error = "stopped: the daemon went away during the crawl"
            logger.warning("%s: orphaned crawl (its daemon is gone); recording the run here", name)
            store.finish_run(run_id, stats)
    finally:
        store.close()
    return stats


def _stop_crawl(process: Any) -> None:
    """Stop gracefully (Scrapy flushes the pipelines), for good after GRACE_SECONDS if an open
    download holds the close up: the parent's SIGTERM-then-SIGKILL, done from inside."""
    from twisted.internet import reactor

    process.stop()

    def hard_stop() -> None:
        if reactor.running:
            logger.warning("the crawl did not stop within %gs; stopping it now", GRACE_SECONDS)
            reactor.stop()  # type: ignore[misc]  # zope interface methods have no self: mypy shifts the arguments

    reactor.callLater(GRACE_SECONDS, hard_stop)  # type: ignore[arg-type]  # zope interface methods have no self: mypy shifts the arguments


def _crawl(settings: Settings, source: Any, stats: CrawlStats, store: Any, now: datetime | None,
           deadline: float, limit: float, state: dict[str, Any]) -> None:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from yuqing.crawlers.settings import quiet_scrapy_logging, scrapy_settings
    from yuqing.crawlers.spiders import spider_class

    process = CrawlerProcess(settings=scrapy_settings(settings, source))
    quiet_scrapy_logging()
    crawler = process.create_crawler(spider_class(source.type))

    def item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
        stats.errors += 1
        stats.error = stats.error or f"could not store a post: {failure.value}"

    def spider_closed(spider: Any, reason: str) -> None:
        if reason == "shutdown" and stats.error is None:
            stats.stopped = True  # stopped from outside; the parent knows if it was its timeout
            stats.error = "stopped by a signal before the crawl finished"

    def spider_opened(spider: Any) -> None:
        from twisted.internet import reactor  # installed by Scrapy by now (importing it earlier would choose one)

        reactor.callLater(max(0.0, deadline - time.monotonic()), timed_out)  # type: ignore[arg-type]  # zope interface methods have no self: mypy shifts the arguments

    def timed_out() -> None:
        # the parent's timeout fires first (its clock started earlier); this one is for an orphan
        state["timed_out"] = True
        stats.errors += 1
        stats.stopped = False
        stats.error = f"timed out after {limit:g}s"
        _stop_crawl(process)

    crawler.signals.connect(item_error, signal=signals.item_error)
    crawler.signals.connect(spider_closed, signal=signals.spider_closed)
    crawler.signals.connect(spider_opened, signal=signals.spider_opened)
    process.crawl(crawler, source=source, settings=settings, stats=stats, seen=store.seen_urls, now=now,
                  recent=refresh_urls(store, source, now, refresh_cap(settings, source, limit)))
    state["process"] = process
    # our handlers stay in place (on_signal): Scrapy's would wait for open downloads without end
    process.start(install_signal_handlers=False)


def refresh_cap(settings: Settings, source: Any, limit: float) -> int | None:
    """How many re-visits fit in a run: the delay holds between them, and a run past its timeout
    is killed and counted a failure (three in a row: a health alert), so they get REFRESH_SHARE of
    it, the newest posts first. None: no delay, no cap."""
    delay = float(settings.crawl.delay if source.delay is None else source.delay)
    return max(1, int(limit * REFRESH_SHARE / delay)) if delay > 0 else None


def refresh_urls(store: Any, source: Any, now: datetime | None, cap: int | None = None) -> Any:
    """What a `refresh` source re-visits: its posts first seen within the window, newest first, at
    most `cap` of them (None: no refresh)."""
    if not source.refresh:
        return None
    from yuqing.store.engagement import recent_urls

    def recent() -> list[str]:
        urls = recent_urls(store.conn, source.name, now or utcnow(), source.refresh)
        if cap is not None and len(urls) > cap:
            logger.warning("%s: %d posts in the refresh window, %d re-visited (the newest): at the source's delay"
                           " no more fit in half its run timeout", source.name, len(urls), cap)
            return urls[:cap]
        return urls

    return recent


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
            # a scrapyd node may run another version of yuqing: read the fields both know (an older
            # one's missing `pages` is 0, so the parsed-0 rule stays quiet rather than guess)
            known = {f.name for f in fields(CrawlStats)}
            dropped = sorted(set(data) - known)
            if dropped:
                logger.debug("stats line fields unknown to this version, ignored: %s", ", ".join(dropped))
            return CrawlStats(**{k: v for k, v in data.items() if k in known})
    return None


# -- the parent --------------------------------------------------------------------------------
def _child_command(settings: Settings, name: str, limit: float, run_id: int) -> list[str]:
    return [sys.executable, "-m", "yuqing", "--config", str(settings.config_file), "crawl-source", name,
            "--timeout", f"{limit:g}", "--run-id", str(run_id), "--parent-pid", str(os.getpid())]


def _kill(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the child's own process group: Scrapy and anything it started
    except ProcessLookupError:
        pass


def _last_words(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def crawl_one(settings: Settings, name: str, timeout: float | None = None) -> CrawlStats:
    """Run one source on the configured engine (a child process, or a scrapyd job) with a timeout;
    record the run; return its stats."""
    from yuqing.store import Store

    source = settings.source(name)
    limit = float(timeout or source.timeout or settings.crawl.timeout)
    started = utcnow()
    with Store(settings.db_path) as store:
        store.sync_sources([source])
        run_id = store.start_run(name, started)
        last_id = int(store.scalar("SELECT coalesce(max(id), 0) FROM posts"))
    from yuqing.crawlers.engines import engine_for  # a child process (local) or a scrapyd job

    try:
        stats = engine_for(settings).run(settings, name, limit, started, run_id)
    except BaseException:
        with Store(settings.db_path) as store:  # the run is not left open
            store.finish_run(run_id, CrawlStats(source=name, started_at=started, stopped=True,
                                                error="stopped: interrupted before the crawl finished"))
        raise
    if stats.error and (stats.stopped or stats.error.startswith("timed out")) and stats.new == 0:
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


def _run_child(settings: Settings, name: str, limit: float, started: datetime, run_id: int) -> CrawlStats:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        _child_command(settings, name, limit, run_id), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
            stopped_by_us = _stopping.pop(proc.pid, None)
    stats = parse_stats_line(out or "")
    status = proc.returncode
    signalled = status is not None and status < 0 and -status in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    if timed_out:
        stats = stats or CrawlStats(source=name, started_at=started)
        stats.error = f"timed out after {limit:g}s"
        stats.errors += 1
        stats.stopped = False
    elif stats is not None and not stats.stopped:
        pass  # it finished by itself (perhaps just as a shutdown came): its outcome stands
    elif stopped_by_us or signalled or stats is not None:
        # a shutdown, not the source's fault: recorded in words, not counted as a failure
        stats = stats or CrawlStats(source=name, started_at=started)
        stats.stopped = True
        if stopped_by_us:
            stats.error = f"stopped: {stopped_by_us}"
        else:
            how = signal.Signals(-status).name if signalled else "a signal"
            stats.error = f"stopped: the crawler process got {how} from outside yuqing (a shutdown?) before it finished"
    else:
        stats = CrawlStats(source=name, started_at=started, errors=1,
                           error=f"crawler process failed (exit status {proc.returncode}): {_last_words(err or '')}")
    if err and (stats.error or logger.isEnabledFor(logging.DEBUG)):
        logger.debug("%s child stderr:\n%s", name, err[-4000:])
    return stats


def crawl_sources(settings: Settings, names: list[str] | None = None, workers: int | None = None,
                  on_done: Callable[[CrawlStats], None] | None = None) -> list[CrawlStats]:
    """Run the named sources (default: every enabled one), each in its own child; one CrawlStats each,
    in the order asked. Unknown names raise ConfigError before anything runs. `on_done` is called
    with each source's stats as it finishes (one call at a time), so a caller can show progress."""
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

    done_lock = threading.Lock()

    def one(name: str) -> CrawlStats:
        try:
            stats = crawl_one(settings, name)
        except ConfigError:
            raise
        except Exception as exc:  # the parent must outlive anything one source does
            logger.exception("crawl of %s failed", name)
            stats = CrawlStats(source=name, errors=1, error=f"crawl could not run: {type(exc).__name__}: {exc}")
        if on_done is not None:
            with done_lock:
                try:
                    on_done(stats)
                except Exception:  # noqa: BLE001 - showing progress must not lose the run
                    logger.exception("reporting the crawl of %s failed", name)
        return stats

    workers = workers or int(getattr(settings.daemon, "crawl_workers", WORKERS))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen)))) as pool:
        try:
            return list(pool.map(one, chosen))
        except BaseException:
            # Ctrl-C reaches only this (main) thread: stop the children the workers wait on
            stop_children(reason="the crawl was interrupted")
            raise


def stop_children(grace: float = GRACE_SECONDS, reason: str = "the daemon shut down") -> None:
    """SIGTERM every running crawl child (they flush what they have), SIGKILL after `grace`;
    their runs are recorded as "stopped: <reason>", not as failures of their sources. Runs on
    another engine (scrapyd jobs) are cancelled the same way."""
    from yuqing.crawlers.engines import stop_all

    stop_all(reason, grace)
    with _active_lock:
        procs = list(_active)
        for proc in procs:
            _stopping[proc.pid] = reason
    for proc in procs:
        _kill(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(proc, signal.SIGKILL)
