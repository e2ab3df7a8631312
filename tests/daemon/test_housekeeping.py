"""Housekeeping: retention by config, statistics, VACUUM when due — on a real store file."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import itertools

from yuqing.daemon.housekeeping import housekeep
from yuqing.models import Post, utcnow

_ids = itertools.count()


def _posts(store, days_ago: list[int]) -> None:
    now = utcnow()
    posts = []
    for d in days_ago:
        i = next(_ids)
        posts.append(Post(url=f"http://127.0.0.1/p/{i}", source="s", title=f"青溪县第{i}条",
                          text=f"溪口镇 内容 {i} " * 50, published_at=now - timedelta(days=d)))
    new, _ = store.add_posts(posts)
    assert new == len(days_ago)
    with store.transaction():  # as the analysis stage does
        store.index_rows((p.id, p.title, p.text) for p in posts)


def test_retention_deletes_old_posts_and_their_index_rows(settings, store) -> None:
    _posts(store, [1, 2, 40, 50, 60])
    settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store, retention=30 * 86400.0))
    report = housekeep(settings, store)
    assert report["deleted_posts"] == 3
    assert store.count_posts() == 2
    assert store.scalar("SELECT count(*) FROM posts_fts") == 2
    assert store.scalar("SELECT min(ts) FROM posts") > (utcnow() - timedelta(days=30)).isoformat()
    state = json.loads(store.get_meta("housekeeping"))
    assert state["deleted_posts"] == 3 and state["last_run"]


def test_retention_zero_keeps_everything(settings, store) -> None:
    _posts(store, [1, 400, 4000])
    assert settings.store.retention == 0
    assert housekeep(settings, store)["deleted_posts"] == 0
    assert store.count_posts() == 3


def test_vacuum_when_due_and_worth_it_then_not_again_until_the_next_period(settings, store) -> None:
    _posts(store, [1] + [100] * 200)
    settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store, retention=30 * 86400.0))
    first = housekeep(settings, store)
    assert first["deleted_posts"] == 200 and first["vacuumed"]
    assert store.scalar("PRAGMA freelist_count") == 0
    # a day later: deleted rows leave free pages, but the last VACUUM is recent (vacuum_every = 7d)
    _posts(store, [100] * 50)
    later = housekeep(settings, store, now=utcnow() + timedelta(days=1))
    assert later["deleted_posts"] == 50 and not later["vacuumed"]
    assert store.scalar("PRAGMA freelist_count") > 0
    # a week after the first: due, and the free pages make it worth it
    week = housekeep(settings, store, now=utcnow() + timedelta(days=8))
    assert week["vacuumed"]
    assert store.scalar("PRAGMA freelist_count") == 0


def test_forced_vacuum_runs_and_the_store_stays_usable(settings, store) -> None:
    _posts(store, [1, 2])
    report = housekeep(settings, store, force_vacuum=True)
    assert report["vacuumed"]
    assert store.count_posts() == 2
    _posts(store, [3])
    assert store.count_posts() == 3
