"""`tieba` preset: Baidu Tieba's classic forum thread list and search pages (../shared/SOURCES.md §2).

Forum list (`forum = "芦山"`): `/f?kw=<forum>&pn=<offset>`, 50 threads a page; the list sits inside
`<code id="pagelet_html_frs-list/pagelet/thread_list">` as an HTML comment, which is unwrapped and
parsed again. Search (`keyword = "芦山"`, optionally within `forum`): `/f/search/res?qw=<kw>&pn=<n>`,
served in GBK whatever the URL says. A "百度安全验证" page is a captcha: the run stops and says so.
`url` replaces the site base, or, with a path, names the list/search page itself.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Request, Response

from yuqing.crawlers.dates import parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.spiders.json_api import to_int, with_param
from yuqing.crawlers.text import clean_text, decode_body
from yuqing.errors import BlockedError, SourceError
from yuqing.models import Post

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://tieba.baidu.com"
FORUM_PAGE = 50
_PAGELET = re.compile(
    r"<code[^>]*id=[\"']pagelet_html_frs-list/pagelet/thread_list[\"'][^>]*>\s*<!--(.*?)-->\s*</code>", re.S
)
_TID = re.compile(r"/p/(\d+)")
_CAPTCHA = ("百度安全验证", "安全验证", "wappass.baidu.com")


def permalink(tid: str) -> str:
    return f"{DEFAULT_BASE}/p/{tid}"


def page_text(response: Response) -> str:
    ctype = response.headers.get("Content-Type", b"").decode("latin-1") or None
    text, _ = decode_body(response.body, ctype)
    return text


def check_captcha(text: str, url: str) -> None:
    title = re.search(r"<title>(.*?)</title>", text[:5000], re.S | re.I)
    if "wappass.baidu.com" in url or (title and "安全验证" in title.group(1)):
        raise BlockedError(f"blocked: captcha page (百度安全验证) at {url}")


def parse_forum_html(text: str, url: str, source: str, now: Any) -> list[Post]:
    """Threads of a forum list page; SourceError when the page has no thread list at all."""
    check_captcha(text, url)
    found = _PAGELET.search(text)
    sel = Selector(text=found.group(1) if found else text)
    items = sel.css("li.j_thread_list")
    if not found and not items and not sel.css("#thread_list"):
        if any(word in text for word in _CAPTCHA):
            raise BlockedError(f"blocked: captcha page (百度安全验证) at {url}")
        raise SourceError(f"no thread list on {url} (no such forum, or the page layout changed)")
    forum = clean_text(Selector(text=text).css("a.card_title_fname::text").get() or "")
    posts = []
    for item in items:
        try:
            field = json.loads(item.attrib.get("data-field") or "{}")
        except json.JSONDecodeError:
            field = {}
        link = item.css("a.j_th_tit::attr(href)").get() or ""
        tid = str(field.get("id") or (_TID.search(link).group(1) if _TID.search(link) else ""))
        title = clean_text(item.css("a.j_th_tit::attr(title)").get() or "".join(item.css("a.j_th_tit ::text").getall()))
        if not tid or not title:
            continue
        author = field.get("author_name") or item.css(".frs-author-name::text, .tb_icon_author::attr(title)").get() or ""
        created = clean_text(item.css(".is_show_create_time::text").get() or "")
        replied = clean_text(item.css(".threadlist_reply_date::text").get() or "")
        extra: dict[str, Any] = {"tid": tid}
        if forum:
            extra["forum"] = forum
        if replied:
            extra["last_reply"] = replied
        images = item.css(".threadlist_media img::attr(bpic)").getall()
        if images:
            extra["images"] = images
        posts.append(
            Post(
                url=permalink(tid),
                source=source,
                title=title,
                text=clean_text("".join(item.css(".threadlist_abs ::text").getall())),
                author=clean_text(str(author).replace("主题作者: ", "")),
                published_at=parse_time(created or replied, now=now),
                comments=to_int(item.css("span.threadlist_rep_num::text").get()),
                extra=extra,
            )
        )
    return posts


def parse_search_html(text: str, url: str, source: str, now: Any) -> list[Post]:
    """Results of a search page; no result is an empty list, a captcha raises BlockedError."""
    check_captcha(text, url)
    sel = Selector(text=text)
    items = sel.css("div.s_post")
    if not items and any(word in text for word in _CAPTCHA) and not sel.css(".s_post_list"):
        raise BlockedError(f"blocked: captcha page (百度安全验证) at {url}")
    posts = []
    for item in items:
        link = item.css(".p_title a::attr(href)").get() or ""
        tid = _TID.search(link)
        title = clean_text("".join(item.css(".p_title a ::text").getall()))
        body = clean_text("".join(item.css(".p_content ::text").getall()))
        if not (title or body) or not link:
            continue
        post_url = permalink(tid.group(1)) if tid else urljoin(DEFAULT_BASE, link)
        extra: dict[str, Any] = {}
        if tid:
            extra["tid"] = tid.group(1)
        forum = clean_text("".join(item.css("a.p_forum ::text").getall()))
        if forum:
            extra["forum"] = forum
        authors = item.css("a")
        author = clean_text("".join(authors[-1].css("::text").getall())) if authors else ""
        posts.append(
            Post(
                url=post_url,
                source=source,
                title=title,
                text=body,
                author=author if author not in (forum, title) else "",
                published_at=parse_time(clean_text(item.css(".p_date::text").get() or ""), now=now),
                extra=extra,
            )
        )
    return posts


class TiebaSpider(BaseSpider):
    source_type = "tieba"

    @property
    def searching(self) -> bool:
        return bool(self.source.keyword)

    def page_url(self, page: int) -> str:
        given = self.source.url.rstrip("/")
        if given and urlsplit(given).path not in ("", "/"):
            url = given
        else:
            base = given or DEFAULT_BASE
            if self.searching:
                url = f"{base}/f/search/res?ie=utf-8&qw={quote(self.source.keyword)}&rn=20&sm=1&only_thread=0"
                if self.source.forum:
                    url += f"&kw={quote(self.source.forum)}"
            else:
                url = f"{base}/f?kw={quote(self.source.forum)}&ie=utf-8"
        if self.searching:
            return with_param(url, "pn", page) if page > 1 else url
        return with_param(url, "pn", (page - 1) * FORUM_PAGE) if page > 1 else url

    def default_headers(self) -> dict[str, str]:
        return {"Referer": f"{DEFAULT_BASE}/"}

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.page_url(1), "parse_page", meta={"page": 1}, dont_filter=True)

    def parse_page(self, response: Response) -> Iterator[Any]:
        text = page_text(response)
        parse = parse_search_html if self.searching else parse_forum_html
        posts = parse(text, response.url, self.source.name, self.now)
        yield from posts
        page = response.meta.get("page", 1)
        if posts and page < self.max_pages:
            yield self.request(self.page_url(page + 1), "parse_page", meta={"page": page + 1})
