"""`html` sources: a list page (+ an optional detail page per post) read by CSS or XPath selectors.

Config: `item` selects one post on the list page; `fields` maps title/text/url/time/author (any
other name goes to Post.extra) to selectors relative to the item; `detail` does the same on the
post's own page; `next_page` selects the next list page's link, followed up to `max_pages`.
A selector ending in ::text / ::attr(x) (CSS) or text() / @x (XPath) gives strings; one that selects
elements gives their visible text. An item selector that matches nothing is an error in words:
the page layout changed, and silence would hide it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from parsel import Selector, SelectorList
from scrapy.http import Request, Response

from yuqing.crawlers.dates import parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.text import canonical_url, clean_text, decode_body, element_text
from yuqing.errors import SourceError
from yuqing.models import Post, content_hash

logger = logging.getLogger(__name__)

KNOWN_FIELDS = ("title", "text", "url", "time", "author")


def page_selector(response: Response) -> Selector:
    """The page as a Selector, decoded by our rules (GBK pages often say nothing)."""
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
    text, _ = decode_body(response.body, ctype)
    return Selector(text=text or "<html></html>", type="html")


def select(node: Selector, expr: str, kind: str) -> SelectorList:
    try:
        return node.css(expr) if kind == "css" else node.xpath(expr)
    except Exception as exc:  # cssselect/lxml syntax errors have several types
        raise SourceError(f"bad {kind} selector {expr!r}: {exc}") from None


def extract_text(node: Selector, expr: str, kind: str) -> str:
    # text nodes are pieces of one run of text ("芦山<em>停电</em>"): joined as they are;
    # whole elements are separate blocks: one a line
    parts = []
    for result in select(node, expr, kind):
        root = result.root
        parts.append(root if isinstance(root, str) else f"\n{element_text(root)}\n")
    return clean_text("".join(parts))


def extract_first(node: Selector, expr: str, kind: str) -> str:
    for result in select(node, expr, kind):
        root = result.root
        value = (root if isinstance(root, str) else element_text(root)).strip()
        if value:
            return value
    return ""


def apply_fields(post: Post, node: Selector, fields: dict[str, str], kind: str, base_url: str,
                 now: Any) -> None:
    """Fill a post from `fields` (name -> selector) read on `node`."""
    for name, expr in fields.items():
        if name == "url":
            link = extract_first(node, expr, kind)
            if link:
                post.url = _join(base_url, link)
                post.canonical_url = ""
        elif name == "time":
            value = extract_first(node, expr, kind)
            found = parse_time(value, now=now) if value else None
            if found:
                post.published_at = found
        else:
            value = extract_text(node, expr, kind)
            if name in ("title", "text", "author"):
                if value:
                    setattr(post, name, value)
            elif name in ("reposts", "comments", "likes"):  # counts, as the json type reads them
                from yuqing.crawlers.spiders.json_api import to_int

                if value and to_int(value) is not None:
                    setattr(post, name, to_int(value))
            elif value:
                post.extra[name] = value


def _join(base: str, link: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, link.strip())


class HtmlSpider(BaseSpider):
    source_type = "html"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.source.url, "parse_list", meta={"page": 1}, dont_filter=True)

    def parse_list(self, response: Response) -> Iterator[Any]:
        kind = self.source.selector_type
        page = response.meta.get("page", 1)
        sel = page_selector(response)
        items = select(sel, self.source.item, kind)
        if not items:
            raise SourceError(
                f"no posts found on {response.url}: the item selector {self.source.item!r} matched nothing "
                "(has the page layout changed?)"
            )
        posts: list[Post] = []
        for item in items:
            post = self.post("")
            apply_fields(post, item, self.source.fields, kind, response.url, self.now)
            if not post.url:
                if not post.title and not post.text:
                    continue
                # an item without a link: the list page plus its content keeps it unique
                post.url = post.canonical_url = f"{canonical_url(response.url)}#{content_hash(post.title, post.text)[:16]}"
            elif not post.title and not post.text and not self.source.detail:
                continue
            posts.append(post)
        if not posts:
            raise SourceError(
                f"no posts found on {response.url}: {len(items)} items matched {self.source.item!r} "
                f"but the field selectors {self.source.fields} gave no title or text"
            )
        if self.source.detail:
            with_link = [p for p in posts if not p.canonical_url]
            yield from (p for p in posts if p.canonical_url)
            yield from self.follow_details(with_link, "parse_detail")
        else:
            yield from posts
        if self.source.next_page and page < self.max_pages:
            link = extract_first(sel, self.source.next_page, kind)
            if link:
                yield self.request(_join(response.url, link), "parse_list", meta={"page": page + 1})

    def refresh_request(self, url: str) -> Request | None:
        """A stored post's detail page again (its counts, when `detail` selects them)."""
        if not self.source.detail or "#" in url:
            return None  # no page of its own: the list page re-read on each run is its refresh
        return self.request(url, "parse_detail", fatal=False, meta={"post": self.post(url)})

    def parse_detail(self, response: Response) -> Iterator[Post]:
        post: Post = response.meta["post"]
        sel = page_selector(response)
        apply_fields(post, sel, self.source.detail, self.source.selector_type, response.url, self.now)
        post.url = post.url or response.url
        if not post.title and not post.text:
            raise SourceError(f"the detail selectors {self.source.detail} found no title or text on {response.url}")
        yield post
