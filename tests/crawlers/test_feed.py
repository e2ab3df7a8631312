"""The feed spider on saved feeds: every RSS flavour and Atom, odd encodings, odd entries, non-feeds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import shared_file
from tests.crawlers.conftest import NOW, make_spider, page, respond, run
from yuqing.crawlers.spiders.base import PostBatch
from yuqing.crawlers.spiders.feed import parse_feed_bytes
from yuqing.errors import SourceError

URL = "http://bbs.example.cn/feed.xml"


def crawl(name: str, content_type: str = "application/xml"):
    spider = make_spider({"type": "feed", "url": URL})
    posts, requests = run(spider, respond(spider, URL, page(name), parser="parse_feed", content_type=content_type))
    return spider, posts, requests


def test_rss20_cdata_html_becomes_clean_text():
    spider, posts, _ = crawl("rss20_cdata.xml")
    assert spider.crawl_stats.error is None
    first = posts[0]
    assert first.title == "芦山县龙门乡明日停水通知"
    assert first.text == "因管网检修，龙门乡 6月15日 8:00-18:00 停水。\n请居民提前储水。[通知]"
    assert "track()" not in first.text and "iframe" not in first.text and "分享到" not in first.text
    assert first.url == "http://bbs.example.cn/thread/101?utm_source=rss&utm_medium=feed"
    assert first.author == "县水务局"
    assert first.published_at == datetime(2024, 6, 14, 2, 30, tzinfo=timezone.utc)
    assert spider.crawl_stats.fetched == len(posts) == 4  # the empty entry is skipped


def test_entries_without_link_or_id_dates_empty_or_odd():
    _, posts, _ = crawl("rss20_cdata.xml")
    by_title = {p.title: p for p in posts}
    linkless = by_title["飞仙关景区恢复开放"]
    assert linkless.url.startswith(URL + "#") and linkless.canonical_url == linkless.url
    assert linkless.published_at == datetime(2024, 6, 13, 1, 15, tzinfo=timezone.utc)  # "2024-06-13 09:15" +08
    relative = by_title["日期为空的条目"]
    assert relative.url == "http://bbs.example.cn/thread/103" and relative.published_at is None
    assert by_title["奇怪的日期"].published_at is None


def test_linkless_entries_get_distinct_stable_urls():
    a = parse_feed_bytes(page("rss20_cdata.xml"), URL, "s", now=NOW)
    b = parse_feed_bytes(page("rss20_cdata.xml"), URL, "s", now=NOW)
    assert [p.url for p in a] == [p.url for p in b]
    assert len({p.url for p in a}) == len(a)


def test_rss091_and_rss10_rdf():
    _, posts, _ = crawl("rss091.xml")
    assert [p.title for p in posts] == ["芦山县政务服务中心调整办公时间", "关于开展防汛演练的通知"]
    _, posts, _ = crawl("rss10_rdf.xml")
    assert posts[0].title == "芦山县举行地震应急演练"
    assert posts[0].published_at == datetime(2024, 6, 10, 0, 0, tzinfo=timezone.utc)
    assert posts[0].author == "记者 张三"


def test_atom_html_title_content_and_id_only_entry():
    _, posts, _ = crawl("atom.xml")
    assert posts[0].title == "芦山大桥夜间封闭施工"
    assert posts[0].text == "芦山大桥6月14日起夜间封闭。\n请绕行。"
    assert posts[0].author == "雅安发布"
    assert posts[1].url == f"{URL}#urn:uuid:9a77"


@pytest.mark.parametrize(
    "name, title",
    [
        ("rss_bom.xml", "带 BOM 的芦山新闻"),
        ("rss_gbk_undeclared.xml", "芦山县城区停水通知"),
        ("rss_big5_undeclared.xml", "蘆山縣城區停水通知"),  # simplified later, by the clean pipeline
        ("rss_gbk_declared_utf8.xml", "芦山县城区停水通知"),
    ],
)
def test_encodings(name, title):
    spider, posts, _ = crawl(name, content_type="application/xml")
    assert spider.crawl_stats.error is None
    assert posts[0].title == title
    assert len(posts) == 2 or name == "rss_bom.xml"


def test_html_page_where_a_feed_was_expected_is_an_error_and_yields_nothing():
    spider, posts, requests = crawl("not_a_feed_login.html", content_type="text/html; charset=utf-8")
    assert posts == [] and requests == []
    assert spider.crawl_stats.error == f"not a feed: got an HTML page from {URL}"
    assert spider.crawl_stats.errors == 1


def test_empty_and_garbage_bodies_are_errors():
    with pytest.raises(SourceError, match="not a feed: empty response"):
        parse_feed_bytes(b"  ", URL, "s")
    with pytest.raises(SourceError, match="not a feed: .* is not RSS or Atom"):
        parse_feed_bytes(b"hello, this is plain text", URL, "s")


def test_http_status_is_recorded_in_words():
    spider = make_spider({"type": "feed", "url": URL})
    posts, _ = run(spider, respond(spider, URL, "oops", parser="parse_feed", status=500))
    assert posts == []
    assert spider.crawl_stats.error == f"HTTP 500 from {URL}"


# -- real captures (../shared/data/pages) ----------------------------------------------------
def test_real_hexun_maintenance_page_is_not_a_feed():
    body = shared_file("pages/hexun_gbk_maintenance_page_not_a_feed.html").read_bytes()
    with pytest.raises(SourceError, match="not a feed: got an HTML page"):
        parse_feed_bytes(body, URL, "s")


def test_real_gb2312_feed_without_declaration():
    body = shared_file("pages/gb2312_undeclared.xml").read_bytes()
    posts = parse_feed_bytes(body, URL, "s")
    assert [p.title for p in posts] == ["不归移民漫画系列：专业工作"]


@pytest.mark.parametrize("name, count", [("oschina_news_rss.xml", 50), ("dapenti_rss_iframes.xml", 30),
                                         ("ruanyifeng_atom.xml", 3)])
def test_real_feeds(name, count):
    posts = parse_feed_bytes(shared_file(f"pages/{name}").read_bytes(), URL, "s")
    assert len(posts) == count
    assert all(p.title and p.url.startswith("http") and p.published_at for p in posts)
    for p in posts:
        assert "<iframe" not in p.text and "<p>" not in p.text and "<![CDATA[" not in p.text


def test_markup_written_as_text_is_stored_as_text(settings, store):
    # the article shows the words "<form>" (escaped in its HTML): cleaned once, by the spider,
    # they reach the store; a second cleaning in the pipeline used to eat them as a tag
    from yuqing.crawlers.pipelines import PostPipeline

    spider = make_spider({"type": "feed", "url": URL, "match_all": True})
    spider.app_settings = settings
    body = shared_file("pages/ruanyifeng_atom.xml").read_bytes()
    posts, _ = run(spider, respond(spider, URL, body, parser="parse_feed", content_type="application/xml"))
    pipe = PostPipeline()
    pipe.open_spider(spider)
    pipe.process_item(PostBatch(posts, cleaned=True), spider)
    pipe.close_spider(spider)
    texts = [r["text"] for r in store.query("SELECT text FROM posts")]
    assert len(texts) == 3
    assert any("为表单元素<form>加上一个data-action属性" in t for t in texts)
    assert all("<p>" not in t and "<img" not in t and "&lt;" not in t for t in texts)


@pytest.mark.parametrize("name", ["rss20_cdata.xml", "rss091.xml", "rss_gbk_undeclared.xml", "rss_big5_undeclared.xml",
                                  "rss_bom.xml"])
def test_fast_rss_reader_agrees_with_feedparser(name, monkeypatch):
    from yuqing.crawlers.spiders import feed

    assert feed._rss2_entries(feed._drop_xml_decl(feed.decode_body(page(name))[0]).encode()) is not None
    fast = parse_feed_bytes(page(name), URL, "s", now=NOW)
    monkeypatch.setattr(feed, "_rss2_entries", lambda data: None)
    slow = parse_feed_bytes(page(name), URL, "s", now=NOW)
    assert [p.to_dict() | {"fetched_at": None} for p in fast] == [p.to_dict() | {"fetched_at": None} for p in slow]


def test_real_feeds_fast_reader_agrees_with_feedparser(monkeypatch):
    from yuqing.crawlers.spiders import feed

    for name in ("oschina_news_rss.xml", "dapenti_rss_iframes.xml"):
        body = shared_file(f"pages/{name}").read_bytes()
        fast = parse_feed_bytes(body, URL, "s", now=NOW)
        with monkeypatch.context() as m:
            m.setattr(feed, "_rss2_entries", lambda data: None)
            slow = parse_feed_bytes(body, URL, "s", now=NOW)
        assert [(p.url, p.title, p.text, p.published_at) for p in fast] == [(p.url, p.title, p.text, p.published_at) for p in slow]
