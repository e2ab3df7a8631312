"""The locality on a hot list, end to end on loopback: crawl child -> snapshot -> detect -> case -> email."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.conftest import Response
from tests.signals.conftest import crawl, detect, rows
from yuqing.models import utcnow

SOURCE = """
[[sources]]
name = "weibo-hot"
title = "微博热搜"
type = "hotlist"
url = "{url}/hot"
list_path = "data.realtime"
fields = {{ title = "word", heat = "num", url = "link" }}
"""

ENTRY = {"word": "芦山县化工厂起火", "num": "52.1万", "link": "https://s.weibo.example/weibo?q=%23芦山县化工厂起火%23"}


def hot_list(with_locality_at: int | None) -> bytes:
    entries = [{"word": f"热点话题{i}", "num": 100_000 - i, "link": f"https://s.weibo.example/weibo?q={i}"}
               for i in range(1, 31)]
    if with_locality_at is not None:
        entries.insert(with_locality_at - 1, ENTRY)
        entries.pop()
    return json.dumps({"ok": 1, "data": {"realtime": entries}}, ensure_ascii=False).encode("utf-8")


def test_rank_8_opens_one_red_case_in_one_poll_and_a_return_within_the_cooldown_is_not_a_second(
        site, configure) -> None:
    settings = configure(SOURCE.format(url=site.url))
    assert settings.sources[0].every == 600  # a hot list is polled every 10 minutes by default
    served = {"at": None}
    site.routes["/hot"] = lambda path, headers, body: Response(hot_list(served["at"]),
                                                               content_type="application/json")

    crawl(settings, "weibo-hot")
    assert detect(settings) == []
    served["at"] = 8
    stats = crawl(settings, "weibo-hot")
    assert stats.new == 1  # the entry naming the locality is kept as a post (the daemon detects at once)
    opened = detect(settings)  # one poll
    assert [(a.kind, a.level) for a in opened] == [("hotlist", "red")]
    alert = opened[0]
    assert alert.explanation["rank"] == 8 and alert.explanation["heat"] == 521000
    assert [p["rank"] for p in alert.explanation["trajectory"]] == [8]
    post = alert.explanation["top_posts"][0]
    assert post["title"] == "芦山县化工厂起火" and post["source"] == "weibo-hot"
    cases = rows(settings, "SELECT id, level, title FROM cases")
    assert [(c["level"], c["title"]) for c in cases] == [("red", "芦山县化工厂起火")]
    mails = rows(settings, "SELECT subject, text FROM deliveries")
    assert len(mails) == 1 and "红色" in mails[0]["subject"] and "登上 微博热搜 热榜第 8 位" in mails[0]["text"]
    assert "weibo-hot" not in mails[0]["subject"] + mails[0]["text"]  # people read the source's title
    assert alert.explanation["source"] == "weibo-hot" and alert.title.startswith("微博热搜 热榜第8位")

    served["at"] = None  # drops out ...
    crawl(settings, "weibo-hot")
    assert detect(settings) == []
    served["at"] = 3  # ... and comes back within the cooldown
    crawl(settings, "weibo-hot")
    assert detect(settings) == []
    assert rows(settings, "SELECT count(*) AS n FROM cases")[0]["n"] == 1
    assert rows(settings, "SELECT count(*) AS n FROM deliveries")[0]["n"] == 1
    state = rows(settings, "SELECT state, explanation FROM alerts WHERE kind = 'hotlist'")
    assert len(state) == 1 and state[0]["state"] == "open"
    assert [p["rank"] for p in json.loads(state[0]["explanation"])["trajectory"]] == [8, 3]
    assert rows(settings, "SELECT count(DISTINCT polled_at) AS n FROM hotlist_snapshots")[0]["n"] == 4

    # a snapshot older than the cooldown says nothing about today: no alert on it, and the entry
    # last listed longer ago than the cooldown ends its alert
    late = utcnow() + timedelta(seconds=settings.alerts.cooldown + 60)
    changed = detect(settings, late)
    assert [(a.kind, a.state) for a in changed] == [("hotlist", "resolved")]
    assert detect(settings, late + timedelta(minutes=10)) == []


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>微博热搜榜</title><link>https://s.weibo.com/top/summary</link>
<description>实时热点</description>
{items}
</channel></rss>"""


