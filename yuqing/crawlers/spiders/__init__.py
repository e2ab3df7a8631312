"""One spider per source type; `spider_class(type)` picks it."""

from __future__ import annotations

from yuqing.crawlers.spiders.base import BaseSpider


def spider_class(source_type: str) -> type[BaseSpider]:
    """The spider for a source type (imported lazily: a child loads only what it runs)."""
    cls: type[BaseSpider]
    if source_type == "feed":
        from yuqing.crawlers.spiders.feed import FeedSpider as cls
    elif source_type == "html":
        from yuqing.crawlers.spiders.html import HtmlSpider as cls
    elif source_type == "json":
        from yuqing.crawlers.spiders.json_api import JsonSpider as cls
    elif source_type == "weibo":
        from yuqing.crawlers.spiders.weibo import WeiboSpider as cls
    elif source_type == "tieba":
        from yuqing.crawlers.spiders.tieba import TiebaSpider as cls
    elif source_type == "liuyan":
        from yuqing.crawlers.spiders.liuyan import LiuyanSpider as cls
    elif source_type == "hotlist":
        from yuqing.crawlers.spiders.hotlist import HotlistSpider as cls
    else:
        raise ValueError(f"unknown source type {source_type!r}")
    return cls


__all__ = ["BaseSpider", "spider_class"]
