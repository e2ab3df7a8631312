"""The daemon: APScheduler jobs built from the settings, run unattended until SIGTERM or Ctrl-C.

- one job per enabled source, on its `every` interval or `cron` expression; each crawl runs in a child
  process (yuqing.crawlers.runner.crawl_one) with the source's timeout, at most
  `[daemon] crawl_workers` at a time;
- right after a crawl that stored new posts (or failed: source health; or re-read what a hot list
  or a `refresh` lists: a rank or a count moved), the pipeline runs:
  analysis -> detection, then asks for delivery. A timer runs it too (`pipeline_every`), and one
  retries due deliveries (`deliver_every`), so nothing waits on a crawl to happen;
- the digest at `[digest] at`, housekeeping at `[daemon] housekeeping_at`.

Every stage that touches analysis or alert state runs in one worker thread (yuqing.daemon.pipeline),
so they never interleave; crawls run beside it in their own processes. Delivery has a worker of its
own with its own store connection (yuqing.daemon.delivery): a slow mail server never holds up
analysis, detection or the digest. Every job catches
and logs its exceptions: nothing a source or a stage does stops the daemon. A damaged store (quick_check
at start, daily at housekeeping, or when a job meets "malformed") stops every write and sends a health
alert straight to the channels (yuqing.daemon.integrity).

One daemon per store (yuqing.lock); its state is in store meta "daemon" for `yuqing status`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing.daemon.crawls import RunningCrawls
from yuqing.daemon.delivery import DeliveryWorker
from yuqing.daemon.housekeeping import housekeep
from yuqing.daemon.integrity import damage_in, send_health_alert
from yuqing.daemon.pipeline import Pipeline
from yuqing.lock import DaemonLock
from yuqing.models import from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store, StoreDamaged

logger = logging.getLogger(__name__)

META_KEY = "daemon"
STATUS_EVERY = 15.0  # seconds between heartbeats written to store meta
CASE_CHECK_EVERY = 60.0  # case deadlines are checked once a minute (kept to the second)
PIPELINE_GRACE = 60.0  # seconds the running pipeline task gets to finish at shutdown


class Daemon:
    """Build with settings, `run()` blocks until stopped and returns the exit status (0)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.digest.timezone)
        self.lock = DaemonLock(settings.db_path)
        self.pipeline = Pipeline()
        self.delivery = DeliveryWorker(settings, self._failed)
        self.stopping = threading.Event()
        self.started_at: datetime | None = None
        self._crawls = RunningCrawls()
        self._meta_lock = threading.Lock()
        self._work_store: Store | None = None  # used by the pipeline thread only
        self._meta_store: Store | None = None  # heartbeats, from any thread, under _meta_lock
        self._previous: dict[str, Any] = {}
        self._jobs: list[dict[str, Any]] = []
        self._old_handlers: dict[int, Any] = {}
        self.damaged: str | None = None  # set once the store is found damaged: nothing more is written
        # a late job runs once (coalesce), never beside itself, and not at all when later than the grace
        self.job_defaults = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(1, int(settings.daemon.misfire_grace)),
        }
        self.scheduler = BlockingScheduler(
            timezone=self.tz,
            executors={
                "default": ThreadPoolExecutor(4),
                "crawl": ThreadPoolExecutor(settings.daemon.crawl_workers),
            },
            job_defaults=self.job_defaults,
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    # -- life cycle -------------------------------------------------------------------------------
    def run(self, duration: float | None = None) -> int:
        """Run until SIGTERM/SIGINT (or `duration` seconds); StoreError if another daemon holds the store."""
        self.lock.acquire()
        try:
            self._work_store = Store(self.settings.db_path)
            self._meta_store = Store(self.settings.db_path)
            self.delivery.open(self.settings.db_path)
            try:
                self._work_store.verify()  # a damaged store is not written to, not even once
            except StoreDamaged as exc:
                self.damaged = str(exc)
                self._send_health(str(exc))
                raise
            self._work_store.sync_sources(self.settings.sources)
            self._previous = json.loads(self._meta_store.get_meta(META_KEY, "{}") or "{}")
            self.started_at = utcnow()
            self._add_jobs()
            self._install_signals()
            if duration:
                timer = threading.Timer(duration, self.request_stop, args=("time is up",))
                timer.daemon = True
                timer.start()
            self.pipeline.start()
            self.delivery.start()
            # whatever a previous run left (posts not analysed, messages not sent) drains first
            self.request_pipeline("start")
            self._catch_up_digest()
            self.request_reports()  # a 周报/月报 that fell due while the daemon was down
            logger.info(
                "daemon started (pid %d) on %s: %d sources, %d jobs",
                os.getpid(), self.settings.db_path, len(self._sources()), len(self.scheduler.get_jobs()),
            )
            if not self.stopping.is_set():
                self.scheduler.start()  # blocks until request_stop() shuts it down
            self._shutdown()
            return 0
        finally:
            self._restore_signals()
            for store in (self._work_store, self._meta_store):
                if store is not None:
                    store.close()
            self.delivery.close()
            self.lock.release()

    def request_stop(self, why: str = "") -> None:
        """Ask the daemon to stop (safe from a signal handler or any thread)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        logger.info("stopping%s", f" ({why})" if why else "")

        def _stop_scheduler() -> None:
            # the signal may come before the scheduler runs: retry until it is running or never will be
            for _ in range(600):
                try:
                    self.scheduler.shutdown(wait=False)
                    return
                except SchedulerNotRunningError:
                    time.sleep(0.1)

        threading.Thread(target=_stop_scheduler, name="stopper", daemon=True).start()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[sig] = signal.signal(sig, lambda signum, frame: self.request_stop(signal.Signals(signum).name))

    def _restore_signals(self) -> None:
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        self._old_handlers.clear()

    def _shutdown(self) -> None:
        self._crawls.stop(self._failed)
        if not self.pipeline.stop(timeout=PIPELINE_GRACE):
            logger.warning("the pipeline task %r did not finish in %.0fs; its transaction is rolled back",
                           self.pipeline.busy, PIPELINE_GRACE)
        self.delivery.shut_down()
        self.write_status(running=False)
        logger.info("daemon stopped")

    @property
    def _store(self) -> Store:
        """The pipeline thread's store, open while `run()` runs."""
        if self._work_store is None:
            raise RuntimeError("the daemon is not running: its store is not open")
        return self._work_store

    # -- jobs -------------------------------------------------------------------------------------
    def _sources(self) -> list[Any]:
        return [s for s in self.settings.sources if s.enabled]

    def _add_jobs(self) -> None:
        s = self.settings
        now = datetime.now(self.tz)
        health = {row["name"]: row for row in self._work_store.sources_health()} if self._work_store else {}
        for i, src in enumerate(self._sources()):
            if src.cron:
                trigger: Any = CronTrigger.from_crontab(src.cron, timezone=self.tz)
                first = None  # the expression decides
            else:
                trigger = IntervalTrigger(seconds=src.every, timezone=self.tz)
                first = self._first_crawl(src.every, health.get(src.name), now, i)
            kwargs: dict[str, Any] = {"next_run_time": first} if first is not None else {}
            self._add_job(self._crawl_job, trigger, args=[src.name], id=f"crawl:{src.name}",
                                   name=f"crawl {src.name}", executor="crawl", **kwargs)
        self._add_job(self.request_pipeline, IntervalTrigger(seconds=s.daemon.pipeline_every, timezone=self.tz),
                               args=["timer"], id="pipeline", name="analyse + detect + deliver")
        self._add_job(self.request_delivery, IntervalTrigger(seconds=s.daemon.deliver_every, timezone=self.tz),
                               id="deliver", name="retry due deliveries")
        self._add_job(self.request_case_check, IntervalTrigger(seconds=CASE_CHECK_EVERY, timezone=self.tz),
                      id="cases", name="case deadlines")
        hour, minute = (int(x) for x in s.digest.at.split(":"))
        self._add_job(self.request_digest, CronTrigger(hour=hour, minute=minute, timezone=self.tz),
                               id="digest", name="daily digest")
        hour, minute = (int(x) for x in s.daemon.housekeeping_at.split(":"))
        self._add_job(self.request_housekeeping, CronTrigger(hour=hour, minute=minute, timezone=self.tz),
                               id="housekeeping", name="retention, optimize, vacuum")
        self._add_job(self.write_status, IntervalTrigger(seconds=STATUS_EVERY, timezone=self.tz),
                               id="status", name="heartbeat", next_run_time=now)

    def _add_job(self, func: Any, trigger: Any, **kwargs: Any) -> None:
        self.scheduler.add_job(func, trigger, **{**self.job_defaults, **kwargs})

    @staticmethod
    def _first_crawl(every: float, health: dict[str, Any] | None, now: datetime, index: int) -> datetime:
        """Keep a source's rhythm across restarts: next run = last run + every, or now (staggered)."""
        soonest = now + timedelta(seconds=min(index * 1.0, every / 2))
        last = from_iso(health.get("last_run_at")) if health else None
        if last is None:
            return soonest
        due = last.astimezone(now.tzinfo) + timedelta(seconds=every)
        return max(due, soonest)

    def _on_skipped(self, event: JobExecutionEvent) -> None:
        what = "missed its time (the daemon was busy or asleep)" if event.code == EVENT_JOB_MISSED else "is still running: this run skipped"
        logger.warning("job %s %s", event.job_id, what)

    def _crawl_job(self, name: str) -> None:
        if self.stopping.is_set() or self.damaged:
            return
        started = time.monotonic()
        try:
            from yuqing.crawlers.runner import crawl_one

            with self._crawls.running(name):
                stats = crawl_one(self.settings, name)
        except Exception as exc:
            self._failed(f"crawl of {name}", exc)
            return
        took = time.monotonic() - started
        if self.stopping.is_set():
            logger.info("crawl %s ended by shutdown after %.1fs", name, took)
            return
        if stats.error:
            logger.warning("crawl %s failed after %.1fs: %s", name, took, stats.error)
        else:
            logger.info("crawl %s: fetched %d, matched %d, new %d, duplicates %d (%.1fs)",
                        name, stats.fetched, stats.matched, stats.new, stats.duplicates, took)
        if stats.new or stats.error or self._signals_moved(name, stats):
            # new posts -> analyse, detect, deliver now; a failure -> source health is checked now
            self.request_pipeline(f"crawl {name}")
        self.write_status()

    def _signals_moved(self, name: str, stats: Any) -> bool:
        """A hot list that listed the locality, or a refresh that re-read posts: a rank or a count
        can move without a new post, and the case should open now, not at the next timer run."""
        src = next((s for s in self.settings.sources if s.name == name), None)
        return bool(src is not None and stats.matched and (src.type == "hotlist" or src.refresh))

    # -- pipeline tasks (all run in the one pipeline thread) ----------------------------------------
    def request_pipeline(self, reason: str = "") -> None:
        if not self.damaged:
            self.pipeline.submit("pipeline", lambda: self._run_pipeline(reason))

    def request_delivery(self) -> None:
        if not self.damaged:
            self.delivery.request()

    def request_case_check(self) -> None:
        if not self.damaged:
            self.pipeline.submit("cases", self._case_check)

    def _case_check(self) -> None:
        try:
            from yuqing.cases.workflow import check

            if check(self.settings, self._store):
                self.request_delivery()
        except Exception as exc:
            self._failed("case deadlines", exc)

    def request_digest(self, day: Any = None) -> None:
        if not self.damaged:
            self.pipeline.submit("digest", lambda: self._digest(day))

    def request_housekeeping(self) -> None:
        if not self.damaged:
            self.pipeline.submit("housekeeping", self._housekeeping)

    # -- a damaged store ---------------------------------------------------------------------------
    def _failed(self, what: str, exc: BaseException) -> None:
        """Log a job's failure; a sign of damage (not a lock timeout) has the store checked at once."""
        _log_failure(what, exc)
        words = damage_in(exc, self.settings.db_path)
        if words:
            self._store_damaged(words)

    def _store_damaged(self, words: str) -> None:
        if self.damaged:
            return
        self.damaged = words
        logger.critical("%s; the daemon stops crawling, analysing and sending until it is restarted on a sound store",
                        words)
        threading.Thread(target=self._send_health, args=(words,), name="health", daemon=True).start()

    def _send_health(self, words: str) -> None:
        try:
            send_health_alert(self.settings, words)
        except Exception:
            logger.exception("could not send the health alert")

    def _run_pipeline(self, reason: str) -> None:
        store = self._work_store
        assert store is not None
        started = time.monotonic()
        analysed = 0
        try:
            from yuqing.analysis.batch import analyze_pending

            chunk = max(1, self.settings.analysis.batch) * 4
            # in chunks, so a shutdown waits for one chunk, not for a whole backlog
            while not self.pipeline.stopping:
                done = analyze_pending(self.settings, store, limit=chunk)
                analysed += done
                if done < chunk:
                    break
        except Exception as exc:
            self._failed("analysis", exc)
        if self.pipeline.stopping:
            return
        changed: list[Any] = []
        try:
            from yuqing.alerts.detector import detect

            changed = detect(self.settings, store)
        except Exception as exc:
            self._failed("detection", exc)
        for alert in changed:
            logger.warning("alert %s %s [%s/%s]: %s", alert.state, alert.level, alert.kind, alert.key, alert.title)
        self.request_delivery()  # beside us: a slow mail server does not hold up the next analysis
        took = time.monotonic() - started
        log = logger.info if analysed or changed else logger.debug
        log("pipeline after %s: analysed %d posts, %d alerts changed (%.1fs)", reason, analysed, len(changed), took)

    def _digest(self, day: Any = None) -> None:
        try:
            from yuqing.digest.builder import build_digest

            page = build_digest(self.settings, self._store, day)
            logger.info("digest written: %s", page)
        except Exception as exc:
            self._failed("digest", exc)
            return
        self._reports()

    def request_reports(self) -> None:
        if not self.damaged:
            self.pipeline.submit("reports", self._reports)

    def _reports(self) -> None:
        try:  # 周报 on Mondays, 月报 on the 1st; each mailed once (its row in the outbox says so)
            from yuqing.digest.publish import run_due

            for ref in run_due(self.settings, self._store):
                logger.info("report built and queued: %s", ref)
        except Exception as exc:
            self._failed("reports", exc)
        self.request_delivery()

    def _housekeeping(self) -> None:
        try:
            report = housekeep(self.settings, self._store)
            logger.info("housekeeping: %d old posts deleted, vacuum %s", report["deleted_posts"],
                        "done" if report["vacuumed"] else "not needed")
        except Exception as exc:
            self._failed("housekeeping", exc)

    def _catch_up_digest(self) -> None:
        """A digest missed while the daemon was down is built at start (not on a store's first run)."""
        if not self._previous.get("started_at") or self._work_store is None:
            return
        now = datetime.now(self.tz)
        hour, minute = (int(x) for x in self.settings.digest.at.split(":"))
        if now < now.replace(hour=hour, minute=minute, second=0, microsecond=0):
            return
        yesterday = (now - timedelta(days=1)).date()
        if not self._work_store.scalar("SELECT 1 FROM digests WHERE date = ?", (yesterday.isoformat(),)):
            logger.info("digest of %s was missed while the daemon was down: building it now", yesterday)
            self.request_digest(yesterday)

    # -- status -----------------------------------------------------------------------------------
    def status(self, running: bool = True) -> dict[str, Any]:
        if running:
            jobs = []
            for job in self.scheduler.get_jobs():
                nxt = getattr(job, "next_run_time", None)  # unset until the scheduler has started
                jobs.append({"id": job.id, "name": job.name, "next_run": to_iso(nxt) if nxt else None})
            self._jobs = jobs
        else:  # after shutdown the scheduler has forgotten its jobs: show the last ones, with no next run
            jobs = [{**job, "next_run": None} for job in self._jobs]
        crawling = self._crawls.names()
        return {
            "pid": os.getpid(),
            "running": running,
            "started_at": to_iso(self.started_at),
            "updated_at": to_iso(utcnow()),
            "jobs": jobs,
            "crawling": crawling if running else [],
            "pipeline": {"busy": self.pipeline.busy, "waiting": self.pipeline.pending()} if running else {},
            "delivery": {"busy": self.delivery.busy, "waiting": self.delivery.pending()} if running else {},
        }

    def write_status(self, running: bool = True) -> None:
        if self._meta_store is None or (running and self.stopping.is_set()) or self.damaged:
            return  # once stopping, only the final "stopped" report may be written
        try:
            data = json.dumps(self.status(running), ensure_ascii=False)
            with self._meta_lock:
                self._meta_store.set_meta(META_KEY, data)
        except Exception:
            logger.exception("could not write the daemon's status to the store")


def _log_failure(what: str, exc: BaseException) -> None:
    """A failure yuqing raised on purpose is a sentence; anything else is a bug and gets its traceback."""
    from yuqing.errors import YuqingError

    if isinstance(exc, YuqingError):
        logger.error("%s failed: %s", what, exc)
    else:
        logger.error("%s failed: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
