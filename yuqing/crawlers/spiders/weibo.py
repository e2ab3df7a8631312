"""`weibo` preset: m.weibo.cn's search API (api/container/getIndex), as in ../shared/SOURCES.md §3.

The answer is `{ok, data: {cards: [...]}}`; a card holds an `mblog` or a `card_group` of cards with
one. Texts are HTML (emoticons are <img alt>, topics #...#, a 全文 link when truncated); times
are relative ("5分钟前", "昨天 12:00", "06-14") or `Wed Oct 19 23:44:36 +0800 2022`.
`ok: -100` means a login is needed (the message says whether no cookie was set or the one set
expired), HTTP 432 is Weibo's risk control: both stop the run and are recorded, never worked around.
A post marked `isLongText` whose answer carries no `longText` is cut: its full text comes from
`/statuses/extend?id=<mid>`, a detail request whose failure keeps the cut text. `url` replaces the site
base (for a mirror or a test server), or, with a path, names the full API URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy.http import Request, Response

from yuqing.crawlers.dates import parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.spiders.json_api import load_json, to_int, with_param
from yuqing.crawlers.text import clean_text
from yuqing.errors import BlockedError, SourceError
from yuqing.models import Post

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://m.weibo.cn"
API_PATH = "/api/container/getIndex"
_MORE_LINK = re.compile(r"<a[^>]*>\s*全文\s*</a>")  # "read more" on a truncated post


def search_containerid(keyword: str, realtime: bool = True) -> str:
    return f"100103type={61 if realtime else 1}&q={keyword}&t=0"


def iter_mblogs(cards: list[Any]) -> Iterator[dict[str, Any]]:
    for card in cards or []:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        for sub in card.get("card_group") or []:
            if isinstance(sub, dict) and isinstance(sub.get("mblog"), dict):
                yield sub["mblog"]


def mblog_text(mblog: dict[str, Any]) -> str:
    long_text = (mblog.get("longText") or {}).get("longTextContent") if isinstance(mblog.get("longText"), dict) else None
    if long_text:
        return clean_text(long_text)
    html = _MORE_LINK.sub("", str(mblog.get("text") or mblog.get("text_raw") or ""))
    return clean_text(html).removesuffix("...").rstrip()


def mblog_to_post(mblog: dict[str, Any], source: str, now: Any) -> Post | None:
    mid = str(mblog.get("mid") or mblog.get("id") or "")
    if not mid:
        return None
    user: dict[str, Any] = mblog["user"] if isinstance(mblog.get("user"), dict) else {}
    uid = str(user.get("id") or "")
    bid = str(mblog.get("bid") or mblog.get("mblogid") or "")
    url = f"https://weibo.com/{uid}/{bid}" if uid and bid else f"https://m.weibo.cn/detail/{mid}"
    text = mblog_text(mblog)
    extra: dict[str, Any] = {"mid": mid}
    if bid:
        extra["bid"] = bid
    if mblog.get("region_name"):
        extra["region"] = clean_text(str(mblog["region_name"]))
    if mblog.get("source"):
        extra["client"] = clean_text(str(mblog["source"]))
    retweet = mblog.get("retweeted_status")
    if isinstance(retweet, dict):
        original = mblog_text(retweet)
        ruser = retweet.get("user") if isinstance(retweet.get("user"), dict) else None
        extra["retweeted"] = {"mid": str(retweet.get("mid") or retweet.get("id") or ""), "text": original}
        if original:
            # a repost counts for what it reposts: the locality may only be named there
            name = clean_text(str(ruser.get("screen_name") or "")) if ruser else ""
            who = f"@{name}" if name else "原微博"
            text = f"{text}\n//{who}: {original}" if text else f"//{who}: {original}"
    if not text:
        return None
    return Post(
        url=url,
        source=source,
        title="",
        text=text,
        author=clean_text(str(user.get("screen_name") or "")),
        published_at=parse_time(mblog.get("created_at"), now=now),
        reposts=to_int(mblog.get("reposts_count")),
        comments=to_int(mblog.get("comments_count")),
        likes=to_int(mblog.get("attitudes_count")),
        extra=extra,
    )


def login_required(cookie_set: bool, why: str) -> BlockedError:
    if cookie_set:
        return BlockedError(f"login required: cookie expired? ({why})")
    return BlockedError(f"login required: no cookie is set ({why}); set `cookies` to a logged-in m.weibo.cn "
                        "cookie, or use RSSHub's /weibo/keyword route (README, Sources)")


def check_answer(data: Any, url: str, cookie_set: bool = True) -> None:
    """Raise for a refusal: ok:-100 is a login needed, because none was set or it expired."""
    if not isinstance(data, dict):
        raise SourceError(f"unexpected answer from {url}: not a JSON object")
    ok = data.get("ok")
    if ok == -100 or str(ok) == "-100":
        msg = data.get("msg") or "login required"
        raise login_required(cookie_set, f"m.weibo.cn answered ok:-100, {msg}")


def needs_long_text(mblog: dict[str, Any]) -> bool:
    long_text = mblog.get("longText")
    return bool(mblog.get("isLongText")) and not (isinstance(long_text, dict) and long_text.get("longTextContent"))


class WeiboSpider(BaseSpider):
    source_type = "weibo"

    def api_url(self, page: int) -> str:
        keyword = self.source.keyword or self.app_settings.locality.name
        given = self.source.url.rstrip("/")
        if given and urlsplit(given).path not in ("", "/"):
            url = given.replace("{keyword}", quote(keyword))
            if "containerid=" not in url:
                url = with_param(url, "containerid", search_containerid(keyword))
        else:
            base = given or DEFAULT_BASE
            url = f"{base}{API_PATH}?containerid={quote(search_containerid(keyword), safe='')}&page_type=searchall"
        return with_param(url, "page", page) if page > 1 else url

    def default_headers(self) -> dict[str, str]:
        keyword = self.source.keyword or self.app_settings.locality.name
        base = self.source.url.rstrip("/") or DEFAULT_BASE
        origin = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"
        return {
            "Accept": "application/json, text/plain, */*",
            "MWeibo-Pwa": "1",
            "X-Requested-With": "XMLHttpRequest",
            "Referer": f"{origin}/p/searchall?containerid={quote(search_containerid(keyword, False), safe='')}",
        }

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.api_url(1), "parse_index", meta={"page": 1}, dont_filter=True)

    def parse_index(self, response: Response) -> Iterator[Any]:
        if b"passport.weibo.cn" in response.url.encode() or response.body.lstrip()[:1] == b"<":
            raise login_required(bool(self._cookies), f"{response.url} answered with a login page")
        data = load_json(response)
        check_answer(data, response.url, bool(self._cookies))
        cards = (data.get("data") or {}).get("cards") if isinstance(data.get("data"), dict) else None
        if data.get("ok") in (0, "0") and not cards:
            return  # "no more results"
        count = 0
        cut: dict[int, tuple[Post, dict[str, Any]]] = {}
        for mblog in iter_mblogs(cards or []):
            post = mblog_to_post(mblog, self.source.name, self.now)
            if post is not None:
                count += 1
                if needs_long_text(mblog):
                    cut[id(post)] = (post, mblog)
                else:
                    yield post
        yield from self.follow_details([p for p, _ in cut.values()], "parse_long_text",
                                       lambda p: self.long_text_request(p, cut[id(p)][1]))
        page = response.meta.get("page", 1)
        if count and page < self.max_pages:
            yield self.request(self.api_url(page + 1), "parse_index", meta={"page": page + 1})

    def long_text_request(self, post: Post, mblog: dict[str, Any]) -> Request:
        base = self.source.url.rstrip("/")
        base = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}" if base else DEFAULT_BASE
        req = self.request(f"{base}/statuses/extend?id={quote(post.extra['mid'])}", "parse_long_text", fatal=False)
        req.meta["mblog"] = mblog
        return req

    def parse_long_text(self, response: Response) -> Iterator[Post]:
        """The full text of a cut post (`data.longTextContent`, or `data.text` as /statuses/show has it)."""
        post: Post = response.meta["post"]
        data = load_json(response)
        check_answer(data, response.url, bool(self._cookies))
        detail = data.get("data") if isinstance(data.get("data"), dict) else {}
        content = detail.get("longTextContent") or detail.get("text") or ""
        if not content:
            raise SourceError(f"no long text in the answer from {response.url}; the cut text is kept")
        mblog = {**response.meta["mblog"], "longText": {"longTextContent": content}}
        full = mblog_to_post(mblog, self.source.name, self.now)
        yield full if full is not None else post
