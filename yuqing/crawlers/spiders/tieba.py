"""`tieba` preset: Baidu Tieba forums and search (../shared/SOURCES.md §2).

Forum (`forum = "芦山"`): Baidu retired the classic `/f?kw=` thread list; what still answers is the
client API `POST /c/f/frs/page`, signed (md5 of the sorted `k=v` pairs plus the client's constant)
and sent with the user's own `BDUSS` login cookie. Without that cookie the source says so in words
and does not run. A `url` with a path names a classic list page (a mirror, a saved copy): its list
sits inside `<code id="pagelet_html_frs-list/pagelet/thread_list">` as an HTML comment, unwrapped
and parsed again.
Search (`keyword = "芦山"`, optionally within `forum`): `/f/search/res?qw=<kw>&pn=<n>`, served in
GBK whatever the URL says. Baidu now renders it with JavaScript behind an anti-bot check, so a page
without results and without the site's "no results" words is an error in words, never a quiet 0.
A "百度安全验证" page is a captcha: the run stops and says so. `url` replaces the site base.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Request, Response

from yuqing.crawlers.dates import from_timestamp, parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.spiders.json_api import load_json, to_int, with_param
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
# what the classic search page says when it found nothing
_NO_RESULTS = ("抱歉，没有找到", "没有找到与", "未找到相关", "search_noresult", "s_noresult", "没有搜索到")
CLIENT_PATH = "/c/f/frs/page"
CLIENT_VERSION = "12.20.1.0"
CLIENT_PAGE = 30
_SIGN_SALT = "tiebaclient!!!"
NEEDS_BDUSS = (
    "a tieba forum source needs your own Baidu login cookie (cookies = \"BDUSS=...\", from a browser "
    "logged in to tieba.baidu.com): Baidu retired the /f?kw= thread list and its client API answers "
    "only a logged-in user. Without one, use RSSHub's /baidu/tieba/forum route as a feed source "
    "(README, Sources)"
)


def permalink(tid: str) -> str:
    return f"{DEFAULT_BASE}/p/{tid}"


def page_text(response: Response) -> str:
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
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
        tid = str(field.get("id") or (m.group(1) if (m := _TID.search(link)) else ""))
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


def parse_search_html(text: str, url: str, source: str, now: Any, *, first: bool = True) -> list[Post]:
    """Results of a search page: a captcha raises BlockedError; no result is an empty list only
    when the page says so (or on a later page), else SourceError: the layout changed."""
    check_captcha(text, url)
    sel = Selector(text=text)
    items = sel.css("div.s_post")
    if not items and any(word in text for word in _CAPTCHA) and not sel.css(".s_post_list"):
        raise BlockedError(f"blocked: captcha page (百度安全验证) at {url}")
    if not items and first and not any(word in text for word in _NO_RESULTS):
        raise SourceError(
            f"no posts on {url} and no \"no results\" words either: the layout changed or a cookie is needed "
            "(Tieba's search now renders with JavaScript behind an anti-bot check; RSSHub's "
            "/baidu/tieba/search route reads it, README Sources)")
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


def client_sign(fields: dict[str, str]) -> str:
    """The client's request signature: md5 of the sorted `k=v` pairs, unseparated, plus its salt."""
    joined = "".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hashlib.md5((joined + _SIGN_SALT).encode("utf-8")).hexdigest().upper()


def client_form(forum: str, page: int, bduss: str, client_id: str) -> dict[str, str]:
    fields = {
        "BDUSS": bduss, "_client_id": client_id, "_client_type": "2", "_client_version": CLIENT_VERSION,
        "_phone_imei": "000000000000000", "from": "tieba", "kw": forum, "pn": str(page), "rn": str(CLIENT_PAGE),
    }
    return {**fields, "sign": client_sign(fields)}


def _client_text(parts: Any) -> str:
    """Text of an `abstract` / `first_post_content` list: type 0 parts are text."""
    if isinstance(parts, str):
        return parts
    texts = [str(p.get("text") or "") for p in parts or [] if isinstance(p, dict) and str(p.get("type", "0")) == "0"]
    return "".join(texts)


