"""The scheduler's jobs, its status in the store, its lock and its clean stop (no crawling needed here)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing import settings as settings_mod
from yuqing.errors import StoreError
from yuqing.scheduler import Daemon
from yuqing.store import Store

SOURCES = """
[[sources]]
name = "every7m"
type = "feed"
url = "http://127.0.0.1:9/a.xml"
every = "7m"

[[sources]]
name = "cron10"
type = "feed"
url = "http://127.0.0.1:9/b.xml"
cron = "*/10 8-20 * * *"

[[sources]]
name = "off"
type = "feed"
url = "http://127.0.0.1:9/c.xml"
enabled = false

[digest]
at = "07:45"
timezone = "Asia/Shanghai"

[daemon]
misfire_grace = "2m"
housekeeping_at = "03:10"
crawl_workers = 3
pipeline_every = "4m"
deliver_every = "30s"
"""


def test_jobs_follow_the_settings(write_config) -> None:
    settings = settings_mod.load(write_config(SOURCES))
    daemon = Daemon(settings)
    daemon._add_jobs()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert set(jobs) == {"crawl:every7m", "crawl:cron10", "pipeline", "deliver", "digest", "housekeeping", "status",
                         "cases"}
    tz = ZoneInfo("Asia/Shanghai")
    every = jobs["crawl:every7m"]
    assert isinstance(every.trigger, IntervalTrigger) and every.trigger.interval == timedelta(minutes=7)
    cron = jobs["crawl:cron10"]
    assert isinstance(cron.trigger, CronTrigger) and cron.trigger.timezone == tz
    at = datetime(2025, 3, 1, 20, 55, tzinfo=tz)
    assert cron.trigger.get_next_fire_time(None, at) == datetime(2025, 3, 2, 8, 0, tzinfo=tz)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 120
    assert every.executor == "crawl" and cron.executor == "crawl" and jobs["pipeline"].executor == "default"
    assert jobs["pipeline"].trigger.interval == timedelta(minutes=4)
    assert jobs["deliver"].trigger.interval == timedelta(seconds=30)
    assert jobs["cases"].trigger.interval == timedelta(minutes=1)  # case deadlines, every minute
    digest_next = jobs["digest"].trigger.get_next_fire_time(None, datetime(2025, 3, 1, 9, 0, tzinfo=tz))
    assert digest_next == datetime(2025, 3, 2, 7, 45, tzinfo=tz)
    house_next = jobs["housekeeping"].trigger.get_next_fire_time(None, datetime(2025, 3, 1, 3, 0, tzinfo=tz))
    assert house_next == datetime(2025, 3, 1, 3, 10, tzinfo=tz)
    assert daemon.scheduler.timezone == tz


def test_first_crawl_keeps_the_rhythm_across_restarts() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=tz)
    # never crawled: now, staggered one second per source so they do not all start at once
    assert Daemon._first_crawl(600, None, now, 0) == now
    assert Daemon._first_crawl(600, None, now, 2) == now + timedelta(seconds=2)
    # crawled 100 s ago with every = 10 min: next run 500 s from now, not immediately
    last = {"last_run_at": (now - timedelta(seconds=100)).astimezone(ZoneInfo("UTC")).isoformat()}
    assert Daemon._first_crawl(600, last, now, 0) == now + timedelta(seconds=500)
    # overdue: now
    old = {"last_run_at": (now - timedelta(hours=3)).isoformat()}
    assert Daemon._first_crawl(600, old, now, 1) == now + timedelta(seconds=1)


def _meta(db: Path) -> dict:
    if not db.exists():
        return {}
    try:
        with Store(db, readonly=True) as store:
            return json.loads(store.get_meta("daemon", "{}") or "{}")
    except (sqlite3.OperationalError, StoreError):  # the daemon is still creating the file or the schema
        return {}


def test_in_process_run_writes_status_and_stops_cleanly(write_config) -> None:
    settings = settings_mod.load(write_config("[daemon]\ndeliver_every = \"1s\"\n"))
    daemon = Daemon(settings)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(daemon.run()))
    thread.start()
    deadline = time.time() + 20
    while time.time() < deadline and not _meta(settings.db_path).get("running"):
        time.sleep(0.1)
    meta = _meta(settings.db_path)
    assert meta["running"] is True and meta["pid"] == os.getpid()
    ids = {job["id"] for job in meta["jobs"]}
    assert {"pipeline", "deliver", "digest", "housekeeping", "status"} <= ids
    nexts = [job["next_run"] for job in meta["jobs"]]
    assert all(nexts), nexts  # every job has its next run while the daemon runs
    from yuqing.lock import running_daemon

    assert running_daemon(settings.db_path) == os.getpid()
    daemon.request_stop("test")
    thread.join(30)
    assert not thread.is_alive() and codes == [0]
    meta = _meta(settings.db_path)
    assert meta["running"] is False and meta["jobs"] and all(j["next_run"] is None for j in meta["jobs"])
    assert running_daemon(settings.db_path) is None


def _yuqing(config: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60, **kw)


def _start(config: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--config", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    db = config.parent / "yuqing.db"
    deadline = time.time() + 30
    while time.time() < deadline:
        meta = _meta(db)
        if meta.get("running") and meta.get("pid") == proc.pid:
            return proc
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the daemon did not report running within 30 s")


def test_second_daemon_is_refused_and_sigterm_stops_the_first_with_exit_0(write_config) -> None:
    config = write_config()
    first = _start(config)
    try:
        second = _yuqing(config, "run")
        assert second.returncode == 1
        assert f"process {first.pid}" in second.stderr and "already running" in second.stderr
        status = _yuqing(config, "status")
        assert status.returncode == 0
        assert f"daemon: running (pid {first.pid}" in status.stdout
        assert "digest" in status.stdout and "next run never" not in status.stdout
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        out = first.stdout.read() if first.stdout else ""
        assert "daemon started" in out and "stopping (SIGTERM)" in out and "daemon stopped" in out
        assert "Traceback" not in out
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    status = _yuqing(config, "status")
    assert f"daemon: stopped (pid {first.pid}" in status.stdout
    # and the store is free for the next daemon
    again = _yuqing(config, "run", "--for", "1s")
    assert again.returncode == 0, again.stderr


def test_ctrl_c_stops_cleanly_too(write_config) -> None:
    config = write_config()
    proc = _start(config)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert _meta(config.parent / "yuqing.db")["running"] is False


def test_status_tells_a_killed_daemon_from_a_running_one(write_config) -> None:
    config = write_config()
    proc = _start(config)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _meta(config.parent / "yuqing.db")["running"] is True  # it had no chance to say otherwise
    status = _yuqing(config, "status")
    assert "daemon: not running (it stopped without a clean exit)" in status.stdout
    as_json = json.loads(_yuqing(config, "status", "--json").stdout)
    assert as_json["daemon"]["running"] is False and as_json["daemon"]["stale"] is True
    # a killed daemon leaves no lock behind: a new one starts
    restarted = _start(config)
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(30) == 0


def test_bad_duration_is_a_usage_error(write_config) -> None:
    result = _yuqing(write_config(), "run", "--for", "soon")
    assert result.returncode == 2
    assert "--for" in result.stderr and "duration" in result.stderr
