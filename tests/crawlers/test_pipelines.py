"""The pipelines: clean, locality match (with exclusions), dedupe, store in batches."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from tests.crawlers.conftest import make_spider
from yuqing.crawlers.pipelines import ITEM_PIPELINES, Deduper, LocalityMatcher, PostCleaner, PostPipeline
from yuqing.crawlers.spiders.base import PostBatch
from yuqing.models import Post
from yuqing.settings import Locality

LOCALITY = Locality(name="芦山县", aliases=("芦山", "龙门乡", "Lushan"), exclude=("庐山", "芦山路"))


def post(title: str = "", text: str = "", url: str = "http://x.cn/1") -> Post:
    return Post(url=url, source="s", title=title, text=text)


def test_cleaner_strips_html_and_converts_to_simplified():
    p = PostCleaner().clean(post("<b>蘆山縣</b>\n停水", "<p>龍門鄉&nbsp;居民</p><script>x()</script><p>返回顶部</p>"))
    assert p.title == "芦山县 停水"
    assert p.text == "龙门乡 居民"
    assert p.content_hash and p.content_hash == p.ensure_hash()


def test_cleaner_drops_empty_posts():
    assert PostCleaner().clean(post("<p> </p>", "<script>only()</script>")) is None


@pytest.mark.parametrize(
    "text, hit",
    [
        ("芦山县发布停水通知", True),
        ("龙门乡樱桃节", True),
        ("去庐山旅游", False),  # a different place, not inside any name
        ("上海芦山路小学放假", False),  # the only match sits inside an exclusion
        ("芦山路小学和芦山县中学", True),  # one occurrence outside the exclusion is enough
        ("lushan county news", True),  # latin aliases ignore case
        ("雅安市天气", False),
    ],
)
def test_locality_matcher(text, hit):
    assert LocalityMatcher(LOCALITY).matches(text) is hit


def test_locality_matcher_reads_traditional_names_after_cleaning():
    cleaned = PostCleaner().clean(post("蘆山縣新聞", ""))
    assert LocalityMatcher(LOCALITY).matches_post(cleaned)


def test_deduper_by_canonical_url_then_content():
    d = Deduper()
    assert d.is_new(post("芦山", "a", "http://x.cn/1?utm_source=rss#top"))
    assert not d.is_new(post("芦山 other", "b", "http://X.cn/1"))  # same canonical URL
    assert not d.is_new(post("芦山", "a", "http://y.cn/9"))  # same words elsewhere
    assert d.is_new(post("芦山", "b", "http://y.cn/9"))


def run_pipeline(spider, pages):
    """Each page's posts as one PostBatch through the pipeline; returns the posts stored."""
    pipe = PostPipeline()
    pipe.open_spider(spider)
    for posts in pages:
        try:
            pipe.process_item(PostBatch(posts), spider)
        except DropItem:
            pass
    pipe.close_spider(spider)
    return pipe


def stored_urls(store):
    return [r["url"] for r in store.query("SELECT url FROM posts ORDER BY id")]


def test_crawls_use_the_one_pipeline():
    assert ITEM_PIPELINES == {"yuqing.crawlers.pipelines.PostPipeline": 100}


def test_pipeline_counts_and_stores_once(settings, store):
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed"})
    spider.app_settings = settings
    page1 = [post("芦山县停水", "明天停水", "http://x.cn/1"), post("庐山风景", "好看", "http://x.cn/2"),
             post("<p></p>", "", "http://x.cn/4")]
    page2 = [post("芦山县停水", "明天停水", "http://x.cn/1?utm_source=a"), post("龙门乡", "樱桃", "http://x.cn/3")]
    run_pipeline(spider, [page1, page2])
    assert stored_urls(store) == ["http://x.cn/1", "http://x.cn/3"]
    s = spider.crawl_stats
    assert (s.matched, s.new, s.duplicates) == (3, 2, 1)
    # the same posts again: nothing new, every one a duplicate
    spider2 = make_spider({"type": "feed", "url": "http://x.cn/feed"})
    spider2.app_settings = settings
    run_pipeline(spider2, [[post("芦山县停水", "明天停水", "http://x.cn/1"), post("龙门乡", "樱桃", "http://x.cn/3")]])
    assert (spider2.crawl_stats.new, spider2.crawl_stats.duplicates) == (0, 2)
    assert store.count_posts() == 2