def test_an_rsshub_feed_is_a_hot_list_ranked_in_feed_order(site, configure) -> None:
    titles = ["某地暴雨", "芦山县 大熊猫放归", "某球队夺冠", "javascript链接"]
    links = ["https://s.weibo.com/weibo?q=1", "https://s.weibo.com/weibo?q=2", "https://s.weibo.com/weibo?q=3",
             "javascript:alert(1)"]
    items = "\n".join(f"<item><title>{t}</title><link>{u}</link><description>{t}</description></item>"
                      for t, u in zip(titles, links, strict=True))
    site.routes["/weibo/search/hot"] = Response(RSS.format(items=items), content_type="application/rss+xml")
    settings = configure(f"""
    [[sources]]
    name = "rsshub-weibo-hot"
    type = "hotlist"
    url = "{site.url}/weibo/search/hot"
    every = "5m"
    """)
    assert settings.sources[0].every == 300
    stats = crawl(settings, "rsshub-weibo-hot")
    assert stats.fetched == 4 and stats.new == 1
    snap = rows(settings, "SELECT rank, title, url FROM hotlist_snapshots ORDER BY rank")
    assert [(r["rank"], r["title"]) for r in snap] == list(enumerate(titles, start=1))
    assert all(r["url"].startswith("http") for r in snap)  # a javascript: link is never kept
    opened = detect(settings)
    assert [(a.kind, a.level, a.explanation["rank"]) for a in opened] == [("hotlist", "red", 2)]


def test_a_hot_list_that_is_not_a_list_is_an_error_in_words(site, configure) -> None:
    from yuqing.crawlers.runner import crawl_one

    site.routes["/hot"] = Response('{"ok": 1, "data": {"realtime": {"x": 1}}}', content_type="application/json")
    site.routes["/maint"] = Response("<!DOCTYPE html><html><body>维护中</body></html>")
    settings = configure(SOURCE.format(url=site.url) + f"""
    [[sources]]
    name = "maint"
    type = "hotlist"
    url = "{site.url}/maint"
    """)
    stats = crawl_one(settings, "weibo-hot", timeout=60)
    assert stats.error == "'data.realtime' in the hot-list JSON is not a list but dict"
    stats = crawl_one(settings, "maint", timeout=60)
    assert stats.error == f"malformed JSON from {site.url}/maint: got an HTML page instead"
    assert rows(settings, "SELECT count(*) AS n FROM hotlist_snapshots")[0]["n"] == 0
    assert detect(settings) == []  # nothing polled: nothing to say, and no crash


def test_an_entry_under_a_new_link_or_on_a_second_list_is_still_the_locality(site, configure) -> None:
    """The entry's post is stored once (the same title is the same post, whatever the link), so
    the entry is found by its words too: its climb to the top 10 under a link that carries its rank,
    or on a second list, raises the alert to red."""
    served = {"weibo": 30, "baidu": None}

    def weibo(path, headers, body):
        entries = [{"word": f"热点话题{i}", "num": 1000 - i, "link": f"https://s.weibo.example/weibo?q={i}"}
                   for i in range(1, 41)]
        if served["weibo"] is not None:
            rank = served["weibo"]
            entries.insert(rank - 1, {"word": "芦山县化工厂起火", "num": 5000,
                                      "link": f"https://s.weibo.example/weibo?q=lushan&band_rank={rank}"})
        return Response(json.dumps({"data": {"realtime": entries}}, ensure_ascii=False),
                        content_type="application/json")

    def baidu(path, headers, body):
        entries = [{"title": f"百度热点{i}", "url": f"https://www.baidu.example/s?wd={i}"} for i in range(1, 31)]
        if served["baidu"] is not None:
            entries.insert(served["baidu"] - 1, {"title": "芦山县化工厂起火",
                                                 "url": "https://www.baidu.example/s?wd=lushan"})
        return Response(json.dumps({"data": entries}, ensure_ascii=False), content_type="application/json")

    site.routes["/hot"] = weibo
    site.routes["/baidu"] = baidu
    settings = configure(SOURCE.format(url=site.url) + f"""
    [[sources]]
    name = "baidu-hot"
    type = "hotlist"
    url = "{site.url}/baidu"
    """)
    crawl(settings, "weibo-hot")
    crawl(settings, "baidu-hot")
    assert [(a.kind, a.level, a.state) for a in detect(settings)] == [("hotlist", "orange", "open")]
    served["weibo"] = 5  # the link names the rank: a new URL, the same post
    crawl(settings, "weibo-hot")
    changed = detect(settings)
    assert [(a.kind, a.level, a.state) for a in changed] == [("hotlist", "red", "escalated")]
    assert [p["rank"] for p in changed[0].explanation["trajectory"]] == [30, 5]

    served["weibo"], served["baidu"] = 30, 4  # down on Weibo, up on Baidu: still red, one alert
    crawl(settings, "weibo-hot")
    crawl(settings, "baidu-hot")
    assert detect(settings) == []
    state = rows(settings, "SELECT level, state, explanation FROM alerts WHERE kind = 'hotlist'")
    assert [(s["level"], s["state"]) for s in state] == [("red", "escalated")]
    assert rows(settings, "SELECT count(*) AS n FROM cases")[0]["n"] == 1
    assert rows(settings, "SELECT count(*) AS n FROM posts")[0]["n"] == 1


