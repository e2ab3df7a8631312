"""The queries of the #15 digest sections and the event trace on both backends: top posts by reach, an
event's observations and pickup order, per-source counts; 留言办理 says in the log that PostgreSQL
cannot answer it yet (json_extract) and the rest of the digest data stands."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from yuqing.digest import sections
from yuqing.models import Post
from yuqing.store import engagement
from yuqing.store import reports as q

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)


def _posts(store) -> list[int]:
    posts = [Post(url=f"https://example.org/{i}", source=src, title=f"芦山县大桥{i}", text=f"芦山县大桥裂缝{i}",
                  published_at=T0 + timedelta(hours=h), fetched_at=T0 + timedelta(hours=h), reposts=r)
             for i, (src, h, r) in enumerate([("weibo", 1, 5), ("news", 2, 0), ("weibo", 3, 50), ("tieba", 4, 1)])]
    store.add_posts(posts)
    ids = [int(p.id) for p in posts]  # type: ignore[arg-type]
    with store.transaction() as conn:
        conn.execute(f"UPDATE posts SET event_id = 7 WHERE id IN ({', '.join('?' * len(ids))})", ids)
        engagement.record(conn, ids[0], T0 + timedelta(hours=1), {"reposts": 5})
        engagement.observe(conn, "https://example.org/0", T0 + timedelta(hours=2, minutes=30), {"reposts": 500})
    return ids


def test_reach_and_trace_queries(settings, store, caplog):
    ids = _posts(store)
    top = engagement.top_by_reach(store.conn, T0, 10, until=T0 + timedelta(days=1))
    assert [(p["id"], p["reach"]) for p in top] == [(ids[0], 500), (ids[2], 50), (ids[3], 1)]
    assert [o[0] for o in engagement.event_observations(store.conn, 7, T0 + timedelta(days=1))] == [ids[0], ids[0]]
    assert [p["source"] for p in q.event_pickup(store, 7)] == ["weibo", "news", "tieba"]
    trace = sections.trace(settings, store, 7)
    assert trace is not None and [s["after"] for s in trace["pickup"]] == ["首发", "+1小时", "+3小时"]
    assert [p["reach"] for p in trace["curve"]] == [5, 500]
    assert sections.source_counts(store, T0, T0 + timedelta(days=1)) == {"weibo": 2, "news": 1, "tieba": 1}
    assert sections.liuyan(settings, store, T0, T0 + timedelta(days=1), T0 + timedelta(days=1)) is None  # no board


def test_liuyan_section_on_both(write_config, store, caplog):
    from yuqing import settings as settings_mod

    board = settings_mod.load(write_config('[[sources]]\nname = "board"\ntype = "liuyan"\nfid = "539"\n', name="b.toml"))
    with caplog.at_level(logging.WARNING):
        got = sections.liuyan(board, store, T0, T0 + timedelta(days=1), T0 + timedelta(days=1))
    # the same answer on both backends (the 留言 queries read extra with ->> on PostgreSQL)
    assert got is not None and (got["new"], got["answered"], got["overdue"]) == (0, 0, 0)
    assert "left out" not in caplog.text
