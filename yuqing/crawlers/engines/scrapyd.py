"""The scrapyd engine: each source's run a job on one of the `[crawl] scrapyd` nodes.

A run is scheduled (schedule.json) on the next node in turn; a node that does not answer, or
refuses, is passed over for the next, and only when none takes the job is the run an error in
words (the other sources go on, on their own turns). The job is followed (listjobs.json) until it
has finished, and cancelled (cancel.json) at the run's timeout: first as Scrapy's graceful stop
(SIGINT, what was parsed is stored), then, after a grace period, for good (SIGKILL), the same two
steps as a local child gets. The job's stats come back from its log (job.py writes them there as
one line), so a run on a node reads exactly like a local one: fetched, matched, new, duplicates,
errors, the last error in words.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yuqing import __version__
from yuqing.crawlers.engines import payload
from yuqing.crawlers.engines.node import Node, NodeDown, NodeError
from yuqing.crawlers.engines.project import PROJECT, SPIDER
from yuqing.errors import ConfigError
from yuqing.models import CrawlStats
from yuqing.settings import Settings

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
LOST_AFTER = 15.0  # seconds a node may stay silent while it runs our job before the run is given up
SETTLE_SECONDS = 10.0  # how long a cancelled job gets to show up as finished


@dataclass
class _Job:
    node: Node
    id: str
    source: str
    stopping: str | None = None  # why stop() is stopping it


class ScrapydEngine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turn = 0
        self._active: dict[str, _Job] = {}

    # -- choosing a node ---------------------------------------------------------------------
    def in_turn(self, urls: tuple[str, ...] | list[str]) -> list[str]:
        """The nodes, starting with the next one's turn (round robin over this process's runs)."""
        with self._lock:
            start = self._turn % len(urls)
            self._turn += 1
        return [*urls[start:], *urls[:start]]

    def schedule(self, settings: Settings, name: str, limit: float, run_id: int) -> tuple[_Job | None, str | None]:
        """Schedule the run on the first node that takes it: (the job, None) or (None, why not)."""
        source = settings.source(name)
        try:
            fields = {
                "project": PROJECT, "spider": SPIDER, "jobid": f"{name}-{run_id}-{uuid.uuid4().hex[:8]}",
                "config": payload.encode(settings, source), "store": payload.store_url(settings),
                "timeout": f"{limit:g}", "yuqing_version": __version__,
            }
        except ConfigError as exc:
            return None, f"cannot send the crawl to scrapyd: {exc}"
        urls = self.in_turn(settings.crawl.scrapyd)
        refusals = []
        for url in urls:
            node = Node(url)
            try:
                answer = node.post("schedule.json", fields)
            except NodeError as exc:
                refusals.append(str(exc))
                logger.warning("%s: %s%s", name, exc, "; trying the next node" if url != urls[-1] else "")
                continue
            job = _Job(node, str(answer.get("jobid") or fields["jobid"]), name)
            logger.debug("%s: job %s on %s", name, job.id, node.url)
            return job, None
        hint = " (run `yuqing scrapyd deploy`?)" if any("not found" in r for r in refusals) else ""
        if len(refusals) == 1:
            return None, f"cannot schedule the crawl: {refusals[0]}{hint}"
        return None, f"cannot schedule the crawl on any of {len(refusals)} scrapyd nodes: {'; '.join(refusals)}{hint}"

    # -- one run -----------------------------------------------------------------------------
    def run(self, settings: Settings, name: str, limit: float, started: datetime, run_id: int) -> CrawlStats:
        job, refused = self.schedule(settings, name, limit, run_id)
        if job is None:
            return CrawlStats(source=name, started_at=started, errors=1, error=refused)
        with self._lock:
            self._active[job.id] = job
        try:
            return self._follow(job, limit, started)
        except BaseException:
            self._cancel(job, "INT")  # Ctrl-C here: the job must not crawl on unwatched
            self._cancel(job, "KILL")
            raise
        finally:
            with self._lock:
                self._active.pop(job.id, None)

    def _state(self, job: _Job) -> tuple[str | None, dict[str, Any]]:
        """'pending', 'running' or 'finished' with the job's entry, or (None, {}) if the node forgot it."""
        jobs = job.node.get("listjobs.json", {"project": PROJECT})
        for state in ("finished", "running", "pending"):
            for entry in jobs.get(state) or []:
                if entry.get("id") == job.id:
                    return state, entry
        return None, {}

    def _cancel(self, job: _Job, signal: str) -> None:
        try:
            job.node.post("cancel.json", {"project": PROJECT, "job": job.id, "signal": signal})
        except NodeError as exc:
            logger.warning("%s: could not cancel job %s: %s", job.source, job.id, exc)

    def _follow(self, job: _Job, limit: float, started: datetime) -> CrawlStats:
        deadline = time.monotonic() + limit
        silent_since: float | None = None
        cancelled_at: float | None = None
        killed = False
        timed_out = False
        state: str | None = "pending"
        entry: dict[str, Any] = {}
        while True:
            now = time.monotonic()
            try:
                state, entry = self._state(job)
                silent_since = None
            except NodeError as exc:
                silent_since = silent_since or now
                if now - silent_since > LOST_AFTER or (not isinstance(exc, NodeDown)):
                    return CrawlStats(source=job.source, started_at=started, errors=1,
                                      error=f"lost the crawl job {job.id}: {exc}")
            if state == "finished":
                break
            if state is None:
                if cancelled_at is not None:
                    break  # cancelled while pending: it never ran
                return CrawlStats(source=job.source, started_at=started, errors=1,
                                  error=f"crawl job {job.id} vanished from scrapyd node {job.node.url} "
                                        "(was scrapyd restarted?)")
            if cancelled_at is None and (job.stopping or now >= deadline):
                timed_out = job.stopping is None
                if timed_out and state == "pending":
                    self._cancel(job, "INT")
                    return CrawlStats(source=job.source, started_at=started, errors=1,
                                      error=f"timed out after {limit:g}s waiting for a free slot on scrapyd node "
                                            f"{job.node.url}")
                self._cancel(job, "INT")
                cancelled_at = now
            elif cancelled_at is not None and not killed and now - cancelled_at > _grace():
                logger.warning("%s: job %s did not stop within %gs; killing it", job.source, job.id, _grace())
                self._cancel(job, "KILL")
                killed = True
            elif cancelled_at is not None and now - cancelled_at > _grace() + SETTLE_SECONDS:
                break
            time.sleep(POLL_SECONDS)
        stats, failure = self._stats(job, entry) if state == "finished" else (None, "")
        return _outcome(job, stats, failure, started, limit, timed_out)

    def _stats(self, job: _Job, entry: dict[str, Any]) -> tuple[CrawlStats | None, str]:
        """The job's own stats from its log, or (None, why they are not there)."""
        from yuqing.crawlers.runner import STATS_PREFIX, parse_stats_line

        log_url = entry.get("log_url") or f"/logs/{PROJECT}/{SPIDER}/{job.id}.log"
        try:
            log = job.node.text(log_url)
        except NodeDown as exc:
            return None, f"cannot read crawl job {job.id}'s log: {exc}"
        if log is None:
            return None, (f"crawl job {job.id} on scrapyd node {job.node.url} left no log to read its stats from "
                          "(is logs_dir set, and jobs_to_keep large enough, in scrapyd.conf?)")
        lines = [line[line.find(STATS_PREFIX):] for line in log.splitlines() if STATS_PREFIX in line]
        stats = parse_stats_line("\n".join(lines))
        if stats is None:
            return None, f"crawl job {job.id} failed on scrapyd node {job.node.url}: {_last_words(log)}"
        return stats, ""

    # -- a shutdown --------------------------------------------------------------------------
    def stop(self, reason: str, grace: float) -> None:
        """Cancel every job in flight; wait (up to `grace`, then a kill) for their runs to end."""
        with self._lock:
            jobs = list(self._active.values())
            for job in jobs:
                job.stopping = reason
        for job in jobs:
            self._cancel(job, "INT")
        until = time.monotonic() + grace
        while time.monotonic() < until:
            with self._lock:
                if not any(j.id in self._active for j in jobs):
                    return
            time.sleep(0.1)
        for job in jobs:
            with self._lock:
                running = job.id in self._active
            if running:
                self._cancel(job, "KILL")


