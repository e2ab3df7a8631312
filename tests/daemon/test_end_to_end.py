"""The daemon end to end, real parts on loopback: the sample site over HTTP, aiosmtpd, the daemon as a
real subprocess with short intervals. Slow (about a minute each): `pytest -m slow tests/daemon`."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import on_postgres

from yuqing.daemon.children import cmdline, descendants, stop_processes
from yuqing.daemon.process import DaemonProcess
from yuqing.demo.posts import FORUM_NORMAL, WENZHENG_NORMAL, Story, history, incident
from yuqing.demo.site import SampleSite
from yuqing.demo.walkthrough import EXPECTED_LEVEL, config_text
from yuqing.models import LEVEL_NAMES, Post, utcnow
from yuqing.store import Store

pytestmark = pytest.mark.slow

EVERY = 5.0


@dataclass
class World:
    site: SampleSite
    story: Story
    folder: Path
    smtp: object
    write: Callable[..., Path]
    store_url: str = ""  # the suite's PostgreSQL run: the store is this schema, not the file

    @property
    def db(self) -> Any:
        if self.store_url:
            from yuqing.store.url import StoreURL

            return StoreURL(self.store_url)
        return self.folder / "yuqing.db"

    def daemon(self, config: Path) -> DaemonProcess:
        return DaemonProcess(config, self.db, self.folder / "daemon.log")


@pytest.fixture
def world(tmp_path: Path, smtp):
    story = Story(seed=11)
    site = SampleSite(history(story, time.time(), days=7)).start()
    store_url = ""
    if on_postgres():
        from tests.store_pg.cluster import fresh_schema_url

        store_url = fresh_schema_url()

    def write(sources: dict[str, str] | None = None, every: float = EVERY) -> Path:
        path = tmp_path / "yuqing.toml"
        text = config_text(site.sources, every=f"{every:g}s", notify=[smtp.mailto], sources=sources)
        if store_url:
            assert '[store]\npath = "yuqing.db"\n' in text
            text = text.replace('[store]\npath = "yuqing.db"\n', f'[store]\npath = "yuqing.db"\nurl = "{store_url}"\n')
        path.write_text(text, encoding="utf-8")
        return path

    yield World(site, story, tmp_path, smtp, write, store_url)
    site.delays.clear()
    site.stop()
    # crawl children orphaned by a kill -9 finish on their own; make sure none outlives the test
    leftovers = [pid for pid in descendants(1) if str(tmp_path) in cmdline(pid)]
    stop_processes(leftovers, grace=2)


def _counts(db: Path) -> dict[str, int]:
    with Store(db, readonly=True) as store:
        return {
            "posts": int(store.scalar("SELECT count(*) FROM posts")),
            "unanalysed": int(store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL")),
            "undelivered": int(store.scalar("SELECT count(*) FROM deliveries WHERE state != 'sent'")),
        }


def _wait(what: str, check: Callable[[], bool], timeout: float, daemon: DaemonProcess | None = None) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # the store may be mid-migration at the very start
            pass
        if daemon is not None and not daemon.running():
            raise AssertionError(f"the daemon died while waiting for {what}:\n{daemon.output()[-3000:]}")
        time.sleep(0.1)
    tail = daemon.output()[-3000:] if daemon else ""
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{tail}")


def _settled(world: World, extra: int = 0) -> Callable[[], bool]:
    """Everything on the site is stored and analysed, nothing waits to be sent."""
    def check() -> bool:
        c = _counts(world.db)
        return c["posts"] == len(world.site.visible()) + extra and c["unanalysed"] == 0 and c["undelivered"] == 0
    return check


def _alert_mails(world: World) -> list:
    return [m for m in world.smtp.messages if "舆情预警" in str(m["Subject"])]


def test_an_incident_becomes_one_email_at_the_right_level(world: World) -> None:
    daemon = world.daemon(world.write()).start()
    try:
        _wait("the week of history to be crawled and analysed", _settled(world), 90, daemon)
        assert _alert_mails(world) == []  # a normal week raises nothing
        burst = incident(world.story, time.time())
        injected = time.monotonic()
        world.site.add(burst)
        _wait("the alert email", lambda: len(_alert_mails(world)) >= 1, EVERY + 60, daemon)
        latency = time.monotonic() - injected
        # a few more crawl rounds: the same spike must not be mailed again
        _wait("the burst to settle", _settled(world), 60, daemon)
        time.sleep(3 * EVERY)
        mails = _alert_mails(world)
        assert len(mails) == 1, [str(m["Subject"]) for m in mails]
        subject = str(mails[0]["Subject"])
        assert LEVEL_NAMES[EXPECTED_LEVEL] in subject and "青溪县" in subject
        assert latency < EVERY + 45, latency
        with Store(world.db, readonly=True) as store:
            locality = store.query("SELECT level, state FROM alerts WHERE kind = 'locality'")
            assert locality == [{"level": EXPECTED_LEVEL, "state": "open"}]
            assert store.scalar("SELECT count(*) FROM deliveries WHERE kind = 'alert'") == 1
        body = mails[0].get_body(preferencelist=("plain",)).get_content()
        assert any(p.title in body for p in burst if p.negative)  # the explanation quotes the posts
        assert daemon.stop() == 0
    finally:
        if daemon.running():
            daemon.kill()


def _backlog(db: Path, n: int) -> None:
    """`n` old posts nobody analysed yet (40+ days back: outside the alert baseline)."""
    rng = random.Random(3)
    now = utcnow()
    posts = []
    for i in range(n):
        title, text, _ = rng.choice(FORUM_NORMAL + WENZHENG_NORMAL)
        posts.append(Post(url=f"http://127.0.0.1:9/archive/{i}.html", source="archive", title=f"{title}（{i}）",
                          text=f"青溪县 {text} 第{i}帖", published_at=now - timedelta(days=40 + i % 20, minutes=i)))
    with Store(db) as store:
        assert store.add_posts(posts) == (n, 0)


def test_kill_9_mid_analysis_and_mid_crawl_then_restart_repeats_and_loses_nothing(world: World) -> None:
    backlog = 3000
    _backlog(world.db, backlog)
    for channel in ("forum", "news", "wenzheng"):
        world.site.delays[channel] = 2.0  # crawls take a while: there is a crawl to interrupt
    config = world.write()

    # 1. killed while analysing the backlog, with crawls running
    first = world.daemon(config).start()
    try:
        def mid_analysis() -> bool:
            with Store(world.db, readonly=True) as store:
                done = int(store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL"))
            return 0 < done < backlog and bool(first.crawl_children())
        _wait("analysis and a crawl under way", mid_analysis, 60, first)
    finally:
        first.kill()
    partial = backlog - _counts(world.db)["unanalysed"]
    assert 0 < partial < backlog + len(world.site.visible())

    # 2. restarted: the backlog drains; then killed in the middle of crawling the incident
    second = world.daemon(config).start()
    try:
        _wait("the backlog to drain", _settled(world, extra=backlog), 120, second)
        world.site.add(incident(world.story, time.time()))
        _wait("a crawl of the incident", lambda: bool(second.crawl_children()), 30, second)
        time.sleep(0.5)
    finally:
        second.kill()

    # 3. restarted again: the incident is stored once, analysed, and mailed once
    third = world.daemon(config).start()
    try:
        world.site.delays.clear()
        _wait("the alert email", lambda: len(_alert_mails(world)) >= 1, 90, third)
        _wait("everything to settle", _settled(world, extra=backlog), 90, third)
        time.sleep(2 * EVERY)
        assert third.stop() == 0
    finally:
        if third.running():
            third.kill()

    assert len(_alert_mails(world)) == 1
    ids = [str(m["Message-ID"]) for m in world.smtp.messages]
    assert len(ids) == len(set(ids))
    with Store(world.db, readonly=True) as store:
        assert store.scalar("SELECT count(*) FROM posts") == backlog + len(world.site.visible())
        assert store.scalar("SELECT count(*) - count(DISTINCT canonical_url) FROM posts") == 0
        assert store.scalar("SELECT count(*) - count(DISTINCT content_hash) FROM posts") == 0
        assert store.scalar("SELECT count(*) FROM posts_fts") == store.scalar("SELECT count(*) FROM posts")
        assert store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL") == 0
        scopes = store.query("SELECT kind, key, count(*) AS n FROM alerts WHERE state != 'resolved' GROUP BY 1, 2")
        assert scopes and all(row["n"] == 1 for row in scopes)
        assert store.query("SELECT state, count(*) AS n FROM deliveries WHERE kind = 'alert' GROUP BY 1") == [
            {"state": "sent", "n": 1}]
        assert store.scalar("SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL") <= 6  # only killed runs


def test_a_hanging_source_is_killed_at_its_timeout_and_the_others_keep_their_rhythm(world: World) -> None:
    timeout = 4.0
    world.site.delays["news"] = 120.0  # the news site accepts the connection and never answers
    config = world.write(sources={"news": f'timeout = "{timeout:g}s"'})
    daemon = world.daemon(config).start()
    started = time.time()
    try:
        time.sleep(24)
        hung = daemon.crawl_children()
        assert len(hung) <= 3
        # SIGTERM while the news crawl hangs: its child is stopped, the daemon exits 0
        code = daemon.stop(timeout=30)
        stopped = time.time()
    finally:
        if daemon.running():
            daemon.kill()
    assert code == 0, daemon.output()[-3000:]
    assert not [pid for pid in descendants(1) if "crawl-source" in cmdline(pid) and str(config) in cmdline(pid)]
    assert stopped - started < 24 + 15
    from yuqing.models import from_iso

    with Store(world.db, readonly=True) as store:
        news = store.query("SELECT started_at, finished_at, error FROM crawl_runs WHERE source = 'qingxi-news'"
                           " AND finished_at IS NOT NULL ORDER BY id")
        assert len(news) >= 2
        for run in news[:-1]:  # the last one may have been cut short by the SIGTERM
            assert run["error"] == f"timed out after {timeout:g}s"
            took = (from_iso(run["finished_at"]) - from_iso(run["started_at"])).total_seconds()
            assert timeout - 1 <= took <= timeout + 8, took  # killed at its timeout (+ the SIGTERM grace)
        for name in ("qingxi-forum", "qingxi-wenzheng"):
            runs = store.query("SELECT started_at, error FROM crawl_runs WHERE source = ? ORDER BY id", [name])
            starts = [from_iso(r["started_at"]).timestamp() for r in runs]
            gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
            assert len(runs) >= 3, (name, runs)
            assert all(r["error"] is None for r in runs[:-1])
            # on their own interval: never held up by the hanging source (one skipped beat at most)
            assert max(gaps) <= 2 * EVERY + 2, (name, gaps)
        health = {r["name"]: r for r in store.query("SELECT name, last_error, failures FROM sources")}
        assert health["qingxi-news"]["failures"] >= 2
        assert "timed out" in (health["qingxi-news"]["last_error"] or "") or health["qingxi-news"]["last_error"]


def test_demo_command_ends_with_an_alert_email_and_a_digest_page(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "yuqing", "demo", "--dir", str(folder), "--minutes", "1"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    alert_mails = list((folder / "outbox").glob("*-alert-*.eml"))
    assert len(alert_mails) == 1
    import email
    import email.policy

    message = email.message_from_bytes(alert_mails[0].read_bytes(), policy=email.policy.default)
    assert LEVEL_NAMES[EXPECTED_LEVEL] in str(message["Subject"])
    pages = list((folder / "digests").glob("*.html"))
    assert pages and "青溪县" in pages[0].read_text(encoding="utf-8")
    assert "INCIDENT" in out and "alert email:" in out and "digest page:" in out
    assert f"yuqing --config {folder / 'yuqing.toml'} serve" in out
    assert "Problem:" not in out
