"""`hotlist` sources (热搜/热榜): one ranked list per poll, stored whole as a snapshot.

Two forms, told apart by the response itself:

* a JSON API read by field paths, named as the `json` type names them: `list_path` is the path to
  the list (default: the document itself when it is a list, else its `data` list, as DailyHotApi
  serves it); `fields` maps title/rank/heat/url to paths inside one entry (default
  `{title = "title", heat = "hot", url = "url"}`). A missing rank is the entry's position (from 1).
  Heat is read as counts are ("1.2万" -> 12000).
* an RSS/Atom feed (an RSSHub hot-list route): entries in feed order, rank = position, url = link.

The spider yields one `HotlistSnapshot`; the pipeline stores it (store.hotlist.save_snapshot) and
keeps each entry that names the locality as a post too, so the alert that detection raises on it
quotes a post and becomes a case.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import Request, Response

from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.spiders.json_api import MISSING, get_path, load_json, to_int
from yuqing.crawlers.text import canonical_url, decode_body
from yuqing.errors import SourceError
from yuqing.models import Post

logger = logging.getLogger(__name__)

DEFAULT_FIELDS = {"title": "title", "heat": "hot", "url": "url"}


def _link(base_url: str, value: Any) -> str:
    """An entry's link, absolute, http(s) only (anything else is dropped, never shown as a link)."""
    if value is MISSING or not value:
        return ""
    joined = urljoin(base_url, str(value).strip())
    return joined if urlsplit(joined).scheme in ("http", "https") else ""


def parse_entries(data: Any, list_path: str, fields: dict[str, str], base_url: str = "") -> list[dict[str, Any]]:
    """Ranked entries {title, rank, heat, url}; entries without a title are skipped."""
    if list_path:
        found = get_path(data, list_path)
    elif isinstance(data, dict) and isinstance(data.get("data"), list):
        found = data["data"]
    else:
        found = data
    if found is MISSING:
        raise SourceError(f"no list at {list_path!r} in the hot-list JSON")
    if not isinstance(found, list):
        where = repr(list_path) if list_path else "the document"
        raise SourceError(f"{where} in the hot-list JSON is not a list but {type(found).__name__}"
                          + ("" if list_path else " (set list_path)"))
    fields = {**DEFAULT_FIELDS, **fields} if fields else dict(DEFAULT_FIELDS)
    entries: list[dict[str, Any]] = []
    for position, record in enumerate(found, start=1):
        title = get_path(record, fields.get("title", "title"))
        if title is MISSING or title is None or not str(title).strip():
            continue
        rank = to_int(get_path(record, fields["rank"])) if "rank" in fields else None
        heat = to_int(get_path(record, fields["heat"])) if "heat" in fields else None
        url = get_path(record, fields["url"]) if "url" in fields else MISSING
        entries.append({"title": " ".join(str(title).split()), "rank": rank if rank is not None else position,
                        "heat": heat, "url": _link(base_url, url)})
    return entries


def parse_feed_entries(body: bytes, url: str, content_type: str | None, now: datetime) -> list[dict[str, Any]]:
    """A hot-list feed (RSSHub): entries in feed order, rank = position."""
    from yuqing.crawlers.spiders.feed import parse_feed_bytes

    posts = parse_feed_bytes(body, url, "hotlist", content_type, now=now)
    return [{"title": p.title, "rank": i, "heat": None, "url": _link(url, p.url) if not p.canonical_url else ""}
            for i, p in enumerate(posts, start=1) if p.title]


def read_entries(body: bytes, url: str, content_type: str | None, list_path: str, fields: dict[str, str],
                 now: datetime) -> list[dict[str, Any]]:
    """Either form, by what the response is: XML is a feed, anything else must be JSON."""
    text, _ = decode_body(body, content_type)
    if text.lstrip()[:1] == "<" and not text.lstrip().lower().startswith(("<!doctype html", "<html")):
        return parse_feed_entries(body, url, content_type, now)
    from scrapy.http import TextResponse

    data = load_json(TextResponse(url=url, body=body, headers={"Content-Type": content_type or "application/json"}))
    return parse_entries(data, list_path, fields, url)


def entry_url(source_url: str, entry: dict[str, Any]) -> str:
    """The stored URL of an entry's post: its own link, canonical; else the list's URL plus the title."""
    if entry.get("url"):
        return canonical_url(str(entry["url"]))
    digest = hashlib.sha1(str(entry["title"]).encode("utf-8")).hexdigest()[:16]
    return f"{canonical_url(source_url)}#hot-{digest}"


@dataclass
class HotlistSnapshot:
    """One poll of one hot list: what the pipeline stores as a snapshot."""

    source: str
    source_url: str
    polled_at: datetime
    entries: list[dict[str, Any]] = field(default_factory=list)

    def posts(self) -> list[Post]:
        """Each entry as a post (the pipeline keeps those naming the locality); entry urls become
        the posts' canonical URLs, so detection finds the post of an entry."""
        found = []
        for entry in self.entries:
            url = entry_url(self.source_url, entry)
            entry["url"] = url
            found.append(Post(url=url, canonical_url=url, source=self.source, title=str(entry["title"]),
                              text="", fetched_at=self.polled_at,
                              extra={"hotlist_rank": entry["rank"], "hotlist_heat": entry.get("heat")}))
        return found


class HotlistSpider(BaseSpider):
    source_type = "hotlist"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.source.url, "parse_hotlist", dont_filter=True,
                           headers={"Accept": "application/json, application/rss+xml, application/xml;q=0.9, */*;q=0.1"})

    def parse_hotlist(self, response: Response) -> Iterator[Any]:
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        polled = datetime.now(timezone.utc).replace(microsecond=0)
        entries = read_entries(response.body, response.url, ctype, self.source.list_path, self.source.fields, polled)
        if not entries:
            raise SourceError(f"the hot list from {response.url} has no entries")
        self.crawl_stats.fetched += len(entries)
        logger.info("%s: hot list of %d entries", self.source.name, len(entries))
        yield HotlistSnapshot(self.source.name, self.source.url, polled, entries)
