"""Crawls cut short by a shutdown, and orphaned crawl children: real child processes, a real site.

A shutdown (the daemon stopping its children, a SIGTERM from outside) is not the source's fault:
the run is recorded as "stopped: ..." and the source's consecutive failures stay as they were.
A child whose parent died (kill -9) stops by itself and records its own run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import LocalSite, Response
from tests.crawlers.test_runner import rows, write
from yuqing import settings as settings_mod
from yuqing.crawlers import runner
from yuqing.crawlers.commands import render_stats
from yuqing.models import CrawlStats
from yuqing.store import Store

HANG = """
[[sources]]
name = "hang"
type = "json"
url = "{url}/api?page={{page}}"
list_path = "items"
fields = {{ title = "title", url = "link" }}
"""


@pytest.fixture
def hang_site():
    """Page 1 gives three local posts at once; page 2 hangs for 30 s."""
    site = LocalSite().start()
    first = json.dumps({"items": [{"title": f"芦山县第{i}条", "link": f"/p/{i}"} for i in range(3)]}, ensure_ascii=False)
    site.routes["/api"] = lambda path, headers, body: (
        Response(first, content_type="application/json") if path.endswith("page=1")
        else Response("{}", content_type="application/json", delay=30))
    yield site
    site.stop()


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def hanging(site: LocalSite) -> bool:
    """The child has read page 1 and waits on page 2."""
    return any(path.endswith("page=2") for _, path in site.requests)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent has not reaped it yet


def source_row(config: Path) -> dict:
    return rows(config, "SELECT * FROM sources WHERE name = 'hang'")[0]


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(result=fn(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, out


def test_a_crawl_stopped_by_the_daemon_is_recorded_but_not_counted_as_a_failure(tmp_path, hang_site):
    config = write(tmp_path, HANG.format(url=hang_site.url), request_timeout="60s")
    settings = settings_mod.load(config)
    with Store(settings.db_path) as store:  # the source had failed once before
        store.sync_sources(settings.sources)
        store.finish_run(None, CrawlStats(source="hang", errors=1, error="HTTP 500 from http://x/api"))
    thread, out = in_thread(runner.crawl_one, settings, "hang", timeout=60)
    wait_for(lambda: hanging(hang_site), 30, "page 2")
    time.sleep(1.5)  # the pipeline's timed flush writes page 1's posts
    started = time.monotonic()
    runner.stop_children(grace=3)  # what `yuqing run` does when it is told to stop
    thread.join(20)
    assert not thread.is_alive()
    assert time.monotonic() - started < 3 + 4
    stats = out["result"]
    assert stats.stopped and stats.error == "stopped: the daemon shut down"
    assert stats.new == 3
    run = rows(config, "SELECT * FROM crawl_runs WHERE source = 'hang' ORDER BY id DESC")[0]
    assert run["error"] == "stopped: the daemon shut down" and run["finished_at"] and run["new"] == 3
    row = source_row(config)
    assert row["failures"] == 1 and row["last_error"] == "HTTP 500 from http://x/api"  # as before the stop
    assert row["runs"] == 2 and row["posts"] == 3
    assert rows(config, "SELECT count(*) AS n FROM posts")[0]["n"] == 3
    table = render_stats([stats])
    assert table.splitlines()[2].split()[-1] == "stopped" and "hang: stopped: the daemon shut down" in table


def test_a_signal_from_outside_stops_the_run_without_counting_it(tmp_path, hang_site):
    config = write(tmp_path, HANG.format(url=hang_site.url), request_timeout="60s")
    settings = settings_mod.load(config)
    thread, out = in_thread(runner.crawl_one, settings, "hang", timeout=60)
    wait_for(lambda: bool(runner._active), 20, "the child to start")
    child = next(iter(runner._active))
    os.kill(child.pid, signal.SIGTERM)  # still starting up: no Scrapy, no handler of ours yet, or ours
    thread.join(20)
    assert not thread.is_alive()
    stats = out["result"]
    assert stats.stopped, stats
    assert stats.error.startswith("stopped: the crawler process got ") and stats.error.endswith(
        "from outside yuqing (a shutdown?) before it finished"), stats.error
    row = source_row(config)
    assert row["failures"] == 0 and row["last_error"] is None and row["runs"] == 1
    run = rows(config, "SELECT * FROM crawl_runs WHERE source = 'hang'")[0]
    assert run["error"] == stats.error and run["finished_at"]


PARENT = """
import sys, threading, time
from yuqing import settings as settings_mod
from yuqing.crawlers import runner
settings = settings_mod.load(sys.argv[1])
threading.Thread(target=runner.crawl_one, args=(settings, "hang"), kwargs={"timeout": 60}, daemon=True).start()
while not runner._active:
    time.sleep(0.02)
