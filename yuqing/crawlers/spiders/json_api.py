"""`json` sources: an API read by field paths.

Config: `list_path` is the path to the list of posts (`data.items`); `fields` maps title/text/url/
time/author/reposts/comments/likes/id (others go to Post.extra) to paths inside one post
(`user.name`, `pics[0].url` or `pics.0.url`). Pagination: `{page}` in the URL (or in a POST
`body`), or `next_page` = the name of the page query parameter; pages count from 1 and stop at an
empty list or `max_pages`. Malformed JSON and a missing list are errors in words. A JSONP wrapper
(`callback({...})`) is unwrapped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Request, Response

from yuqing.crawlers.dates import parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.text import canonical_url, clean_text, decode_body
from yuqing.errors import SourceError
from yuqing.models import Post, content_hash

logger = logging.getLogger(__name__)

MISSING = object()
_STEP = re.compile(r"[^.\[\]]+|\[(-?\d+)\]")
_JSONP = re.compile(r"^\s*[\w.$]+\s*\((.*)\)\s*;?\s*$", re.S)
_COUNTS = ("reposts", "comments", "likes")


def get_path(data: Any, path: str) -> Any:
    """`a.b[0].c` or `a.b.0.c` inside parsed JSON; MISSING when any step is absent."""
    node = data
    for match in _STEP.finditer(path):
        key = match.group(1) if match.group(1) is not None else match.group(0)
        if isinstance(node, list):
            try:
                node = node[int(key)]
            except (ValueError, IndexError):
                return MISSING
        elif isinstance(node, dict):
            if key not in node:
                return MISSING
            node = node[key]
        else:
            return MISSING
    return node


def load_json(response: Response) -> Any:
    """The response as JSON, or SourceError saying why not."""
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
    text, _ = decode_body(response.body, ctype)
    if not text.strip():
        raise SourceError(f"malformed JSON from {response.url}: the response is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        wrapped = _JSONP.match(text)
        if wrapped:
            try:
                return json.loads(wrapped.group(1))
            except json.JSONDecodeError:
                pass
        if text.lstrip()[:1] == "<":
            raise SourceError(f"malformed JSON from {response.url}: got an HTML page instead") from None
        raise SourceError(
            f"malformed JSON from {response.url}: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def to_int(value: Any) -> int | None:
    """Counts as sites write them: 12, "12", "1.2万", "100+"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().rstrip("+")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(万|w|亿)?", text)
    if not m:
        return None
    scale = {"万": 10_000, "w": 10_000, "亿": 100_000_000}.get(m.group(2) or "", 1)
    return int(float(m.group(1)) * scale)


def with_param(url: str, name: str, value: Any) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, str(value)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def post_from_record(record: Any, fields: dict[str, str], base_url: str, source: str, now: Any) -> Post | None:
    """One JSON record -> Post by field paths; None when it has neither title nor text."""
    post = Post(url="", source=source)
    ident = ""
    for name, path in fields.items():
        value = get_path(record, path)
        if value is MISSING or value is None or value == "":
            continue
        if name == "url":
            post.url = urljoin(base_url, str(value).strip())
        elif name == "time":
            post.published_at = parse_time(value, now=now)
        elif name in _COUNTS:
            setattr(post, name, to_int(value))
        elif name in ("title", "text", "author"):
            setattr(post, name, clean_text(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
        elif name == "id":
            ident = str(value)
            post.extra["id"] = ident
        else:
            post.extra[name] = value
    if not post.title and not post.text:
        return None
    if not post.url:
        post.url = post.canonical_url = f"{canonical_url(base_url)}#{ident or content_hash(post.title, post.text)[:16]}"
    return post


class JsonSpider(BaseSpider):
    source_type = "json"

    @property
    def paged(self) -> bool:
        return "{page}" in self.source.url or "{page}" in self.source.body or bool(self.source.next_page)

    def page_request(self, page: int) -> Request:
        src = self.source
        url = src.url.replace("{page}", str(page))
        if src.next_page and "{page}" not in src.url and "{page}" not in src.body:
            url = with_param(url, src.next_page, page)
        body = src.body.replace("{page}", str(page)) if src.body else None
        headers = {"Accept": "application/json, text/javascript, */*;q=0.1"}
        if body is not None:
            headers["Content-Type"] = (
                "application/json" if body.lstrip()[:1] in ("{", "[") else "application/x-www-form-urlencoded"
            )
        return self.request(url, "parse_api", method=src.method.upper(), body=body, headers=headers,
                            meta={"page": page}, dont_filter=True)

    def first_requests(self) -> Iterable[Request]:
        yield self.page_request(1)

    def records(self, data: Any, url: str) -> list[Any]:
        found = get_path(data, self.source.list_path)
        if found is MISSING:
            raise SourceError(f"no list at {self.source.list_path!r} in the JSON from {url}")
        if isinstance(found, dict):  # some APIs key their lists "0", "1", ...
            found = list(found.values())
        if not isinstance(found, list):
            raise SourceError(f"{self.source.list_path!r} in the JSON from {url} is not a list but {type(found).__name__}")
        return found

    def refresh_request(self, url: str) -> Request | None:
        """A stored post's own URL, read as JSON: the record itself, or a list holding it."""
        if "#" in url:
            return None  # the post has no URL of its own: re-reading the list is its refresh
        return self.request(url, "parse_refresh", fatal=False,
                            headers={"Accept": "application/json, text/javascript, */*;q=0.1"})

    def parse_refresh(self, response: Response) -> Iterator[Post]:
        data = load_json(response)
        found = get_path(data, self.source.list_path)
        record = data
        if isinstance(found, list):
            record = found[0] if len(found) == 1 else next(
                (r for r in found if get_path(r, self.source.fields.get("url", "url")) not in (MISSING, None)
                 and canonical_url(urljoin(response.url, str(get_path(r, self.source.fields.get("url", "url")))))
                 == canonical_url(response.url)), None)
        elif isinstance(data, dict) and isinstance(data.get("data"), dict):
            record = data["data"]
        if record is None:
            raise SourceError(f"the post at {response.url} is not in the JSON it serves")
        post = post_from_record(record, self.source.fields, response.url, self.source.name, self.now)
        if post is None:
            raise SourceError(f"no title or text for the post at {response.url}")
        post.url, post.canonical_url = response.url, ""
        yield post

    def parse_api(self, response: Response) -> Iterator[Any]:
        page = response.meta.get("page", 1)
        records = self.records(load_json(response), response.url)
        base = self.source.url.replace("{page}", "1")
        for record in records:
            post = post_from_record(record, self.source.fields, base, self.source.name, self.now)
            if post is not None:
                yield post
        if records and self.paged and page < self.max_pages:
            yield self.page_request(page + 1)
