"""The item pipeline, in order: clean -> locality match -> dedupe -> store.

Each step is a plain object usable without Scrapy (`PostCleaner`, `LocalityMatcher`, `Deduper`,
then `Store.add_posts`); `PostPipeline` runs them for every post in one Scrapy pipeline. Counts go
into the spider's CrawlStats: `matched` (kept by the locality match), `duplicates` (seen in this
run, or stored before), `new` (inserted).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from typing import Any

from scrapy.exceptions import DropItem

from yuqing.crawlers.spiders.base import PostBatch
from yuqing.crawlers.spiders.hotlist import HotlistSnapshot
from yuqing.crawlers.text import canonical_url, clean_text, to_simplified
from yuqing.models import CrawlStats, Post
from yuqing.settings import Locality

logger = logging.getLogger(__name__)

MAX_TITLE = 500
MAX_TEXT = 50_000
BATCH = 50
BATCH_SECONDS = 1.0


class PostCleaner:
    """Strip HTML and site furniture, normalise whitespace, traditional -> simplified.

    `already_clean`: title, text and author came through text.clean_text in the spider (a
    PostBatch marked `cleaned`); cleaning is then skipped, the rest is done. Cleaning twice cost
    time and was wrong: words shown as markup ("the <form> element", escaped on the page) came
    out of the first pass as text and the second pass dropped them as a tag.
    """

    def clean(self, post: Post, *, already_clean: bool = False) -> Post | None:
        title, text, author = post.title, post.text, post.author
        if not already_clean:
            title, text, author = clean_text(title), clean_text(text), clean_text(author)
        post.title = to_simplified(title.replace("\n", " "))[:MAX_TITLE]
        post.text = to_simplified(text)[:MAX_TEXT]
        post.author = author.replace("\n", " ")[:200]
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


# -- the Scrapy pipeline ------------------------------------------------------------------------
class PostPipeline:
    """clean -> locality match -> dedupe -> store, for each post of each page (a PostBatch, or a
    single Post), in one Scrapy pipeline. Posts are written in batches, one transaction each, by
    size and by time, so a run stopped at its timeout keeps what it had already parsed; the store
    drops posts it has already (by canonical URL, then by identical content)."""

    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> PostPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        from yuqing.store import Store

        spider = spider if spider is not None else self.crawler.spider
        self.spider = spider
        self.stats: CrawlStats = spider.crawl_stats
        self.cleaner = PostCleaner()
        self.matcher = LocalityMatcher(spider.app_settings.locality)
        self.deduper = Deduper()
        self.store = getattr(spider, "store", None) or Store(spider.app_settings.db_path)
        self.owns_store = getattr(spider, "store", None) is None
        self.buffer: list[Post] = []
        refresh = float(getattr(spider.source, "refresh", 0) or 0)
        self.refresh_since = spider.now - timedelta(seconds=refresh) if refresh else None
        self.last_flush = time.monotonic()
        self.timer: Any = None
        if "twisted.internet.reactor" in sys.modules:  # under Scrapy (not in plain unit use)
            from twisted.internet import task

            self.timer = task.LoopingCall(self.flush)
            self.timer.start(BATCH_SECONDS, now=False)

    def keep(self, post: Post, already_clean: bool = False, refresh: bool = False) -> bool:
        """The first three steps; True when the post goes on to the store. A re-visit of a stored
        post is not matched again: it matched when it was stored."""
        if self.cleaner.clean(post, already_clean=already_clean) is None:
            return False
        if not refresh and not self.spider.source.match_all and not self.matcher.matches_post(post):
            return False
        self.stats.matched += 1
        if not self.deduper.is_new(post):
            self.stats.duplicates += 1
            return False
        return True

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, HotlistSnapshot):
            return self.save_snapshot(item)
        posts = item.posts if isinstance(item, PostBatch) else [item]
        clean = isinstance(item, PostBatch) and item.cleaned  # a lone Post is cleaned here
        refresh = isinstance(item, PostBatch) and item.refresh
        kept = [p for p in posts if isinstance(p, Post) and self.keep(p, clean, refresh)]
        if not kept:
            raise DropItem(f"nothing new about the locality in {len(posts)} post(s)")
        self.buffer.extend(kept)
        if len(self.buffer) >= BATCH or time.monotonic() - self.last_flush > BATCH_SECONDS:
            self.flush()
        return item

    def save_snapshot(self, item: HotlistSnapshot) -> HotlistSnapshot:
        """A hot-list poll: the whole list as a snapshot, and each entry naming the locality as a
        post (at once: detection runs as soon as the crawl has new posts)."""
        from yuqing.store.hotlist import save_snapshot

        posts = item.posts()  # also gives each entry the URL of its post
        with self.store.transaction() as conn:
            save_snapshot(conn, item.source, item.polled_at, item.entries)
        self.buffer.extend(p for p in posts if self.keep(p))
        self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        new, dup = self.store.add_posts(self.buffer, refresh_since=self.refresh_since)
        self.stats.new += new
        self.stats.duplicates += dup
        self.buffer = []
        self.last_flush = time.monotonic()

    def close_spider(self, spider: Any = None) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        try:
            self.flush()
        finally:
            if self.owns_store:
                self.store.close()


ITEM_PIPELINES = {"yuqing.crawlers.pipelines.PostPipeline": 100}
