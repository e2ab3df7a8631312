"""Spread signal: a post whose reposts+comments grow fast raises an alert scoped `post:<id>`, an
event whose posts together grow fast one scoped `event:<id>`.

Fires when, within the last hour, a post gained at least `min_new` reposts+comments, or grew by
`factor` times from at least `min_base`. The alert says which post, how fast and from which source.

An event is held to the same thresholds over the sum of its posts' growth, leaving out the posts
that fire on their own and counting only when at least `MIN_POSTS` of the rest grew: an event
carried by one fast post is that post's alert, not a second one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yuqing.store.engagement import event_growth, growth

WINDOW_S = 3600.0
MIN_POSTS = 2  # posts that must grow together for an event alert
TOP_POSTS = 5


@dataclass
class SpreadFinding:
    kind: str
    key: str
    title: str
    fired: bool
    level: str | None
    quiet: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def _fast(first: int, last: int, min_new: int, factor: float, min_base: int) -> bool:
    return last - first >= min_new or (first >= min_base and last >= factor * first)


def detect(conn: Any, now: datetime, min_new: int = 500, factor: float = 10.0, min_base: int = 100,
           level: str = "yellow") -> list[SpreadFinding]:
    findings: list[SpreadFinding] = []
    for g in growth(conn, now, WINDOW_S):
        gained = g["last"] - g["first"]
        fast = _fast(g["first"], g["last"], min_new, factor, min_base)
        findings.append(SpreadFinding(
            kind="spread", key=f"post:{g['post_id']}", title=f"{g['source']} 传播加速：{g['title'][:40]}",
            fired=fast, level=level if fast else None, quiet=not fast and gained < min_new / 10,
            explanation={"post_id": g["post_id"], "source": g["source"], "url": g["url"],
                         # the post quoted: the case layer makes an incident of an alert with posts
                         "top_posts": [{"id": g["post_id"], "title": g["title"] or "(无标题)", "url": g["url"],
                                        "source": g["source"], "ts": g["to"]}],
                         "from": g["first"], "to": g["last"], "gained_per_hour": gained,
                         "since": g["from"], "until": g["to"]}))
    return findings + detect_events(conn, now, min_new, factor, min_base, level)


def detect_events(conn: Any, now: datetime, min_new: int = 500, factor: float = 10.0, min_base: int = 100,
                  level: str = "yellow") -> list[SpreadFinding]:
    findings: list[SpreadFinding] = []
    for ev in event_growth(conn, now, WINDOW_S):
        posts = [p for p in ev["posts"] if not _fast(p["first"], p["last"], min_new, factor, min_base)]
        grew = sorted((p for p in posts if p["last"] > p["first"]), key=lambda p: (p["first"] - p["last"], p["post_id"]))
        first, last = sum(p["first"] for p in posts), sum(p["last"] for p in posts)
        gained = last - first
        fast = len(grew) >= MIN_POSTS and _fast(first, last, min_new, factor, min_base)
        by_source = Counter(p["source"] for p in grew)
        sources = [[name, by_source[name]] for name in sorted(by_source, key=lambda n: (-by_source[n], n))]
        findings.append(SpreadFinding(
            kind="spread", key=f"event:{ev['event_id']}", title=f"事件传播加速：{(ev['title'] or '')[:40]}",
            fired=fast, level=level if fast else None, quiet=not fast and gained < min_new / 10,
            # `event` and `sources` as the event alerts give them, so the message shows them alike
            explanation={"event_id": ev["event_id"], "event": {"id": ev["event_id"], "title": ev["title"]},
                         "sources": sources, "posts": len(grew),
                         "top_posts": [{"id": p["post_id"], "title": p["title"] or "(无标题)", "url": p["url"],
                                        "source": p["source"], "ts": p["to"], "gained": p["last"] - p["first"]}
                                       for p in grew[:TOP_POSTS]],
                         "from": first, "to": last, "gained_per_hour": gained,
                         "since": min((p["from"] for p in posts), default=None),
                         "until": max((p["to"] for p in posts), default=None)}))
    return findings
