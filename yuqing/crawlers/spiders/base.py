"""What every yuqing spider shares: built from one SourceConfig, errors recorded in words.

A spider's parse methods (`parse_*`) are plain functions of a Scrapy response that yield Posts and
follow-up Requests and raise SourceError / BlockedError; they can be tested on a response built
from saved bytes, without a reactor. `on_response` / `on_error` wrap them for a real crawl: an HTTP
error, a timeout or a parse failure becomes the source's error in words, and a block (captcha,
risk control, expired login) stops the source's run at once — we never try to get around it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from scrapy.utils.datatypes import SequenceExclude

from yuqing.errors import BlockedError, SourceError
from yuqing.models import CrawlStats, Post
from yuqing.settings import Settings, SourceConfig

logger = logging.getLogger(__name__)

# Let every final status reach our callback (so a 404 is reported in words) but keep redirects
# for Scrapy's RedirectMiddleware, which then also catches redirect loops.
_ALL_BUT_REDIRECTS = SequenceExclude(range(300, 400))


def parse_cookies(header: str) -> dict[str, str]:
    """'a=1; b=2' -> {'a': '1', 'b': '2'} (what a user copies from the browser)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a sloppy cookie string: split by hand
        pass
    if jar:
        return {k: m.value for k, m in jar.items()}
    pairs = (p.split("=", 1) for p in header.split(";") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}


@dataclass
class PostBatch:
    """The posts of one page, passed through the item pipeline together: one trip through Scrapy's
    item machinery per page instead of one per post (a feed page holds dozens; bench/crawl.py).

    `cleaned`: every post's title, text and author already went through text.clean_text, so the
    pipeline's PostCleaner does not clean them again (it still converts to simplified, trims and
    hashes). Our spiders clean as they parse, because they need the clean words there: to skip
    empty entries and to name posts that have no link of their own.
    """

    posts: list[Post] = field(default_factory=list)
    cleaned: bool = False
    # re-visits of stored posts (`refresh`): the store records an engagement observation for each
    # and the locality match is skipped (the post matched when it was first stored)
    refresh: bool = False


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