def parse_client_answer(data: Any, url: str, forum: str, source: str, now: Any, *, first: bool = True) -> list[Post]:
    """Threads of a client-API answer; refusals and an empty first page (a dead cookie) in words."""
    if not isinstance(data, dict):
        raise SourceError(f"unexpected answer from {url}: not a JSON object")
    code = str(data.get("error_code", "0"))
    if code != "0":
        msg = str(data.get("error_msg") or "no message")
        if "登录" in msg or code in ("1", "110001", "220034"):
            raise BlockedError(f"login required: cookie expired? (Tieba's client API answered {code} {msg})")
        raise SourceError(f"Tieba's client API answered error {code}: {msg}")
    threads = data.get("thread_list")
    if not isinstance(threads, list) or (first and not threads):
        raise SourceError(f"Tieba's client API returned no threads for {forum}吧: the BDUSS cookie has expired?"
                          " (or the forum does not exist)")
    users = {str(u.get("id")): u for u in data.get("user_list") or [] if isinstance(u, dict)}
    posts = []
    for thread in threads:
        if not isinstance(thread, dict):
            continue
        tid = str(thread.get("tid") or thread.get("id") or "")
        title = clean_text(str(thread.get("title") or ""))
        body = clean_text(_client_text(thread.get("first_post_content")) or _client_text(thread.get("abstract")))
        if not tid or not (title or body):
            continue
        user = users.get(str(thread.get("author_id") or ""), {})
        created = str(thread.get("create_time") or "")
        extra: dict[str, Any] = {"tid": tid, "forum": f"{forum}吧"}
        images = [str(p.get("origin_src") or p.get("big_cdn_src") or p.get("cdn_src") or p.get("src"))
                  for p in thread.get("first_post_content") or [] if isinstance(p, dict) and str(p.get("type")) == "3"]
        if images:
            extra["images"] = images
        posts.append(Post(
            url=permalink(tid), source=source, title=title, text=body,
            author=clean_text(str(user.get("name_show") or user.get("name") or "")),
            published_at=from_timestamp(float(created)) if created.isdigit() else None,
            comments=to_int(thread.get("reply_num")), extra=extra,
        ))
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

    @property
    def via_client(self) -> bool:
        """A forum read through the client API (not a classic list page named by `url`)."""
        return not self.searching and urlsplit(self.source.url).path in ("", "/")

    def default_headers(self) -> dict[str, str]:
        return {"Referer": f"{DEFAULT_BASE}/"}

    def client_request(self, page: int) -> Request:
        base = self.source.url.rstrip("/") or DEFAULT_BASE
        client_id = "wappc_" + hashlib.md5(self.source.name.encode()).hexdigest()[:13]
        form = client_form(self.source.forum, page, self._cookies["BDUSS"], client_id)
        return self.request(base + CLIENT_PATH, "parse_client", method="POST", body=urlencode(form),
                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                            meta={"page": page}, dont_filter=True)

    def first_requests(self) -> Iterable[Request]:
        if self.via_client:
            if not self.source.forum:
                raise SourceError("a tieba source needs `forum` (the 吧's name) or `keyword` (a search)")
            if not self._cookies.get("BDUSS"):
                raise SourceError(NEEDS_BDUSS)
            yield self.client_request(1)
            return
        yield self.request(self.page_url(1), "parse_page", meta={"page": 1}, dont_filter=True)

    def parse_client(self, response: Response) -> Iterator[Any]:
        page = response.meta.get("page", 1)
        posts = parse_client_answer(load_json(response), response.url, self.source.forum, self.source.name,
                                    self.now, first=page == 1)
        yield from posts
        if posts and page < self.max_pages:
            yield self.client_request(page + 1)

    def parse_page(self, response: Response) -> Iterator[Any]:
        text = page_text(response)
        page = response.meta.get("page", 1)
        if self.searching:
            posts = parse_search_html(text, response.url, self.source.name, self.now, first=page == 1)
        else:
            posts = parse_forum_html(text, response.url, self.source.name, self.now)
        yield from posts
        if posts and page < self.max_pages:
            yield self.request(self.page_url(page + 1), "parse_page", meta={"page": page + 1})
