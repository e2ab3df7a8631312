"""The html spider on saved pages: list + detail by CSS or XPath, pagination and its cap, errors."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.conftest import shared_file
from tests.crawlers.conftest import make_spider, page, respond, run
from yuqing.models import Post

LIST = "http://news.example.cn/news/index.html"
CSS = {
    "type": "html", "url": LIST, "item": "ul.news li",
    "fields": {"title": "a", "url": "a::attr(href)", "time": ".date::text", "author": ".who::text"},
    "next_page": "a.next::attr(href)",
}


def test_list_page_by_css():
    spider = make_spider(CSS)
    posts, requests = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert [p.title for p in posts] == ["芦山县召开防汛工作会议", "龙门乡 学校 开学 准备就绪", "雅安市天气预报"]
    assert [p.url for p in posts] == [
        "http://news.example.cn/news/1.html",
        "http://news.example.cn/news/news/2.html?spm=abc",
        "http://other.example.cn/3.html",
    ]
    assert posts[0].published_at == datetime(2024, 6, 14, 1, 0, tzinfo=timezone.utc)
    assert posts[0].author == "县应急局"
    assert posts[2].published_at == datetime(2024, 6, 15, 1, 0, tzinfo=timezone.utc)  # 3小时前
    assert [r.url for r in requests] == ["http://news.example.cn/news/list_2.html"]
    assert requests[0].meta["page"] == 2


def test_page_cap_stops_pagination():
    spider = make_spider({**CSS, "max_pages": 2})
    _, requests = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 2}))
    assert requests == []


def test_list_and_detail_by_xpath():
    source = {
        "type": "html", "url": LIST, "selector_type": "xpath", "item": "//ul[@class='news']/li[a]",
        "fields": {"title": "./a//text()", "url": "./a/@href"},
        "detail": {"text": "//div[@class='article']", "time": "//span[@class='time']/text()",
                   "author": "//span[@class='author']/text()"},
    }
    spider = make_spider(source, seen=lambda urls: {"http://other.example.cn/3.html"})
    posts, requests = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert posts == []  # every post waits for its detail page
    assert [r.url for r in requests] == ["http://news.example.cn/news/1.html", "http://news.example.cn/news/news/2.html?spm=abc"]
    assert spider.crawl_stats.duplicates == 1  # the stored one is not fetched again
    detail_req = requests[0]
    detail = respond(spider, detail_req.url, page("html_detail.html"), parser="parse_detail", meta=detail_req.meta)
    posts, _ = run(spider, detail)
    (post,) = posts
    assert post.title == "芦山县召开防汛工作会议"
    assert post.text == "6月14日，芦山县召开防汛工作会议。\n会议要求各乡镇做好值守。"
    assert post.author == "芦山县融媒体中心"
    assert post.published_at == datetime(2024, 6, 14, 1, 30, tzinfo=timezone.utc)


def test_failed_detail_page_keeps_the_list_post():
    source = {**CSS, "detail": {"text": "div.article"}}
    spider = make_spider(source)
    _, requests = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    detail_req = requests[0]
    failed = respond(spider, detail_req.url, "gone", parser="parse_detail", status=404, meta=detail_req.meta)
    posts, _ = run(spider, failed)
    assert [p.title for p in posts] == ["芦山县召开防汛工作会议"]
    assert spider.crawl_stats.errors == 1
    assert spider.crawl_stats.error is None  # a detail page is not the source failing


def test_selectors_matching_nothing_is_an_error_in_words():
    spider = make_spider({**CSS, "item": "div.posts article"})
    posts, requests = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert posts == [] and requests == []
    assert spider.crawl_stats.error == (
        f"no posts found on {LIST}: the item selector 'div.posts article' matched nothing (has the page layout changed?)"
    )


def test_fields_matching_nothing_is_an_error_in_words():
    spider = make_spider({**CSS, "fields": {"title": "h3::text"}})
    run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert "4 items matched 'ul.news li' but the field selectors" in spider.crawl_stats.error


def test_bad_selector_syntax_is_an_error_in_words():
    spider = make_spider({**CSS, "item": "ul..news[["})
    run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert spider.crawl_stats.error.startswith("bad css selector 'ul..news[['")


def test_items_without_links_get_stable_unique_urls():
    spider = make_spider({"type": "html", "url": LIST, "item": "ul.news li", "fields": {"title": "a"}})
    posts, _ = run(spider, respond(spider, LIST, page("html_list.html"), parser="parse_list", meta={"page": 1}))
    assert len({p.url for p in posts}) == 3
    assert all(p.url.startswith(LIST + "#") and p.canonical_url == p.url for p in posts)


def test_gbk_page_without_declaration():
    url = "http://bbs.example.cn/list"
    spider = make_spider({"type": "html", "url": url, "item": "tr.t", "fields": {"title": "a::text", "url": "a::attr(href)",
                                                                               "time": ".d::text"}})
    posts, _ = run(spider, respond(spider, url, page("html_list_gbk.html"), parser="parse_list", content_type="text/html"))
    assert posts[0].title == "芦山县城停电了吗" and posts[0].url == "http://bbs.example.cn/t/9"


def test_real_article_page_body_extraction():
    url = "http://www.woshipm.com/a.html"
    body = shared_file("pages/woshipm_article.html").read_bytes()
    spider = make_spider({"type": "html", "url": url, "item": "html", "fields": {"title": "title::text", "text": "body"}})
    posts, _ = run(spider, respond(spider, url, body, parser="parse_list"))
    text = posts[0].text
    assert len(posts) == 1 and posts[0].title
    assert len(text) > 1000 and "<div" not in text and "function(" not in text
    assert isinstance(posts[0], Post)


def test_transport_failures_in_words():
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError, IgnoreRequest

    spider = make_spider(CSS)
    url = "http://news.example.cn/a"
    assert spider.describe_failure(DownloadConnectionRefusedError("refused"), url) == "connection refused by news.example.cn"
    assert spider.describe_failure(CannotResolveHostError("no"), url) == "cannot resolve host news.example.cn"
    assert spider.describe_failure(IgnoreRequest("Forbidden by robots.txt"), url) == (
        f"refused by robots.txt: {url} is disallowed for yuqing")
    assert spider.describe_failure(IgnoreRequest("max redirections reached"), url).startswith("redirect loop: gave up after")
    assert spider.describe_failure(DownloadTimeoutError("took longer than 5.0 seconds"), url).startswith("timed out after")
    assert spider.describe_failure(ValueError("odd"), url) == f"ValueError fetching {url}: odd"