class BaseSpider(scrapy.Spider):
    """One run of one configured source."""

    name = "yuqing"
    source_type = ""

    def __init__(
        self,
        source: SourceConfig,
        settings: Settings,
        stats: CrawlStats | None = None,
        seen: Callable[[list[str]], set[str]] | None = None,
        now: datetime | None = None,
        recent: Callable[[], list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"yuqing-{source.name}", **kwargs)
        self.source = source
        self.app_settings = settings
        self.crawl_stats = stats or CrawlStats(source=source.name)
        self._seen = seen
        self._recent = recent
        self.now = now or datetime.now(timezone.utc)
        self.max_pages = source.max_pages or settings.crawl.max_pages
        self.blocked = False
        self._cookies = parse_cookies(source.cookies) if source.cookies else {}

    # -- building requests ------------------------------------------------------------------
    def request(
        self,
        url: str,
        parser: str,
        *,
        fatal: bool = True,
        method: str = "GET",
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        meta: dict[str, Any] | None = None,
        dont_filter: bool = False,
    ) -> Request:
        """A request whose response goes to `self.<parser>`; `fatal` errors fail the run."""
        all_headers = {**self.default_headers(), **self.source.headers, **(headers or {})}
        req_meta: dict[str, Any] = {"parser": parser, "fatal": fatal, "handle_httpstatus_list": _ALL_BUT_REDIRECTS}
        if self.source.proxy:
            req_meta["proxy"] = self.source.proxy
        req_meta.update(meta or {})
        return Request(
            # scrapy types cookies as an invariant dict[str | bytes, ...]; the dict[str, str] it is given is fine
            url, method=method, body=body, headers=all_headers, cookies=dict(self._cookies),  # type: ignore[arg-type]
            meta=req_meta,
            callback=self.on_response, errback=self.on_error, dont_filter=dont_filter,
        )

    def default_headers(self) -> dict[str, str]:
        return {}

    def first_requests(self) -> Iterable[Request]:
        raise NotImplementedError

    async def start(self) -> Any:
        for req in self.start_requests():
            yield req

    def start_requests(self) -> Iterable[Request]:  # Scrapy < 2.13 calls this directly
        try:
            yield from self.first_requests()
        except SourceError as exc:
            self.record_error(str(exc), fatal=True)
        yield from self.refresh_requests()

    # -- refresh: re-visiting stored posts ----------------------------------------------------
    def refresh_requests(self) -> Iterator[Request]:
        """One request per post of this source first seen within `refresh` (newest first), through
        the same downloader as the rest of the run: robots.txt, the per-source delay and
        AutoThrottle hold for them too. Posts older than the window are never asked for."""
        if not self.source.refresh or self._recent is None:
            return
        urls = self._recent()
        asked = 0
        for url in urls:
            try:
                req = self.refresh_request(url)
            except SourceError as exc:
                self.record_error(str(exc), fatal=False)
                continue
            if req is None:
                continue
            req.meta["refresh"] = True
            req.meta["fatal"] = False  # one post gone or refused must not fail the run
            asked += 1
            yield req
        logger.info("%s: re-visiting %d of %d recent posts", self.source.name, asked, len(urls))

    def refresh_request(self, url: str) -> Request | None:
        """The request that re-reads one stored post; None when the type has no way to (a feed:
        its items carry no counts). Types with a detail page override this."""
        return None

    def seen_urls(self, urls: list[str]) -> set[str]:
        """Canonical URLs stored by earlier runs (their detail pages are not fetched again)."""
        return self._seen(urls) if self._seen and urls else set()

    # -- handling responses -----------------------------------------------------------------
    def check_response(self, response: Response) -> None:
        """Raise for a status that is not a page: blocked first, then any HTTP error."""
        if response.status == 432:
            raise BlockedError(f"blocked: risk control (HTTP 432 from {host_of(response.url)})")
        if response.status >= 400:
            raise SourceError(f"HTTP {response.status} from {response.url}")
        if 300 <= response.status < 400:
            raise SourceError(f"HTTP {response.status} from {response.url} without a usable redirect")

    def on_response(self, response: Response) -> Iterator[Any]:
        """Requests go out as the parser yields them; the page's posts leave together, as one
        PostBatch, at the end (also when parsing failed half-way: what was read is kept)."""
        fatal = response.meta.get("fatal", True)
        posts: list[Post] = []
        try:
            self.check_response(response)
            self.crawl_stats.pages += 1
            parser = getattr(self, response.meta["parser"])
            for out in parser(response):
                if isinstance(out, Post):
                    posts.append(out)
                else:
                    yield out
        except BlockedError as exc:
            self.record_error(str(exc), fatal=True)
            self.blocked = True
            yield from self.batch(posts, refresh=bool(response.meta.get("refresh")))
            raise CloseSpider("blocked") from None
        except SourceError as exc:
            self.record_error(str(exc), fatal=fatal)
            posts.extend(self._fallback(response.meta))
        except Exception as exc:  # a page we could not read must not stop the other pages
            logger.exception("%s: parsing %s failed", self.source.name, response.url)
            self.record_error(f"could not parse {response.url}: {type(exc).__name__}: {exc}", fatal=fatal)
            posts.extend(self._fallback(response.meta))
        yield from self.batch(posts, refresh=bool(response.meta.get("refresh")))

    def on_error(self, failure: Any) -> Iterator[Any]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else self.source.url
        fatal = request.meta.get("fatal", True) if request is not None else True
        self.record_error(self.describe_failure(failure.value, url), fatal=fatal)
        if request is not None and not request.meta.get("refresh"):
            yield from self.batch(list(self._fallback(request.meta)))

    def batch(self, posts: list[Post], refresh: bool = False) -> Iterator[PostBatch]:
        if posts:
            self.crawl_stats.fetched += len(posts)
            yield PostBatch(posts, cleaned=True, refresh=refresh)  # every parser cleans title, text and author

    @staticmethod
    def _fallback(meta: dict[str, Any]) -> Iterator[Post]:
        """A detail page failed: keep what the list page said about the post (nothing lost)."""
        post = meta.get("post")
        if isinstance(post, Post):
            yield post

    def describe_failure(self, exc: BaseException, url: str) -> str:
        kind = type(exc).__name__
        text = str(exc)
        if "max redirections" in text:
            limit = self.settings.getint("REDIRECT_MAX_TIMES") if hasattr(self, "settings") else 0
            return f"redirect loop: gave up after {limit or 'too many'} redirects starting at {url}"
        if "robots.txt" in text.lower():
            return f"refused by robots.txt: {url} is disallowed for {self.robots_agent()}"
        if "max size" in text or kind in ("DownloadCancelledError", "CancelledError") and "size" in text:
            limit = self.settings.getint("DOWNLOAD_MAXSIZE") if hasattr(self, "settings") else 0
            return f"response too large from {url} (over {limit / 1024**2:g} MB); nothing stored"
        if "Timeout" in kind or "timed out" in text.lower() or "took longer than" in text:
            timeout = self.settings.getfloat("DOWNLOAD_TIMEOUT") if hasattr(self, "settings") else 0
            return f"timed out after {timeout:g}s fetching {url}"
        if "ConnectionRefused" in kind:
            return f"connection refused by {host_of(url)}"
        if "DNS" in kind or "CannotResolveHost" in kind:
            return f"cannot resolve host {host_of(url)}"
        return f"{kind} fetching {url}: {text}".strip().rstrip(":")

    def robots_agent(self) -> str:
        """The user agent robots.txt rules are read for (Scrapy's choice: ROBOTSTXT_USER_AGENT,
        else the User-Agent), by its product token: "yuqing" for "yuqing/0.1 (+...)"."""
        agent = ""
        if hasattr(self, "settings"):
            agent = self.settings.get("ROBOTSTXT_USER_AGENT") or self.settings.get("USER_AGENT") or ""
        agent = agent or self.app_settings.crawl.user_agent
        return agent.split("/")[0].split()[0] if agent.strip() else "our user agent"

    def record_error(self, message: str, *, fatal: bool) -> None:
        """Count an error; a fatal one (a list/feed/API page, a block) becomes the run's error."""
        self.crawl_stats.errors += 1
        if fatal and self.crawl_stats.error is None:
            self.crawl_stats.error = message
        logger.warning("%s: %s", self.source.name, message)

    # -- helpers for parsers ----------------------------------------------------------------
    def post(self, url: str, **fields: Any) -> Post:
        return Post(url=url, source=self.source.name, **fields)

    def follow_details(
        self, posts: list[Post], parser: str, make_request: Callable[[Post], Request] | None = None
    ) -> Iterator[Any]:
        """Yield a detail request per post not stored yet; posts already stored count as duplicates."""
        from yuqing.crawlers.text import canonical_url

        canon = {id(p): p.canonical_url or canonical_url(p.url) for p in posts}
        stored = self.seen_urls(list(canon.values()))
        for post in posts:
            if canon[id(post)] in stored:
                self.crawl_stats.fetched += 1
                self.crawl_stats.duplicates += 1
                continue
            req = make_request(post) if make_request else self.request(post.url, parser, fatal=False)
            req.meta["post"] = post
            yield req