def test_a_page_with_nothing_to_keep_is_dropped(settings, store):
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed"})
    spider.app_settings = settings
    pipe = PostPipeline()
    pipe.open_spider(spider)
    with pytest.raises(DropItem, match="nothing new about the locality in 2 post"):
        pipe.process_item(PostBatch([post("庐山", "风景"), post("雅安", "天气", "http://x.cn/2")]), spider)
    assert pipe.process_item(post("芦山县", "单独一条", "http://x.cn/3"), spider)  # a lone Post works too
    pipe.close_spider(spider)
    assert stored_urls(store) == ["http://x.cn/3"]


def test_match_all_sources_keep_everything(settings, store):
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed", "match_all": True})
    spider.app_settings = settings
    run_pipeline(spider, [[post("县政府公告", "无地名", "http://x.cn/9")]])
    assert stored_urls(store) == ["http://x.cn/9"] and spider.crawl_stats.matched == 1


def test_pipeline_writes_in_batches(settings, store, monkeypatch):
    import yuqing.crawlers.pipelines as pipelines

    monkeypatch.setattr(pipelines, "BATCH", 3)
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed", "match_all": True})
    spider.app_settings = settings
    pipe = PostPipeline()
    pipe.open_spider(spider)
    for i in range(4):
        pipe.process_item(PostBatch([post(f"第{i}条", "正文", f"http://x.cn/{i}")]), spider)
        if i == 2:
            assert store.count_posts() == 3  # the first batch is committed before the run ends
    assert store.count_posts() == 3
    pipe.close_spider(spider)
    assert store.count_posts() == 4 and spider.crawl_stats.new == 4


def test_each_text_is_cleaned_once_from_spider_to_store(settings, store, monkeypatch):
    """The feed spider cleans title, text and author as it parses; its batch says so and the
    pipeline does not clean them again. A batch not marked clean, or a lone Post, is cleaned."""
    import yuqing.crawlers.pipelines as pipelines
    import yuqing.crawlers.spiders.feed as feed
    from tests.crawlers.conftest import page, respond

    calls = {"spider": 0, "pipeline": 0}

    def counting(where):
        real = pipelines.clean_text

        def clean(value):
            calls[where] += 1
            return real(value)
        return clean

    monkeypatch.setattr(feed, "clean_text", counting("spider"))
    monkeypatch.setattr(pipelines, "clean_text", counting("pipeline"))
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed", "match_all": True})
    spider.app_settings = settings
    out = list(spider.on_response(respond(spider, "http://x.cn/feed", page("rss20_cdata.xml"), parser="parse_feed",
                                          content_type="application/xml")))
    (batch,) = [o for o in out if isinstance(o, PostBatch)]
    assert batch.cleaned and len(batch.posts) >= 3
    assert calls["spider"] >= 3 * len(batch.posts)  # title, text, author (and skipped empty entries)
    pipe = PostPipeline()
    pipe.open_spider(spider)
    pipe.process_item(batch, spider)
    assert calls["pipeline"] == 0
    # not marked clean: cleaned here, three fields a post
    pipe.process_item(PostBatch([post("<b>蘆山縣</b>", "<p>龍門鄉&nbsp;停水</p>", "http://x.cn/a")]), spider)
    pipe.process_item(post("芦山县", "<p>单独一条</p>", "http://x.cn/b"), spider)
    assert calls["pipeline"] == 6
    pipe.close_spider(spider)
    rows = {r["url"]: r for r in store.query("SELECT url, title, text FROM posts")}
    assert (rows["http://x.cn/a"]["title"], rows["http://x.cn/a"]["text"]) == ("芦山县", "龙门乡 停水")
    assert rows["http://x.cn/b"]["text"] == "单独一条"
    assert len(rows) == len(batch.posts) + 2


def test_a_clean_batch_is_still_converted_trimmed_and_hashed(settings, store, monkeypatch):
    import yuqing.crawlers.pipelines as pipelines

    monkeypatch.setattr(pipelines, "MAX_TEXT", 10)
    spider = make_spider({"type": "feed", "url": "http://x.cn/feed"})
    spider.app_settings = settings
    pipe = PostPipeline()
    pipe.open_spider(spider)
    clean = post("蘆山縣\n停水", "龍門鄉居民明天全天停水請儲水", "http://x.cn/1")
    clean.author = "張三\n李四"
    pipe.process_item(PostBatch([clean, post("", "", "http://x.cn/2")], cleaned=True), spider)
    pipe.close_spider(spider)
    (row,) = store.query("SELECT title, text, author, content_hash FROM posts")
    assert (row["title"], row["text"], row["author"]) == ("芦山县 停水", "龙门乡居民明天全天停", "張三 李四")
    assert row["content_hash"] and spider.crawl_stats.new == 1
