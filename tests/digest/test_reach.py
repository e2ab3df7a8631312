"""传播 in the digest: top posts by reach as last counted, and each event's reach curve summed per hour."""

from __future__ import annotations

from tests.digest.populate import DAY, HOSTILE_TITLE, _add, _event, at
from yuqing.digest import builder, render
from yuqing.models import Post
from yuqing.store.engagement import observe, record


def _bridge(dstore) -> tuple[int, int, int]:
    event = _event(dstore, "芦山县大桥出现裂缝", at(DAY, 8), at(DAY, 11), ["大桥", "裂缝"])
    a = _add(dstore, Post(url="https://weibo.example/1", source="tieba-lushan", title="芦山县大桥出现裂缝",
                          text="芦山县大桥桥面出现裂缝，过往车辆很多", published_at=at(DAY, 8), fetched_at=at(DAY, 8, 10),
                          reposts=5, comments=3, likes=2), "negative", 0.9, ["交通出行"], event)
    b = _add(dstore, Post(url="https://weibo.example/2", source="county-news", title="大桥裂缝后续",
                          text="芦山县大桥已封闭检测", published_at=at(DAY, 9, 30), fetched_at=at(DAY, 9, 40)),
             "neutral", 0.2, ["交通出行"], event)
    with dstore.transaction() as conn:
        record(conn, a, at(DAY, 8, 10), {"reposts": 5, "comments": 3, "likes": 2})
        observe(conn, "https://weibo.example/1", at(DAY, 9, 20), {"reposts": 60, "comments": 30, "likes": 10})
        record(conn, b, at(DAY, 9, 40), {"reposts": 20, "comments": 20, "likes": 10})
        observe(conn, "https://weibo.example/2", at(DAY, 10, 30), {"reposts": 30, "comments": 20, "likes": 10})
        observe(conn, "https://weibo.example/1", at(DAY, 11, 5), {"reposts": 1500, "comments": 500, "likes": 1000})
    return event, a, b


def test_reach_curve_sums_each_posts_last_count_per_hour(dsettings, dstore, populated):
    event, a, _ = _bridge(dstore)
    data = builder.collect(dsettings, dstore, DAY)
    (e,) = [e for e in data["events"] if e["id"] == event]
    assert [(p["label"], p["reach"]) for p in e["reach_curve"]] == [
        ("01日08时", 10), ("01日09时", 150), ("01日10时", 160), ("01日11时", 3060)]
    water = next(e for e in data["events"] if e["id"] == populated.events["water"])
    assert water["reach_curve"] == []  # its posts were never counted again: no curve
    page = render.page(data, base="")
    assert page.count("传播量（转评赞，按小时）</title>") == 1 and "芦山县大桥出现裂缝 传播量" in page
    assert "<svg" not in render.email_html(data, base="http://x")

    top = data["reach"]
    assert top[0]["id"] == a and top[0]["reach"] == 3000  # the current counts, not the first ones
    assert (top[0]["reposts"], top[0]["comments"], top[0]["likes"]) == (1500, 500, 1000)
    assert top[1]["title"] == HOSTILE_TITLE and top[1]["reach"] == 1250
    assert [p["reach"] for p in top] == sorted((p["reach"] for p in top), reverse=True)
    assert len(top) <= dsettings.digest.top
    for html in (page, render.email_html(data, base="http://x")):
        section = html[html.index("传播</h2>"):html.index("负面信息</h2>")]
        assert "芦山县大桥出现裂缝" in section and "3000" in section
        assert 'href="https://weibo.example/1"' in section
        assert "&lt;script&gt;" in section and "<script>" not in section and "javascript:" not in section
    text = render.text(data, base="http://x")
    assert "【传播】" in text and "转评赞 3000（转 1500 · 评 500 · 赞 1000） https://weibo.example/1" in text
