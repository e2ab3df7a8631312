"""A mail server that trickles or never answers: each attempt ends at [alerts] send_timeout, the retry
counts from when it ended, and in the daemon analysis, detection and the digest go on meanwhile."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest

from tests.delivery.drip import DripServer
from yuqing import settings as settings_mod
from yuqing.delivery import outbox as delivery
from yuqing.models import Post, from_iso, utcnow
from yuqing.store import Store

HTML, TEXT = "<p>芦山县 负面舆情</p>", "芦山县 负面舆情"


@pytest.fixture
def drip():
    server = DripServer(every=1.0).start()
    yield server
    server.stop()


@pytest.fixture
def silent():
    server = DripServer(silent=True).start()
    yield server
    server.stop()


def _settings(write_config, url: str, timeout: str = "3s", extra: str = "") -> settings_mod.Settings:
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(url)}]
        send_timeout = "{timeout}"
        retry = "1m"
        {extra}
        """))


@pytest.mark.parametrize("kind", ["drip", "silent"])
def test_one_attempt_ends_at_the_deadline_and_retries_from_its_end(write_config, request, kind):
    server = request.getfixturevalue(kind)
    settings = _settings(write_config, server.mailto)
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="1:red", subject="红色预警", html=HTML, text=TEXT)
        started = utcnow()
        t0 = time.monotonic()
        assert delivery.deliver_pending(settings, store) == (0, 1)
        took = time.monotonic() - t0
        row = store.query("SELECT * FROM deliveries WHERE id = ?", [did])[0]
    assert 2.5 <= took < 6, took  # the deadline, not 30 s per read nor 150 s of trickle
    assert row["state"] == "pending" and row["attempts"] == 1
    assert "did not finish within 3s" in row["last_error"] and str(server.port) in row["last_error"]
    # the next retry counts from when the attempt ended (3 s after it started), not from its start
    retry_at = from_iso(row["next_attempt_at"])
    assert retry_at >= started + timedelta(minutes=1, seconds=2)


def test_many_messages_to_a_dead_server_cost_one_deadline_per_run(write_config, drip):
    settings = _settings(write_config, drip.mailto)
    with Store(settings.db_path) as store:
        for i in range(4):
            delivery.enqueue(store, settings, kind="alert", ref=f"{i}:red", subject="s", html=HTML, text=TEXT)
        t0 = time.monotonic()
        assert delivery.deliver_pending(settings, store) == (0, 1)
        assert time.monotonic() - t0 < 6
        rows = store.query("SELECT state, attempts FROM deliveries ORDER BY id")
    assert [r["attempts"] for r in rows] == [1, 0, 0, 0]  # the others wait, untouched
    assert {r["state"] for r in rows} == {"pending"}
    assert drip.connections == 1


def test_send_timeout_must_be_positive(write_config):
    from yuqing.errors import ConfigError

    with pytest.raises(ConfigError, match="alerts.send_timeout"):
        settings_mod.load(write_config('[alerts]\nsend_timeout = "0s"\n'))


def test_status_names_the_channel_and_its_last_error(write_config, drip):
    from yuqing.status import collect, render

    settings = _settings(write_config, drip.mailto)
    with Store(settings.db_path) as store:
        delivery.enqueue(store, settings, kind="alert", ref="1:red", subject="s", html=HTML, text=TEXT)
        delivery.deliver_pending(settings, store)
        report = collect(settings, store)
    [channel] = report["channels"]
    assert channel["name"] == delivery.channel_id(drip.mailto) and channel["waiting"] == 1
    assert "did not finish within 3s" in channel["last_error"]
    text = render(report)
    assert f"mailto://127.0.0.1:{drip.port}" in text and "did not finish within 3s" in text


def _posts(n: int, start: int = 0) -> list[Post]:
    return [Post(url=f"http://news.example/{start + i}", source="news", title=f"芦山县 第{start + i}条 停水",
                 text=f"芦山县 龙门乡 小区停水 {start + i} 天，居民不满", published_at=utcnow()) for i in range(n)]


def test_daemon_analyses_detects_and_builds_the_digest_while_the_mail_server_drips(write_config):
    server = DripServer(every=2.0).start()  # 24 bytes of banner: 48 s per attempt without a deadline
    try:
        settings = _settings(write_config, server.mailto, timeout="60s",
                             extra='[daemon]\ndeliver_every = "1s"\npipeline_every = "1h"\n')
        from yuqing.scheduler import Daemon

        with Store(settings.db_path) as store:
            delivery.enqueue(store, settings, kind="alert", ref="1:red", subject="s", html=HTML, text=TEXT)
        daemon = Daemon(settings)
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(daemon.run()))
        thread.start()
        try:
            until = time.monotonic() + 15
            while daemon.delivery.busy != "deliver" and time.monotonic() < until:
                time.sleep(0.05)
            assert daemon.delivery.busy == "deliver"  # stuck on the drip server
            with Store(settings.db_path) as store:
                store.add_posts(_posts(30))
            t0 = time.monotonic()
            daemon.request_pipeline("test")
            daemon.request_digest()
            with Store(settings.db_path) as store:
                until = time.monotonic() + 45
                while time.monotonic() < until:
                    done = store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL")
                    digest = store.scalar("SELECT count(*) FROM digests")
                    if done == 30 and digest and daemon.pipeline.wait_idle(0.1):
                        break
                    time.sleep(0.1)
                took = time.monotonic() - t0
                assert store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL") == 30
                assert store.scalar("SELECT count(*) FROM digests") == 1
            assert took < 45
            # ...and all of it while the delivery attempt was still held by the server
            assert daemon.delivery.busy == "deliver", took
        finally:
            stopped = time.monotonic()
            daemon.request_stop("test")
            thread.join(90)
        assert codes == [0]
        assert time.monotonic() - stopped < 20  # the attempt in flight is cut short, not waited for
        with Store(settings.db_path) as store:
            row = store.query("SELECT state, last_error FROM deliveries WHERE ref = '1:red'")[0]
        assert row["state"] == "pending" and "cut short: the daemon stopped" in (row["last_error"] or "")
    finally:
        server.stop()


def test_a_silent_webhook_ends_at_the_deadline_too(write_config, silent):
    url = f"json://127.0.0.1:{silent.port}/hook"
    settings = _settings(write_config, url, timeout="2s")
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="1:red", subject="s", html=HTML, text=TEXT)
        t0 = time.monotonic()
        assert delivery.deliver_pending(settings, store) == (0, 1)
        assert time.monotonic() - t0 < 3.5
        row = store.query("SELECT state, last_error FROM deliveries WHERE id = ?", [did])[0]
    assert row["state"] == "pending" and "did not answer within 2s" in row["last_error"]


def test_yuqing_deliver_against_a_drip_server_ends_in_seconds_in_words(write_config, drip):
    import subprocess
    import sys

    settings = _settings(write_config, drip.mailto)
    with Store(settings.db_path) as store:
        for i in range(3):
            delivery.enqueue(store, settings, kind="alert", ref=f"{i}:red", subject="s", html=HTML, text=TEXT)
    t0 = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "yuqing", "--config", settings.config_file, "deliver"],
                            capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    assert result.returncode == 1 and "0 sent, 1 failed" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and took < 15, took  # was 150 s of trickle
    status = subprocess.run([sys.executable, "-m", "yuqing", "--config", settings.config_file, "status"],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "3 undelivered" in status.stdout
    assert "did not finish within 3s" in status.stdout
