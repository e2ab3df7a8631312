"""Put analysed posts straight into a real store, as the analysis stage would leave them."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from yuqing.models import to_iso
from yuqing.store import Store

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday
_seq = itertools.count(1)


def add_post(store: Store, ts: datetime, *, label: str = "neutral", source: str = "news", title: str = "",
             text: str = "", topics: list[str] | None = None, keywords: list[str] | None = None,
             event_id: int | None = None, url: str | None = None, analyzed: bool = True,
             negative_prob: float | None = None) -> int:
    n = next(_seq)
    url = url or f"http://127.0.0.1:9/post/{n}"
    title = title or f"帖子{n}"
    prob = negative_prob if negative_prob is not None else (0.9 if label == "negative" else 0.1)
    topics = topics or []
    cur = store.conn.execute(
        "INSERT INTO posts(url, canonical_url, source, title, text, author, published_at, fetched_at, ts, extra,"
        " content_hash, analyzed_at, label, negative_prob, topics, topic_terms, keywords, simhash, event_id)"
        " VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (url, url, source, title, text, to_iso(ts), to_iso(ts), to_iso(ts), f"h{n}",
         to_iso(ts) if analyzed else None, label if analyzed else None, prob if analyzed else None,
         json.dumps(topics, ensure_ascii=False), json.dumps({t: keywords or [] for t in topics}, ensure_ascii=False),
         json.dumps(keywords or [], ensure_ascii=False), event_id),
    )
    return int(cur.lastrowid)


def add_event(store: Store, title: str, first: datetime, last: datetime, size: int = 0, sources: list[str] | None = None,
              keywords: list[str] | None = None) -> int:
    cur = store.conn.execute(
        "INSERT INTO events(title, size, negative, first_seen, last_seen, sources, keywords, updated_at)"
        " VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
        (title, size, to_iso(first), to_iso(last), json.dumps(sources or [], ensure_ascii=False),
         json.dumps(keywords or [], ensure_ascii=False), to_iso(last)),
    )
    return int(cur.lastrowid)


def background(store: Store, start: datetime, hours: int, per_hour: int = 4, negative_every: int = 4,
               source: str = "news", topics: list[str] | None = None) -> int:
    """A steady stream: `per_hour` posts an hour, every `negative_every`-th one negative."""
    n = 0
    with store.transaction():
        for h in range(hours):
            for i in range(per_hour):
                ts = start + timedelta(hours=h, minutes=(60 // per_hour) * i + 1)
                label = "negative" if (h * per_hour + i) % negative_every == 0 else "neutral"
                add_post(store, ts, label=label, source=source, topics=topics)
                n += 1
    return n


def spike(store: Store, at: datetime, count: int, *, minutes: int = 40, source: str = "news",
          title: str = "", topics: list[str] | None = None, keywords: list[str] | None = None,
          event_id: int | None = None, **kw: Any) -> list[int]:
    ids = []
    with store.transaction():
        for i in range(count):
            ts = at + timedelta(minutes=minutes * i / max(count, 1))
            ids.append(add_post(store, ts, label="negative", source=source, title=f"{title}{i}" if title else "",
                                topics=topics, keywords=keywords, event_id=event_id, **kw))
    return ids
