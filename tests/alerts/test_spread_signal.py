"""A post whose counts grow across three refreshes raises one spread alert (restart in the middle)."""

from __future__ import annotations

from datetime import timedelta

from yuqing.alerts import lifecycle
from yuqing.alerts.spread import detect
from yuqing.models import Post, utcnow
from yuqing.store import Store
from yuqing.store.engagement import observe, recent_urls, top_by_reach


def test_three_growing_refreshes_raise_one_spread_alert(settings, store) -> None:
    t0 = utcnow()
    post = Post(url="https://weibo.example/1", source="weibo", title="某县 桥塌了", text="桥塌了",
                fetched_at=t0, reposts=20, comments=5)
    other = Post(url="https://weibo.example/2", source="weibo", title="某县 天气", text="晴",
                 fetched_at=t0, reposts=3, comments=1)
    store.add_posts([post, other])
    fired = []
    for i, (rp, cm) in enumerate([(20, 5), (400, 80), (1800, 300)]):
        now = t0 + timedelta(minutes=20 * i)
        if i == 1:
            path = store.path
            store.close()
            store = Store(path)
        with store.transaction() as conn:
            observe(conn, post.canonical_url or post.url, now, {"reposts": rp, "comments": cm})
            observe(conn, other.canonical_url or other.url, now, {"reposts": 3 + i, "comments": 1})
        fired += lifecycle.apply(settings, store, detect(store.conn, now), now)
    assert [(a.kind, a.key) for a in fired] == [("spread", f"post:{post.id}")]
    assert fired[0].explanation["source"] == "weibo" and fired[0].explanation["gained_per_hour"] >= 500
    assert store.query("SELECT reposts, comments FROM posts WHERE id = ?", [post.id]) == [{"reposts": 1800, "comments": 300}]
    assert store.query("SELECT count(*) AS n FROM engagement_observations")[0]["n"] == 6
    assert top_by_reach(store.conn, t0 - timedelta(hours=1))[0]["id"] == post.id
    assert recent_urls(store.conn, "weibo", t0 + timedelta(hours=49), 48 * 3600) == []
    assert len(recent_urls(store.conn, "weibo", t0 + timedelta(hours=1), 48 * 3600)) == 2
