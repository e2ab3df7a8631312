"""留言: answered between two runs moves to 已回复; one unanswered past the deadline raises one alert."""

from __future__ import annotations

import json
from datetime import timedelta

from yuqing.alerts import lifecycle
from yuqing.alerts.liuyan import detect
from yuqing.models import Post, utcnow
from yuqing.store import Store
from yuqing.store.engagement import observe
from yuqing.store.liuyan import summary


def _msg(tid: str, title: str, at) -> Post:
    return Post(url=f"https://liuyan.example/thread?tid={tid}", source="liuyan", title=title, text=title,
                published_at=at, fetched_at=at, extra={"tid": tid, "forum": "某县人民政府", "answered": False})


def test_answered_between_runs_and_overdue_alert_once(settings, store) -> None:
    now = utcnow()
    old, fresh = _msg("1", "某县 路灯坏了一个月", now - timedelta(days=9)), _msg("2", "某县 噪音扰民", now - timedelta(days=1))
    store.add_posts([old, fresh])
    first = lifecycle.apply(settings, store, detect(store.conn, now, settings.liuyan.overdue), now)
    assert [(a.kind, a.key, a.level) for a in first] == [("liuyan", f"post:{old.id}", "blue")]
    path = store.path
    store.close()
    store = Store(path)  # restart
    later = now + timedelta(hours=2)
    with store.transaction() as conn:
        observe(conn, fresh.url, later, {}, {"answered": True, "state": "已回复", "reply_by": "某县住建局",
                                             "reply_at": later.isoformat()})
    assert lifecycle.apply(settings, store, detect(store.conn, later, settings.liuyan.overdue), later) == []
    assert json.loads(store.get_post_row(fresh.id)["extra"])["state"] == "已回复"
    assert store.query("SELECT count(*) AS n FROM alerts")[0]["n"] == 1
    digest = summary(store.conn, now - timedelta(days=30), later, 7 * 86400)
    assert digest["new"] == 2 and digest["answered"] == 1
    assert [r["id"] for r in digest["overdue"]["某县人民政府"]] == [old.id]
    with store.transaction() as conn:
        observe(conn, old.url, later, {}, {"answered": True, "reply_at": later.isoformat()})
    lifecycle.apply(settings, store, detect(store.conn, later, settings.liuyan.overdue), later)
    assert store.query("SELECT state FROM alerts") == [{"state": "resolved"}]


def test_only_the_boards_posts_are_read_when_named(settings, store) -> None:
    now = utcnow()
    old = _msg("9", "某县 下水道堵塞", now - timedelta(days=10))
    store.add_posts([old])
    assert detect(store.conn, now, settings.liuyan.overdue, ["weibo"]) == []  # not a board's post
    assert detect(store.conn, now, settings.liuyan.overdue, []) == []  # no board configured
    assert [f.key for f in detect(store.conn, now, settings.liuyan.overdue, ["liuyan"])] == [f"post:{old.id}"]