print(next(iter(runner._active)).pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_an_orphaned_child_stops_by_itself_and_records_its_run(tmp_path, hang_site):
    config = write(tmp_path, HANG.format(url=hang_site.url), request_timeout="60s")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(config)], stdout=subprocess.PIPE, text=True,
                              cwd=str(Path(__file__).resolve().parents[2]))
    try:
        child = int(parent.stdout.readline())
        wait_for(lambda: hanging(hang_site), 30, "page 2")
        time.sleep(1.5)  # page 1's posts are written
        parent.kill()  # the daemon dies without a word: kill -9
        parent.wait()
        killed = time.monotonic()
        wait_for(lambda: not alive(child), 3 + 5, "the orphan to stop")
        assert time.monotonic() - killed < 3 + 5  # far from the 60 s run timeout or the 30 s hang
    finally:
        if parent.poll() is None:
            parent.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)
    run = rows(config, "SELECT * FROM crawl_runs WHERE source = 'hang'")[0]
    assert run["error"] == "stopped: the daemon went away during the crawl" and run["finished_at"]
    assert run["new"] == 3
    assert rows(config, "SELECT count(*) AS n FROM posts")[0]["n"] == 3
    row = source_row(config)
    assert row["failures"] == 0 and row["last_error"] is None


def test_a_child_holds_its_run_timeout_by_itself(tmp_path, hang_site):
    """Without its parent's deadline (any platform): the child's own timer stops the crawl."""
    config = write(tmp_path, HANG.format(url=hang_site.url), request_timeout="60s")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "crawl-source", "hang",
                             "--timeout", "4"], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    stats = runner.parse_stats_line(result.stdout)
    assert stats is not None and stats.error == "timed out after 4s" and not stats.stopped
    assert stats.new == 3  # page 1's posts were kept
    assert took < 4 + runner.GRACE_SECONDS + 5  # start-up on a busy machine; not the 30 s hang


def test_finish_run_keeps_the_health_of_a_source_whose_run_was_stopped(tmp_path):
    from datetime import datetime, timezone

    with Store(tmp_path / "y.db") as store:
        store.finish_run(None, CrawlStats(source="s", errors=1, error="HTTP 500 from http://x/"))
        before = store.query("SELECT * FROM sources WHERE name = 's'")[0]
        at = datetime(2030, 1, 1, tzinfo=timezone.utc)
        store.finish_run(None, CrawlStats(source="s", new=2, stopped=True, error="stopped: the daemon shut down",
                                          finished_at=at))
        after = store.query("SELECT * FROM sources WHERE name = 's'")[0]
        assert after["failures"] == before["failures"] == 1
        assert after["last_error"] == "HTTP 500 from http://x/"
        assert after["last_run_at"] == before["last_run_at"] and after["last_ok_at"] is None
        assert after["runs"] == 2 and after["posts"] == 2 and after["last_new_at"].startswith("2030-01-01")
        store.finish_run(None, CrawlStats(source="s", new=1))  # then a good run clears the failure
        assert store.query("SELECT failures, last_error FROM sources WHERE name = 's'")[0] == {"failures": 0, "last_error": None}