def test_a_title_in_traditional_script_is_the_locality_on_any_list(site, configure) -> None:
    """蘆山縣 is 芦山县: an entry titled in traditional script opens the case on its own, and on a
    second list under another link it is the post stored already; 廬山 (庐山, excluded) stays out."""
    served = {"weibo": None, "baidu": None}

    def weibo(path, headers, body):
        entries = [{"word": f"热点话题{i}", "num": 1000 - i, "link": f"https://s.weibo.example/weibo?q={i}"}
                   for i in range(1, 31)]
        entries.insert(2, {"word": "廬山風景區今日限流", "num": 4000, "link": "https://s.weibo.example/weibo?q=lu"})
        if served["weibo"] is not None:
            entries.insert(served["weibo"] - 1, {"word": "芦山县化工厂起火", "num": 5000,
                                                 "link": "https://s.weibo.example/weibo?q=lushan"})
        return Response(json.dumps({"data": {"realtime": entries}}, ensure_ascii=False),
                        content_type="application/json")

    def baidu(path, headers, body):
        entries = [{"title": f"百度热点{i}", "url": f"https://www.baidu.example/s?wd={i}"} for i in range(1, 31)]
        if served["baidu"] is not None:
            entries.insert(served["baidu"] - 1, {"title": "蘆山縣化工廠起火",
                                                 "url": "https://www.baidu.example/s?wd=lushan"})
        return Response(json.dumps({"data": entries}, ensure_ascii=False), content_type="application/json")

    site.routes["/hot"] = weibo
    site.routes["/baidu"] = baidu
    settings = configure(SOURCE.format(url=site.url) + f"""
    [[sources]]
    name = "baidu-hot"
    type = "hotlist"
    url = "{site.url}/baidu"
    """)
    crawl(settings, "weibo-hot")
    assert detect(settings) == []  # 廬山 is 庐山, excluded: in traditional script as in simplified
    served["baidu"] = 4  # first seen in traditional script, alone
    assert crawl(settings, "baidu-hot").new == 1
    opened = detect(settings)
    assert [(a.kind, a.level, a.explanation["source"]) for a in opened] == [("hotlist", "red", "baidu-hot")]
    assert opened[0].explanation["top_posts"][0]["title"] == "芦山县化工厂起火"  # stored simplified
    assert rows(settings, "SELECT count(*) AS n FROM cases")[0]["n"] == 1

    # and the other way round: stored from the simplified entry, listed in traditional script
    # under another link, the traditional entry still finds the post by its words
    from yuqing.store import Store
    from yuqing.store.hotlist import entry_posts

    served["weibo"] = 20
    crawl(settings, "weibo-hot")
    with Store(settings.db_path) as store:
        found = entry_posts(store.conn, [{"title": "蘆山縣化工廠起火", "url": "https://other.example/x"},
                                         {"title": "廬山風景區今日限流", "url": "https://other.example/y"}])
    assert list(found) == ["蘆山縣化工廠起火"] and found["蘆山縣化工廠起火"]["title"] == "芦山县化工厂起火"
    assert rows(settings, "SELECT count(*) AS n FROM posts")[0]["n"] == 1
