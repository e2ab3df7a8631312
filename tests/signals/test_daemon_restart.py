"""The hot-list and spread signals through the real daemon (`yuqing run`), stopped and started again
in the middle: loopback site, aiosmtpd, the daemon as a subprocess. Slow (about a minute each).

The timer pipeline is set to an hour, so a case opens only because the crawl itself asked for
detection: a hot list that lists the locality and a refresh that re-read counts move a signal
without storing a new post.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Response
from tests.signals.conftest import CONFIG
from yuqing.daemon.children import cmdline, descendants, stop_processes
from yuqing.daemon.process import DaemonProcess
from yuqing.store import Store

pytestmark = pytest.mark.slow

EVERY = 3.0
DAEMON = """
[daemon]
pipeline_every = "1h"
"""


def _write(folder: Path, smtp, sources: str) -> Path:
    path = folder / "yuqing.toml"
    notify = f'notify = ["{smtp.mailto}"]\n'
    path.write_text(CONFIG.replace('outbox = "outbox"\n', f'outbox = "outbox"\n{notify}') + DAEMON
                    + textwrap.dedent(sources), encoding="utf-8")
    return path


def _runs(db: Path, source: str) -> int:
    with Store(db, readonly=True) as store:
        return int(store.scalar("SELECT count(*) FROM crawl_runs WHERE source = ? AND finished_at IS NOT NULL",
                                [source]))


def _wait(what: str, check: Callable[[], bool], timeout: float, daemon: DaemonProcess) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # the store may be mid-migration at the very start
            pass
        if not daemon.running():
            raise AssertionError(f"the daemon died while waiting for {what}:\n{daemon.output()[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{daemon.output()[-3000:]}")


def _more_runs(daemon: DaemonProcess, source: str, n: int, timeout: float = 90) -> None:
    have = _runs(daemon.db, source)
    _wait(f"{n} more runs of {source}", lambda: _runs(daemon.db, source) >= have + n, timeout, daemon)


def _alert_mails(smtp) -> list:
    return [m for m in smtp.messages if "舆情预警" in str(m["Subject"])]


@pytest.fixture
def daemons(tmp_path: Path):
    started: list[DaemonProcess] = []

    def start(config: Path) -> DaemonProcess:
        daemon = DaemonProcess(config, config.parent / "yuqing.db", config.parent / "daemon.log").start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.running():
            daemon.kill()
    stop_processes([pid for pid in descendants(1) if str(tmp_path) in cmdline(pid)], grace=2)


HOT = """
[[sources]]
name = "weibo-hot"
type = "hotlist"
url = "{url}/hot"
every = "3s"
list_path = "data.realtime"
fields = {{ title = "word", heat = "num", url = "link" }}
"""


def test_a_hot_list_entry_at_rank_8_is_one_red_case_within_one_poll_across_a_restart(
        site, smtp, tmp_path: Path, daemons) -> None:
    served: dict[str, int | None] = {"at": None}

    def hot(path: str, headers: dict[str, str], body: bytes) -> Response:
        entries = [{"word": f"热点话题{i}", "num": 100_000 - i, "link": f"https://s.weibo.example/weibo?q={i}"}
                   for i in range(1, 31)]
        if served["at"] is not None:
            entries.insert(served["at"] - 1, {"word": "芦山县化工厂起火", "num": "52.1万",
                                              "link": "https://s.weibo.example/weibo?q=lushan"})
        return Response(json.dumps({"data": {"realtime": entries}}, ensure_ascii=False),
                        content_type="application/json")

    site.routes["/hot"] = hot
    config = _write(tmp_path, smtp, HOT.format(url=site.url))
    daemon = daemons(config)
    _more_runs(daemon, "weibo-hot", 1)
    served["at"] = 8
    took = _wait("the alert email", lambda: len(_alert_mails(smtp)) >= 1, EVERY + 60, daemon)
    assert took <= EVERY + 30, took  # within one poll (and the crawl and the pipeline after it)
    assert "红色" in str(_alert_mails(smtp)[0]["Subject"])
    assert daemon.stop() == 0

    served["at"] = None  # drops out while the daemon is down and for two polls after its restart ...
    daemon = daemons(config)
    _more_runs(daemon, "weibo-hot", 2)
    served["at"] = 3  # ... and comes back within the cooldown
    _more_runs(daemon, "weibo-hot", 3)
    assert daemon.stop() == 0

    assert len(_alert_mails(smtp)) == 1, [str(m["Subject"]) for m in smtp.messages]
    with Store(daemon.db, readonly=True) as store:
        assert [(c["level"], c["title"]) for c in store.query("SELECT level, title FROM cases")] == [
            ("red", "芦山县化工厂起火")]
        alerts = store.query("SELECT state, explanation FROM alerts WHERE kind = 'hotlist'")
        assert len(alerts) == 1 and alerts[0]["state"] == "open"
        # the pipeline after the return re-read the entry: its trajectory has the new rank
        ranks = [p["rank"] for p in json.loads(alerts[0]["explanation"])["trajectory"]]
        assert ranks[0] == 8 and ranks[-1] == 3, ranks
        assert store.scalar("SELECT count(*) FROM deliveries WHERE kind = 'alert'") == 1


API = """
[[sources]]
name = "county-api"
type = "json"
url = "{url}/api/list"
every = "3s"
list_path = "data.items"
fields = {{ title = "title", text = "content", url = "link", reposts = "reposts", comments = "comments" }}
refresh = "48h"
delay = "1s"
"""

GROWTH = [(20, 5), (400, 80), (1800, 300)]


def test_counts_growing_across_three_refreshes_are_one_spread_email_across_a_restart(
        site, smtp, tmp_path: Path, daemons) -> None:
    from datetime import timedelta

    from yuqing.models import Post, utcnow

    stage = {"n": 0}
    hits: list[tuple[str, float]] = []
    lock = threading.Lock()

    def item(n: int) -> dict:
        reposts, comments = GROWTH[stage["n"]] if n == 1 else (3, 1)
        return {"title": f"芦山县 帖子{n}", "content": f"芦山县 第{n}个帖子的正文", "link": f"/api/post/{n}",
                "reposts": reposts, "comments": comments}

    def listing(path: str, headers: dict[str, str], body: bytes) -> Response:
        with lock:
            hits.append((path, time.monotonic()))
        return Response(json.dumps({"data": {"items": [item(1), item(2), item(3)]}}, ensure_ascii=False),
                        content_type="application/json")

    def detail(path: str, headers: dict[str, str], body: bytes) -> Response:
        with lock:
            hits.append((path, time.monotonic()))
        return Response(json.dumps(item(int(path.rsplit("/", 1)[1])), ensure_ascii=False),
                        content_type="application/json")

    site.routes["/api/list"] = listing
    for n in (1, 2, 3, 9):
        site.routes[f"/api/post/{n}"] = detail
    site.routes["/robots.txt"] = Response("User-agent: *\nDisallow: /api/post/2\n", content_type="text/plain")
    config = _write(tmp_path, smtp, API.format(url=site.url))
    with Store(tmp_path / "yuqing.db") as store:  # first seen three days ago: outside the window
        store.add_posts([Post(url=f"{site.url}/api/post/9", source="county-api", title="芦山县 旧帖", text="旧帖",
                              fetched_at=utcnow() - timedelta(days=3), reposts=1)])

    daemon = daemons(config)
    _more_runs(daemon, "county-api", 1)  # stored at (20, 5)
    stage["n"] = 1
    _more_runs(daemon, "county-api", 1)  # a run that started before the change may still read (20, 5)
    _more_runs(daemon, "county-api", 1)  # re-read at (400, 80): gained 455 < 500, no alert yet
    assert _alert_mails(smtp) == []
    assert daemon.stop() == 0

    stage["n"] = 2
    daemon = daemons(config)
    took = _wait("the spread email", lambda: len(_alert_mails(smtp)) >= 1, 60, daemon)
    assert took < 45, took  # right after the refresh that saw it, not at the hourly timer
    _more_runs(daemon, "county-api", 2)  # still fast within the hour: the open alert is not mailed again
    assert daemon.stop() == 0

    mails = _alert_mails(smtp)
    assert len(mails) == 1, [str(m["Subject"]) for m in mails]
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "传播" in text and "county-api" in text and "芦山县 帖子1" in text
    with Store(daemon.db, readonly=True) as store:
        spread = store.query("SELECT key, state FROM alerts WHERE kind = 'spread'")
        post_id = store.scalar("SELECT id FROM posts WHERE url = ?", [f"{site.url}/api/post/1"])
        assert spread == [{"key": f"post:{post_id}", "state": "open"}]
        assert store.scalar("SELECT count(*) FROM cases") == 1
        assert store.scalar("SELECT reposts FROM posts WHERE id = ?", [post_id]) == 1800
    with lock:
        paths = [p for p, _ in hits]
        runs: list[list[float]] = []
        for path, at in hits:
            if path == "/api/list":
                runs.append([])
            runs[-1].append(at)
    assert "/api/post/9" not in paths  # never older than the window, also after the restart
    assert "/api/post/2" not in paths  # robots.txt holds for re-visits
    assert paths.count("/api/post/1") >= 3
    for times in runs:
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(g >= 0.45 for g in gaps), gaps  # the per-source delay (1s, jittered 0.5-1.5x)
