"""Source-health alerts from the store's run records: failing, login problems, silence, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.models import CrawlStats, utcnow
from yuqing.store import Store


@pytest.fixture
def setup(write_config):
    settings = settings_mod.load(write_config("""
        [[sources]]
        name = "forum"
        type = "feed"
        url = "http://127.0.0.1:9/feed.xml"
        every = "15m"

        [[sources]]
        name = "weibo"
        type = "weibo"

        [alerts]
        outbox = "outbox"
        source_failures = 3
        source_silence = 8
        """))
    store = Store(settings.db_path)
    store.sync_sources(settings.sources)
    yield settings, store
    store.close()


def _run(store, name, at, *, new=0, error=None):
    store.finish_run(None, CrawlStats(source=name, new=new, error=error, started_at=at, finished_at=at))


def _source_alerts(changed):
    return {a.key: a for a in changed if a.kind == "source"}


def test_failing_runs_in_a_row_then_recovery(setup):
    settings, store = setup
    now = utcnow()
    for i in range(2):
        _run(store, "forum", now - timedelta(minutes=30 - i), error="HTTP 503 from http://127.0.0.1:9/feed.xml")
    assert _source_alerts(detector.detect(settings, store, now)) == {}
    _run(store, "forum", now - timedelta(minutes=1), error="HTTP 503 from http://127.0.0.1:9/feed.xml")
    alert = _source_alerts(detector.detect(settings, store, now))["forum"]
    assert alert.level == "blue" and alert.title == "数据源「forum」"
    assert "连续 3 次抓取失败" in alert.explanation["problem"] and "HTTP 503" in alert.explanation["problem"]
    deliveries = store.query("SELECT subject FROM deliveries")
    assert len(deliveries) == 1 and "forum" in deliveries[0]["subject"]
    for i in range(3):
        _run(store, "forum", now + timedelta(minutes=i), error="HTTP 503")
    escalated = _source_alerts(detector.detect(settings, store, now + timedelta(minutes=5)))["forum"]
    assert escalated.level == "yellow" and escalated.state == "escalated"
    _run(store, "forum", now + timedelta(minutes=10), new=4)
    resolved = _source_alerts(detector.detect(settings, store, now + timedelta(minutes=11)))["forum"]
    assert resolved.state == "resolved"


def test_login_problem_is_yellow_at_once(setup):
    settings, store = setup
    _run(store, "weibo", utcnow(), error="login required: m.weibo.cn redirected to passport (cookie expired?)")
    alert = _source_alerts(detector.detect(settings, store))["weibo"]
    assert alert.level == "yellow" and "Cookie" in alert.explanation["problem"]


def test_silence_far_longer_than_usual(setup):
    settings, store = setup
    start = utcnow() - timedelta(days=3)
    for i in range(10):  # new posts every hour or so
        _run(store, "forum", start + timedelta(hours=i), new=3)
    last = start + timedelta(hours=9)
    for k in range(1, 40):  # then runs succeed with nothing new
        _run(store, "forum", last + timedelta(minutes=15 * k))
    assert _source_alerts(detector.detect(settings, store, last + timedelta(hours=6))) == {}
    alert = _source_alerts(detector.detect(settings, store, last + timedelta(hours=9)))["forum"]
    assert alert.level == "blue" and "没有新帖" in alert.explanation["problem"]


def test_disabled_source_is_not_watched(write_config):
    settings = settings_mod.load(write_config("""
        [[sources]]
        name = "old"
        type = "feed"
        url = "http://127.0.0.1:9/x.xml"
        enabled = false
        [alerts]
        outbox = "outbox"
        """))
    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources)
        for _ in range(5):
            _run(store, "old", utcnow(), error="HTTP 404")
        assert detector.detect(settings, store) == []


def _pages_run(store, name, at, *, pages, fetched, new=0, error=None):
    store.finish_run(None, CrawlStats(source=name, pages=pages, fetched=fetched, new=new, error=error,
                                      started_at=at, finished_at=at))


def test_pages_fetched_but_no_post_parsed_runs_in_a_row_raise_the_alert(setup):
    settings, store = setup
    now = utcnow()
    _pages_run(store, "forum", now - timedelta(hours=2), pages=1, fetched=20, new=5)  # it used to give posts
    for i in range(2):
        _pages_run(store, "forum", now - timedelta(minutes=40 - 15 * i), pages=1, fetched=0)
    assert _source_alerts(detector.detect(settings, store, now)) == {}  # two are not yet "several"
    _pages_run(store, "forum", now - timedelta(minutes=1), pages=1, fetched=0)
    alert = _source_alerts(detector.detect(settings, store, now))["forum"]
    assert alert.level == "blue"
    assert "fetched 3 pages, parsed 0 posts: layout changed?" in alert.explanation["problem"]
    assert "页面结构可能已改变" in alert.explanation["problem"]
    # the layout is fixed (or the selectors are): posts come again and the alert resolves
    _pages_run(store, "forum", now + timedelta(minutes=10), pages=1, fetched=20, new=2)
    assert _source_alerts(detector.detect(settings, store, now + timedelta(minutes=11)))["forum"].state == "resolved"


def test_parsing_nothing_is_no_alert_for_a_source_that_never_gave_posts_or_an_error_run(setup):
    settings, store = setup
    now = utcnow()
    for i in range(4):  # a new source whose search has simply found nothing yet
        _pages_run(store, "forum", now - timedelta(minutes=60 - 15 * i), pages=1, fetched=0)
    assert _source_alerts(detector.detect(settings, store, now)) == {}
    _pages_run(store, "weibo", now - timedelta(hours=3), pages=2, fetched=10, new=1)
    _pages_run(store, "weibo", now - timedelta(minutes=30), pages=1, fetched=0)
    _pages_run(store, "weibo", now - timedelta(minutes=20), pages=0, fetched=0, error="HTTP 502 from x")
    _pages_run(store, "weibo", now - timedelta(minutes=10), pages=1, fetched=0)
    assert _source_alerts(detector.detect(settings, store, now)) == {}  # the streak was broken
    # all duplicates is still reading posts: nothing new is not "parsed 0"
    for i in range(3):
        _pages_run(store, "weibo", now - timedelta(minutes=5 - i), pages=1, fetched=10)
    assert _source_alerts(detector.detect(settings, store, now)) == {}
