"""Helpers for the crawl tests: spiders built from a config dict, responses built from saved pages."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from yuqing import settings as settings_mod
from yuqing.crawlers.spiders import spider_class
from yuqing.crawlers.spiders.base import PostBatch
from yuqing.crawlers.text import clean_text, has_markup, normalize_space
from yuqing.models import Post

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
NOW = datetime(2024, 6, 15, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai

LOCALITY = {"name": "芦山县", "aliases": ["芦山", "龙门乡", "飞仙关"], "exclude": ["庐山", "芦山路"]}


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def make_settings(*sources: dict[str, Any], **sections: Any) -> settings_mod.Settings:
    raw: dict[str, Any] = {"locality": dict(LOCALITY), "sources": list(sources), **sections}
    return settings_mod.from_dict(raw)


def make_spider(source: dict[str, Any], *, seen: Any = None, now: datetime = NOW, **sections: Any) -> Any:
    source = {"name": "s", **source}
    settings = make_settings(source, **sections)
    src = settings.sources[0]
    return spider_class(src.type)(source=src, settings=settings, seen=seen, now=now)


def respond(spider: Any, url: str, body: bytes | str, *, parser: str, status: int = 200,
            content_type: str = "text/html; charset=utf-8", meta: dict[str, Any] | None = None,
            method: str = "GET") -> TextResponse:
    """A response to a request the spider built, as Scrapy would hand it to the callback."""
    request = spider.request(url, parser, meta=meta, method=method)
    data = body.encode("utf-8") if isinstance(body, str) else body
    cls = HtmlResponse if "html" in content_type else TextResponse
    return cls(url=url, body=data, status=status, headers={"Content-Type": content_type}, request=request)


def run(spider: Any, response: TextResponse) -> tuple[list[Post], list[Request]]:
    """Feed a response through the spider's callback; (posts, follow-up requests)."""
    out = list(spider.on_response(response))
    batches = [o for o in out if isinstance(o, PostBatch)]
    assert len(batches) <= 1 and all(isinstance(o, (PostBatch, Request)) for o in out)  # one batch a page
    for post in (p for b in batches for p in b.posts):
        # the batch says its words are clean, so the pipeline will not clean them again: cleaning
        # again must change nothing, except that words which look like markup ("the <form>
        # element", written escaped on the page) are what the reader saw and stay
        assert batches[0].cleaned
        for name in ("title", "text", "author"):
            value = getattr(post, name)
            again = normalize_space(value) if has_markup(value) else clean_text(value)
            assert again == value, f"{name} of {post.url} is not clean: {value!r}"
    return [p for b in batches for p in b.posts], [o for o in out if isinstance(o, Request)]


@pytest.fixture
def now() -> datetime:
    return NOW