def _grace() -> float:
    from yuqing.crawlers.runner import GRACE_SECONDS

    return GRACE_SECONDS


def _outcome(job: _Job, stats: CrawlStats | None, failure: str, started: datetime, limit: float,
             timed_out: bool) -> CrawlStats:
    """The run's stats, worded as runner._run_child words a local child's."""
    if timed_out:
        stats = stats or CrawlStats(source=job.source)
        stats.error = f"timed out after {limit:g}s"
        stats.errors += 1
        stats.stopped = False
    elif stats is not None and not stats.stopped:
        pass  # it finished by itself (perhaps just as a shutdown came): its outcome stands
    elif job.stopping:
        stats = stats or CrawlStats(source=job.source)
        stats.stopped = True
        stats.error = f"stopped: {job.stopping}"
    elif stats is None:
        stats = CrawlStats(source=job.source, errors=1,
                           error=failure or f"crawl job {job.id} did not finish on scrapyd node {job.node.url}")
    else:
        stats.error = f"stopped: the job was cancelled on scrapyd node {job.node.url} before it finished"
    stats.started_at = started
    return stats


def _last_words(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):  # a traceback's last line says what went wrong
        if not line.startswith(("File ", "^", "~")) and "Traceback" not in line and "[" not in line[:30]:
            return line[:300]
    errors = [line for line in lines if " ERROR: " in line or " CRITICAL: " in line]
    return (errors or lines or ["no output"])[-1][:300]


SCRAPYD = ScrapydEngine()
