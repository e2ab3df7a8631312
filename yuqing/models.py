"""The dataclasses every stage shares: a crawled Post, its Analysis, Events, Alerts, Deliveries.

Times are timezone-aware datetimes in UTC inside the program and ISO-8601 strings in the store;
`to_iso`/`from_iso` convert at the boundary so no stage has to guess.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, overload

Label = Literal["negative", "neutral", "positive"]
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

# Alert levels, lowest first: 蓝 (IV) .. 红 (I).
LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")
LEVEL_NAMES: dict[str, str] = {"blue": "蓝色(IV级)", "yellow": "黄色(III级)", "orange": "橙色(II级)", "red": "红色(I级)"}
LEVEL_ZH: dict[str, str] = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}

AlertState = Literal["open", "escalated", "resolved"]
SOURCE_TYPES: tuple[str, ...] = ("feed", "html", "json", "weibo", "tieba", "liuyan", "hotlist")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@overload
def to_iso(value: datetime) -> str: ...
@overload
def to_iso(value: None) -> None: ...
@overload
def to_iso(value: datetime | None) -> str | None: ...
def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


_SPACE = re.compile(r"\s+")


def content_hash(title: str, text: str) -> str:
    """Hash of the visible words, so the same post reached by two URLs is stored once."""
    body = _SPACE.sub("", f"{title}\n{text}")
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


@dataclass
class Post:
    """One public post as a spider yields it and the store keeps it.

    `author` is the display name the site shows, kept only to show a post in context;
    nothing in yuqing aggregates by author.
    """

    url: str
    source: str
    title: str = ""
    text: str = ""
    author: str = ""
    published_at: datetime | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    canonical_url: str = ""
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # forum, state, answered, ...
    content_hash: str = ""
    id: int | None = None

    def ensure_hash(self) -> str:
        if not self.content_hash:
            self.content_hash = content_hash(self.title, self.text)
        return self.content_hash

    @property
    def when(self) -> datetime:
        """The time the post is counted at: when it was published, else when we saw it."""
        return self.published_at or self.fetched_at

    def to_dict(self) -> dict[str, Any]:
        # not asdict(): its deep copy of `extra` was a tenth of a crawl's time (bench/crawl.py)
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["extra"] = dict(self.extra)
        data["published_at"] = to_iso(self.published_at)
        data["fetched_at"] = to_iso(self.fetched_at)
        return data

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Post:
        import json

        extra = row.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return cls(
            id=row.get("id"),
            url=row["url"],
            source=row["source"],
            title=row.get("title") or "",
            text=row.get("text") or "",
            author=row.get("author") or "",
            published_at=from_iso(row.get("published_at")),
            fetched_at=from_iso(row.get("fetched_at")) or utcnow(),
            canonical_url=row.get("canonical_url") or "",
            reposts=row.get("reposts"),
            comments=row.get("comments"),
            likes=row.get("likes"),
            extra=extra,
            content_hash=row.get("content_hash") or "",
        )


@dataclass
class TopicMatch:
    name: str
    score: float
    terms: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """What the analysis stage adds to a post (also what `classify` prints)."""

    label: Label
    negative_prob: float
    topics: list[TopicMatch] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    simhash: int = 0
    event_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The stable `classify` / `analyze_text` shape."""
        return {
            "label": self.label,
            "negative_prob": round(self.negative_prob, 4),
            "topics": [t.name for t in self.topics],
            "topic_terms": {t.name: t.terms for t in self.topics},
            "keywords": self.keywords,
        }


@dataclass
class Event:
    """Posts about the same incident, grouped across sources within a time window."""

    id: int | None
    title: str
    size: int
    first_seen: datetime
    last_seen: datetime
    negative_share: float = 0.0
    sources: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    simhash: int = 0


@dataclass
class Alert:
    """A raised warning about one scope: `kind` is locality | topic | event | source."""

    kind: str
    key: str
    level: str
    state: str = "open"
    opened_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    resolved_at: datetime | None = None
    title: str = ""
    explanation: dict[str, Any] = field(default_factory=dict)
    acknowledged_by: str | None = None
    ack_note: str | None = None
    id: int | None = None


@dataclass
class Delivery:
    """One message to one channel; the row is written before sending so nothing is lost or repeated."""

    kind: str  # "alert" or "digest"
    ref: str  # alert id, or digest date
    channel: str
    subject: str = ""
    state: str = "pending"  # pending | sent | failed (gave up)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    id: int | None = None


@dataclass
class CrawlStats:
    """What one source's run did, printed by `crawl` and kept in crawl_runs."""

    source: str
    fetched: int = 0
    matched: int = 0
    new: int = 0
    duplicates: int = 0
    errors: int = 0
    error: str | None = None
    started_at: datetime = field(default_factory=utcnow)
    pages: int = 0  # responses that reached a parser: "fetched 3 pages, parsed 0 posts" (alerts.health)
    finished_at: datetime | None = None
    # cut short by a shutdown (the daemon stopping, Ctrl-C), not by the source: `error` says so in
    # words, but the run does not count as one of the source's failures (Store.finish_run)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None
