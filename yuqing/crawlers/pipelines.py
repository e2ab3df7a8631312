"""The item pipelines, in order: clean -> locality match -> dedupe -> store.

Each step is a plain object usable without Scrapy (`PostCleaner`, `LocalityMatcher`, `Deduper`) with
a thin Scrapy pipeline around it. Counts go into the spider's CrawlStats: `matched` (kept by the
locality match), `duplicates` (seen in this run, or stored before), `new` (inserted).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from scrapy.exceptions import DropItem

from yuqing.crawlers.text import canonical_url, clean_text, to_simplified
from yuqing.models import CrawlStats, Post
from yuqing.settings import Locality

logger = logging.getLogger(__name__)

MAX_TITLE = 500
MAX_TEXT = 50_000
BATCH = 50
BATCH_SECONDS = 1.0


class PostCleaner:
    """Strip HTML and site furniture, normalise whitespace, traditional -> simplified."""

    def clean(self, post: Post) -> Post | None:
        post.title = to_simplified(clean_text(post.title).replace("\n", " "))[:MAX_TITLE]
        post.text = to_simplified(clean_text(post.text))[:MAX_TEXT]
        post.author = clean_text(post.author).replace("\n", " ")[:200]
        if not post.title and not post.text:
            return None
        post.content_hash = ""  # the hash is of the cleaned words
        post.ensure_hash()
        return post


class LocalityMatcher:
    """Does a text name the locality? A name counts unless every occurrence of it sits inside an
    exclusion term (with exclude = ["芦山路"], "芦山路小学" alone does not count, "芦山县" does)."""

    def __init__(self, locality: Locality) -> None:
        self.terms = sorted({to_simplified(t).lower() for t in locality.terms if t.strip()}, key=len, reverse=True)
        self.excludes = sorted({to_simplified(t).lower() for t in locality.exclude if t.strip()}, key=len, reverse=True)

    def _excluded_spans(self, text: str) -> list[tuple[int, int]]:
        spans = []
        for term in self.excludes:
            start = text.find(term)
            while start != -1:
                spans.append((start, start + len(term)))
                start = text.find(term, start + 1)
        return spans

    def matches(self, text: str) -> bool:
        text = text.lower()
        spans: list[tuple[int, int]] | None = None
        for term in self.terms:
            start = text.find(term)
            while start != -1:
                if spans is None:
                    spans = self._excluded_spans(text)
                end = start + len(term)
                if not any(s <= start and end <= e for s, e in spans):
                    return True
                start = text.find(term, start + 1)
        return False

    def matches_post(self, post: Post) -> bool:
        return self.matches(f"{post.title}\n{post.text}")


class Deduper:
    """Within one run: the same canonical URL or the same words are one post."""

    def __init__(self) -> None:
        self.urls: set[str] = set()
        self.hashes: set[str] = set()

    def is_new(self, post: Post) -> bool:
        post.canonical_url = post.canonical_url or canonical_url(post.url)
        digest = post.ensure_hash()
        if post.canonical_url in self.urls or digest in self.hashes:
            return False
        self.urls.add(post.canonical_url)
        self.hashes.add(digest)
        return True


# -- the Scrapy pipelines ----------------------------------------------------------------------
class _Pipeline:
    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "_Pipeline":
        return cls(crawler)

    def _spider(self, spider: Any) -> Any:
        return spider if spider is not None else self.crawler.spider

    def _stats(self, spider: Any) -> CrawlStats:
        return self._spider(spider).crawl_stats


class CleanPipeline(_Pipeline):
    cleaner = PostCleaner()

    def process_item(self, item: Post, spider: Any = None) -> Post:
        if self.cleaner.clean(item) is None:
            raise DropItem(f"empty post {item.url}")
        return item


class LocalityPipeline(_Pipeline):
    matcher: LocalityMatcher | None = None

    def open_spider(self, spider: Any = None) -> None:
        self.matcher = LocalityMatcher(self._spider(spider).app_settings.locality)

    def process_item(self, item: Post, spider: Any = None) -> Post:
        spider = self._spider(spider)
        if self.matcher is None:
            self.matcher = LocalityMatcher(spider.app_settings.locality)
        if not spider.source.match_all and not self.matcher.matches_post(item):
            raise DropItem(f"does not mention the locality: {item.url}")
        spider.crawl_stats.matched += 1
        return item


class DedupePipeline(_Pipeline):
    def open_spider(self, spider: Any = None) -> None:
        self.deduper = Deduper()

    def process_item(self, item: Post, spider: Any = None) -> Post:
        if not hasattr(self, "deduper"):
            self.deduper = Deduper()
        if not self.deduper.is_new(item):
            self._stats(spider).duplicates += 1
            raise DropItem(f"duplicate in this run: {item.url}")
        return item


class StorePipeline(_Pipeline):
    """Writes posts in batches (one transaction each); the store drops those it has already."""

    def open_spider(self, spider: Any = None) -> None:
        from yuqing.store import Store

        spider = self._spider(spider)
        self.stats = spider.crawl_stats
        self.store = getattr(spider, "store", None) or Store(spider.app_settings.db_path)
        self.owns_store = getattr(spider, "store", None) is None
        self.buffer: list[Post] = []
        self.last_flush = time.monotonic()
        self.timer: Any = None
        if "twisted.internet.reactor" in sys.modules:  # under Scrapy (not in plain unit use)
            from twisted.internet import task

            # a source stopped at its timeout while a request hangs keeps what it had already parsed
            self.timer = task.LoopingCall(self.flush)
            self.timer.start(BATCH_SECONDS, now=False)

    def flush(self) -> None:
        if not self.buffer:
            return
        new, dup = self.store.add_posts(self.buffer)
        self.stats.new += new
        self.stats.duplicates += dup
        self.buffer = []
        self.last_flush = time.monotonic()

    def process_item(self, item: Post, spider: Any = None) -> Post:
        self.buffer.append(item)
        if len(self.buffer) >= BATCH or time.monotonic() - self.last_flush > BATCH_SECONDS:
            self.flush()
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        try:
            self.flush()
        finally:
            if self.owns_store:
                self.store.close()


class PostPipeline(StorePipeline):
    """The four steps in one Scrapy pipeline: clean -> locality match -> dedupe -> store.

    Same steps, same order, same counts as the four pipelines above, but one hop through Scrapy's
    item machinery instead of four (a feed page yields dozens of posts: this is most of the
    pipelines' overhead, see bench/crawl.py)."""

    def open_spider(self, spider: Any = None) -> None:
        super().open_spider(spider)
        spider = self._spider(spider)
        self.spider = spider
        self.cleaner = PostCleaner()
        self.matcher = LocalityMatcher(spider.app_settings.locality)
        self.deduper = Deduper()

    def process_item(self, item: Post, spider: Any = None) -> Post:
        if self.cleaner.clean(item) is None:
            raise DropItem(f"empty post {item.url}")
        if not self.spider.source.match_all and not self.matcher.matches_post(item):
            raise DropItem(f"does not mention the locality: {item.url}")
        self.stats.matched += 1
        if not self.deduper.is_new(item):
            self.stats.duplicates += 1
            raise DropItem(f"duplicate in this run: {item.url}")
        return super().process_item(item, spider)


ITEM_PIPELINES = {"yuqing.crawlers.pipelines.PostPipeline": 100}
