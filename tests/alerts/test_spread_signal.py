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


def test_an_events_posts_growing_together_raise_one_event_alert_and_a_lone_fast_post_only_its_own(
        settings, store) -> None:
    t0 = utcnow()
    with store.transaction() as conn:
        for title in ("某县 桥塌了", "某县 停电"):
            conn.execute("INSERT INTO events(title, size, negative, first_seen, last_seen, sources, keywords, updated_at)"
                         " VALUES (?, 2, 0, ?, ?, '[]', '[]', ?)", (title, t0.isoformat(), t0.isoformat(), t0.isoformat()))
    bridge, power = (r["id"] for r in store.query("SELECT id FROM events ORDER BY id"))
    posts = [Post(url=f"https://weibo.example/{n}", source=src, title=f"某县 帖{n}", text=f"正文{n}", fetched_at=t0)
             for n, src in enumerate(["weibo", "news", "weibo", "news"])]
    store.add_posts(posts)
    with store.transaction() as conn:
        for p, ev in zip(posts, [bridge, bridge, power, power], strict=True):
            conn.execute("UPDATE posts SET event_id = ? WHERE id = ?", (ev, p.id))
    # reposts of posts 0-3 at three refreshes: 0 and 1 gain 290 each (under 500, together 580);
    # post 2 is fast alone, and post 3 growing by 3 does not make its event a second alert
    steps = [(10, 10, 40, 5), (150, 160, 900, 6), (300, 300, 2000, 8)]
    fired = []
    for i, step in enumerate(steps):
        now = t0 + timedelta(minutes=20 * i)
        with store.transaction() as conn:
            for p, reposts in zip(posts, step, strict=True):
                observe(conn, p.canonical_url or p.url, now, {"reposts": reposts, "comments": 0})
        fired += lifecycle.apply(settings, store, detect(store.conn, now), now)
    assert sorted(a.key for a in fired) == [f"event:{bridge}", f"post:{posts[2].id}"]
    ex = next(a for a in fired if a.key.startswith("event:")).explanation
    assert (ex["from"], ex["to"], ex["gained_per_hour"], ex["posts"]) == (20, 600, 580, 2)
    assert ex["sources"] == [["news", 1], ["weibo", 1]]
    assert [p["id"] for p in ex["top_posts"]] == [posts[0].id, posts[1].id]
    assert lifecycle.apply(settings, store, detect(store.conn, t0 + timedelta(minutes=50)),
                           t0 + timedelta(minutes=50)) == []  # once
