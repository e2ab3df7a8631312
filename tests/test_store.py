"""The store: migrations, WAL, dedupe, run health, and Chinese full-text search."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from yuqing.errors import StoreError
from yuqing.models import CrawlStats, Post
from yuqing.store import SCHEMA_VERSION, Store


def _add(store: Store, posts: list[Post]) -> tuple[int, int]:
    """Store posts and index them for search, as crawl + analysis do."""
    result = store.add_posts(posts)
    with store.transaction():
        store.index_rows((p.id, p.title, p.text) for p in posts if p.id is not None)
    return result


def _post(n: int, title: str, text: str = "", source: str = "news", **kw) -> Post:
    return Post(url=f"http://127.0.0.1/p/{n}", source=source, title=title, text=text, **kw)


def test_new_store_is_migrated_and_in_wal(tmp_path):
    st = Store(tmp_path / "sub" / "y.db")
    assert st.version == SCHEMA_VERSION
    assert st.scalar("PRAGMA journal_mode") == "wal"
    assert st.scalar("PRAGMA busy_timeout") == 30000
    assert st.migrate() == 0  # idempotent
    st.close()


def test_store_newer_than_code_is_refused(tmp_path):
    path = tmp_path / "y.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this yuqing"):
        Store(path)


def test_readonly_store_must_exist(tmp_path):
    with pytest.raises(StoreError, match="yuqing init"):
        Store(tmp_path / "none.db", readonly=True)


def test_not_a_database(tmp_path):
    path = tmp_path / "y.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(path)


def test_dedupe_by_canonical_url_then_content(store):
    a = _post(1, "芦山县城区停水通知", "明日停水")
    new, dup = store.add_posts([a])
    assert (new, dup) == (1, 0) and a.id is not None
    # same URL again, and the same words under another URL: both duplicates
    again = _post(1, "芦山县城区停水通知", "明日停水")
    mirror = Post(url="http://127.0.0.1/mirror/9", source="other", title="芦山县城区停水通知", text="明日 停水")
    assert store.add_posts([again, mirror]) == (0, 2)
    assert store.count_posts() == 1


def test_failed_batch_leaves_nothing(store):
    good = _post(1, "芦山 好消息")
    bad = _post(2, "芦山 坏数据")
    bad.extra = {"x": object()}  # cannot be stored as JSON
    with pytest.raises(TypeError):
        store.add_posts([good, bad])
    assert store.count_posts() == 0


def test_runs_record_health_in_words(store):
    ok = CrawlStats(source="news", fetched=10, matched=4, new=3, duplicates=1)
    store.finish_run(store.start_run("news"), ok)
    bad = CrawlStats(source="news", errors=1, error="HTTP 403 from http://127.0.0.1/feed")
    store.finish_run(store.start_run("news"), bad)
    store.finish_run(None, bad)
    (row,) = store.sources_health()
    assert row["last_error"] == "HTTP 403 from http://127.0.0.1/feed"
    assert row["failures"] == 2 and row["runs"] == 3 and row["posts"] == 3
    assert row["last_ok_at"] is not None
    store.finish_run(None, ok)
    (row,) = store.sources_health()
    assert row["last_error"] is None and row["failures"] == 0 and row["last_new"] == 3


TEXTS = [
    ("芦山县飞仙关镇小区停水三天没人管", "居民反映停水已经三天，物业和自来水公司互相推诿。"),
    ("龙门乡道路施工", "施工期间请绕行。"),
    ("芦山县人民医院新院区开诊", "新院区位于县城东侧。"),
    ("芦山县教育局公布招生方案", "今年秋季学期招生工作启动。"),
    ("县城东区计划停电通知", "因线路检修，周六停电八小时。"),
]


def test_chinese_full_text_search_hits_two_character_words(store):
    _add(store, [_post(i, t, x) for i, (t, x) in enumerate(TEXTS)])
    cases = {"停水": 1, "停电": 1, "芦山县": 3, "招生": 1, "医院": 1, "施工": 1, "物业": 1, "推诿": 1}
    for query, expected in cases.items():
        hits = store.search(query)
        assert len(hits) == expected, (query, [h.post.title for h in hits])
    assert [h.post.title for h in store.search("停水 物业")] == [TEXTS[0][0]]
    assert store.search("不存在的词") == []
    assert store.search("   ") != []  # an empty query lists everything (filters only)
    assert store.search('"; DROP TABLE posts; --') == []
    assert store.count_posts() == len(TEXTS)


def test_posts_are_searchable_once_indexed(store):
    post = _post(1, "芦山县城区停水通知")
    store.add_posts([post])
    assert store.search("停水") == []  # not analysed yet
    with store.transaction():
        store.index_rows([(post.id, post.title, "明日恢复供水")])
        store.index_rows([(post.id, post.title, "明日恢复供水")])  # re-analysis replaces, never doubles
    assert [h.post.id for h in store.search("停水")] == [post.id]
    assert store.scalar("SELECT count(*) FROM posts_fts") == 1


def test_search_filters(store):
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    _add(store, [
        _post(1, "芦山停水", source="a", published_at=now - timedelta(days=2)),
        _post(2, "芦山停水又来了", source="b", published_at=now),
    ])
    assert [h.post.source for h in store.search("停水", source="a")] == ["a"]
    assert [h.post.source for h in store.search("停水", since=now - timedelta(hours=1))] == ["b"]
    store.conn.execute("UPDATE posts SET label='negative', topics='[\"水电气民生\"]' WHERE source='b'")
    assert [h.post.source for h in store.search("", label="negative")] == ["b"]
    assert [h.post.source for h in store.search("", topic="水电气民生")] == ["b"]


def test_retention_removes_posts_and_index(store):
    old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    _add(store, [_post(1, "芦山停水 旧闻", published_at=old), _post(2, "芦山停水 新闻")])
    assert store.delete_posts_before(datetime(2021, 1, 1, tzinfo=timezone.utc)) == 1
    assert [h.post.title for h in store.search("停水")] == ["芦山停水 新闻"]
    assert store.scalar("SELECT count(*) FROM posts_fts") == 1


def test_search_agrees_with_index_whatever_words_analysis_added(store):
    """The analysis tokenizer learns place names; the index and its queries must not drift apart."""
    from yuqing.analysis import segment

    _add(store, [_post(1, "龙门乡青龙场村道路塌方", "飞仙关镇也有报告")])
    segment.add_words(["龙门乡", "青龙场村", "飞仙关镇"])
    _add(store, [_post(2, "龙门乡青龙场村又塌方了", "")])
    for query in ("龙门乡", "青龙场", "飞仙关", "塌方"):
        assert len(store.search(query)) == (1 if query == "飞仙关" else 2), query
