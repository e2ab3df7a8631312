"""The digest's 留言办理: counted per department as of the day's end, oldest overdue first, escaped and filtered."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.digest.populate import DAY, HOSTILE_TITLE, HOSTILE_URL, at
from yuqing.digest import builder, render
from yuqing.models import Post
from yuqing.store.engagement import observe


def _msg(tid: str, title: str, when, url: str | None = None, forum: str = "芦山县委书记") -> Post:
    return Post(url=url or f"https://liuyan.people.com.cn/threads/content?tid={tid}", source="liuyan", title=title,
                text=title, published_at=when, fetched_at=when,
                extra={"tid": tid, "forum": forum, "state": "未回复", "answered": False})


def test_liuyan_section_counts_as_of_the_days_end(dsettings, dstore, populated):
    end = at(DAY + timedelta(days=1), 0)
    hostile = _msg("1", HOSTILE_TITLE, end - timedelta(days=20), url=HOSTILE_URL + "//liuyan")
    old = _msg("2", "芦山县飞仙关乡自来水浑浊", end - timedelta(days=10), forum="芦山县长")
    today = _msg("3", "芦山县城区停车难", at(DAY, 9))
    answered_today = _msg("4", "芦山县医院挂号难", end - timedelta(days=12))
    answered_later = _msg("5", "芦山县学校门口拥堵", end - timedelta(days=8))
    dstore.add_posts([hostile, old, today, answered_today, answered_later])
    with dstore.transaction() as conn:
        observe(conn, answered_today.url, at(DAY, 15), {}, {"answered": True, "state": "已回复",
                                                           "reply_by": "芦山县卫健局", "reply_at": at(DAY, 15).isoformat()})
        # replied after the day: on that day it was still waiting, so the day's digest lists it
        observe(conn, answered_later.url, end + timedelta(days=2), {},
                {"answered": True, "reply_by": "芦山县教育局", "reply_at": (end + timedelta(days=2)).isoformat()})
    data = builder.collect(dsettings, dstore, DAY)
    got = data["liuyan"]
    assert (got["new"], got["answered"], got["overdue"]) == (1, 1, 3)
    assert [(r["title"], r["days"]) for r in got["oldest"]] == [
        (HOSTILE_TITLE, 20), ("芦山县飞仙关乡自来水浑浊", 10), ("芦山县学校门口拥堵", 8)]
    by = {d["name"]: d for d in got["departments"]}
    assert by["芦山县卫健局"]["answered"] == 1 and by["芦山县委书记"]["new"] == 1
    assert by["芦山县长"]["overdue"] == 1
    assert got["departments"][0]["overdue"] == max(d["overdue"] for d in got["departments"])  # most overdue first

    for name, html in {"page": render.page(data, base="http://x"), "email": render.email_html(data, base="http://x")}.items():
        assert "<h2" in html and "留言办理</h2>" in html, name
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;" in html, name
        assert "javascript:" not in html, name
        assert 'href="https://liuyan.people.com.cn/threads/content?tid=2"' in html, name
        assert html.index("&lt;script&gt;alert") < html.index("芦山县飞仙关乡自来水浑浊") < html.index("芦山县学校门口拥堵")
    text = render.text(data, base="http://x")
    assert "超过 7 天未回复 3 条" in text and "芦山县飞仙关乡自来水浑浊 —— 已等待 10 天，芦山县长" in text
    assert "javascript:" not in text


def test_no_liuyan_source_and_no_messages_leaves_the_section_out(dconfig, tmp_path):
    from yuqing.store import Store

    settings = dconfig()
    with Store(tmp_path / "bare.db") as store:  # no liuyan source configured, no message stored
        plain = replace(settings, sources=tuple(s for s in settings.sources if s.type != "liuyan"))
        data = builder.collect(plain, store, DAY)
        assert data["liuyan"] is None
        assert "留言办理" not in render.page(data, base="") and "留言办理" not in render.text(data, base="")


def test_a_digest_stored_before_these_sections_still_renders(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    for key in ("liuyan", "reach"):
        data.pop(key)
    data["health"].pop("coverage")
    for e in data["events"]:
        e.pop("reach_curve")
    for html in (render.page(data, base=""), render.email_html(data, base="http://x")):
        assert "留言办理</h2>" not in html and "传播</h2>" not in html and "来源状态</h2>" in html
    assert "【传播】" not in render.text(data, base="http://x")
