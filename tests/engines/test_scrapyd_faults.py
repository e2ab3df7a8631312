"""scrapyd faults: a node lost mid-job, a daemon shutdown, a job that fails, deploy/status from the CLI."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import LocalSite, Response, free_port
from tests.engines.conftest import ScrapydNode, start_scrapyd
from tests.engines.test_scrapyd import feed_source, health, write
from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.crawlers import runner
from yuqing.crawlers.engines import payload
from yuqing.crawlers.engines import scrapyd as engine
from yuqing.crawlers.engines.project import deploy
from yuqing.crawlers.runner import crawl_one, crawl_sources
from yuqing.store import Store

GOOD = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>芦山县停水通知</title><link>/good/1</link><description>龙门乡明日停水</description></item>"
        "</channel></rss>")


def slow_site() -> LocalSite:
    site = LocalSite().start()
    site.routes["/good.xml"] = Response(GOOD, content_type="application/rss+xml")
    site.routes["/slow.xml"] = Response(GOOD, content_type="application/rss+xml", delay=30)
    return site


def when_requested(site: LocalSite, path: str, then, timeout: float = 60) -> threading.Thread:
    def wait() -> None:
        deadline = time.monotonic() + timeout
        while not any(p == path for _, p in site.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        then()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def test_a_node_lost_mid_job_is_an_error_in_words_and_the_next_source_goes_on(tmp_path, deployed, monkeypatch):
    victim = start_scrapyd(tmp_path / "victim")
    assert deploy([victim.url])[0].ok
    monkeypatch.setattr(engine, "LOST_AFTER", 2.0)
    monkeypatch.setattr(engine.SCRAPYD, "_turn", 0)  # the first run goes to the victim, the next to the other
    site = slow_site()
    try:
        sources = feed_source("slow", f"{site.url}/slow.xml") + feed_source("good", f"{site.url}/good.xml")
        settings = settings_mod.load(write(tmp_path / "yuqing.toml", sources, engine="scrapyd",
                                           nodes=[victim.url, deployed.url], request_timeout="60s"))
        when_requested(site, "/slow.xml", lambda: os.killpg(victim.proc.pid, signal.SIGKILL))
        slow, good = crawl_sources(settings, workers=1)
    finally:
        victim.stop()
        site.stop()
    assert slow.error.startswith("lost the crawl job slow-")
    assert slow.error.endswith(f"scrapyd node {victim.url} is not answering: connection refused")
    assert slow.errors == 1 and not slow.stopped
    assert (good.new, good.error) == (1, None)
    assert health(settings)["slow"][:2] == (slow.error, 1)


def test_a_shutdown_cancels_the_job_and_records_it_as_stopped(tmp_path, deployed):
    site = slow_site()
    try:
        settings = settings_mod.load(write(tmp_path / "yuqing.toml", feed_source("slow", f"{site.url}/slow.xml"),
                                           engine="scrapyd", nodes=[deployed.url], request_timeout="60s"))
        results = []
        crawl = threading.Thread(target=lambda: results.append(crawl_one(settings, "slow")))
        crawl.start()
        waiter = when_requested(site, "/slow.xml", lambda: None)
        waiter.join()
        started = time.monotonic()
        runner.stop_children(grace=3)
        crawl.join(timeout=30)
        took = time.monotonic() - started
    finally:
        site.stop()
    [stats] = results
    assert stats.stopped and stats.error == "stopped: the daemon shut down"
    assert took < 3 + 3 + 5
    last_error, failures, _, runs = health(settings)["slow"]
    assert (last_error, failures, runs) == (None, 0, 1)  # a shutdown is not the source's failure
    with Store(settings.db_path) as store:
        assert store.runs("slow")[0]["error"] == "stopped: the daemon shut down"


def test_a_job_that_fails_on_the_node_says_why(tmp_path, deployed, monkeypatch):
    # a node whose yuqing cannot read what it is sent (here: a job without its source)
    monkeypatch.setattr(payload, "encode", lambda settings, source: json.dumps({"locality": {"name": "芦山县"}}))
    settings = settings_mod.load(write(tmp_path / "yuqing.toml", feed_source("a", "http://127.0.0.1:9/f.xml"),
                                       engine="scrapyd", nodes=[deployed.url]))
    stats = crawl_one(settings, "a")
    assert stats.error.startswith("crawl job a-") and f"failed on scrapyd node {deployed.url}: " in stats.error
    assert stats.error.endswith("ConfigError: sources: a job crawls exactly one source"), stats.error
    assert stats.errors == 1


def test_deploy_and_status_from_the_cli(tmp_path, scrapyd_node: ScrapydNode):
    down = f"http://127.0.0.1:{free_port()}"
    config = write(tmp_path / "yuqing.toml", feed_source("a", "http://127.0.0.1:9/f.xml"), engine="scrapyd",
                   nodes=[scrapyd_node.url, down])
    result = CliRunner().invoke(cli, ["--config", str(config), "scrapyd", "deploy"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{scrapyd_node.url}: deployed yuqing (version 1")
    assert lines[1] == f"{down}: FAILED — scrapyd node {down} is not answering: connection refused"
    version = lines[0].rsplit(" ", 1)[-1].rstrip(")")

    result = CliRunner().invoke(cli, ["--config", str(config), "scrapyd", "status"])
    assert result.exit_code == 1
    assert f"{scrapyd_node.url}: up, yuqing (version {version}); jobs pending 0, running 0" in result.output
    assert f"{down}: DOWN — scrapyd node {down} is not answering: connection refused" in result.output

    result = CliRunner().invoke(cli, ["--config", str(config), "scrapyd", "deploy", "--node", scrapyd_node.url])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1
    result = CliRunner().invoke(cli, ["--config", str(config), "scrapyd", "deploy", "--node", "localhost:6800"])
    assert result.exit_code == 2 and "--node: expected a scrapyd node like 'http://127.0.0.1:6800'" in result.output


def test_no_nodes_anywhere_exits_2(tmp_path):
    config = write(tmp_path / "yuqing.toml", feed_source("a", "http://127.0.0.1:9/f.xml"))
    result = CliRunner().invoke(cli, ["--config", str(config), "scrapyd", "status"])
    assert result.exit_code == 2
    assert "no scrapyd node: list them in [crawl] scrapyd, or give --node http://HOST:6800" in result.output


def test_a_bare_node_refuses_jobs_until_deployed(tmp_path: Path):
    bare = start_scrapyd(tmp_path / "bare")
    try:
        settings = settings_mod.load(write(tmp_path / "yuqing.toml", feed_source("a", "http://127.0.0.1:9/f.xml"),
                                           engine="scrapyd", nodes=[bare.url]))
        stats = crawl_one(settings, "a")
    finally:
        bare.stop()
    assert stats.error == (f"cannot schedule the crawl: scrapyd node {bare.url} refused schedule.json: "
                           "project 'yuqing' not found (run `yuqing scrapyd deploy`?)")


def test_the_daemon_crawls_through_scrapyd_and_cancels_its_jobs_when_it_stops(tmp_path, deployed):
    import subprocess
    import sys
    import urllib.request

    site = slow_site()
    try:
        sources = (feed_source("good", f"{site.url}/good.xml") + feed_source("slow", f"{site.url}/slow.xml"))
        config = write(tmp_path / "yuqing.toml", sources, engine="scrapyd", nodes=[deployed.url],
                       request_timeout="60s")
        daemon = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "run", "--for", "20s"],
                                check=False, capture_output=True, text=True, timeout=120)
    finally:
        site.stop()
    assert daemon.returncode == 0, daemon.stdout + daemon.stderr
    settings = settings_mod.load(config)
    with Store(settings.db_path) as store:
        assert [p["title"] for p in store.query("SELECT title FROM posts WHERE source = 'good'")] == ["芦山县停水通知"]
        assert store.runs("good")[0]["error"] is None
        assert store.runs("slow")[0]["error"] == "stopped: the daemon shut down"
    with urllib.request.urlopen(f"{deployed.url}/listjobs.json?project=yuqing", timeout=5) as response:
        jobs = json.loads(response.read())
    assert not [j for j in jobs["running"] + jobs["pending"] if j["id"].startswith("slow-")]  # cancelled on the node
