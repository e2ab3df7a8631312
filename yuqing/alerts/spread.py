"""Spread signal: a post whose reposts+comments grow fast raises an alert scoped `post:<id>`.

Fires when, within the last hour, a post gained at least `min_new` reposts+comments, or grew by
`factor` times from at least `min_base`. The alert says which post, how fast and from which source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yuqing.store.engagement import growth

WINDOW_S = 3600.0


@dataclass
class SpreadFinding:
    kind: str
    key: str
    title: str
    fired: bool
    level: str | None
    quiet: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def detect(conn: Any, now: datetime, min_new: int = 500, factor: float = 10.0, min_base: int = 100,
           level: str = "yellow") -> list[SpreadFinding]:
    findings: list[SpreadFinding] = []
    for g in growth(conn, now, WINDOW_S):
        gained = g["last"] - g["first"]
        fast = gained >= min_new or (g["first"] >= min_base and g["last"] >= factor * g["first"])
        findings.append(SpreadFinding(
            kind="spread", key=f"post:{g['post_id']}", title=f"{g['source']} 传播加速：{g['title'][:40]}",
            fired=fast, level=level if fast else None, quiet=not fast and gained < min_new / 10,
            explanation={"post_id": g["post_id"], "source": g["source"], "url": g["url"],
                         # the post quoted: the case layer makes an incident of an alert with posts
                         "top_posts": [{"id": g["post_id"], "title": g["title"] or "(无标题)", "url": g["url"],
                                        "source": g["source"], "ts": g["to"]}],
                         "from": g["first"], "to": g["last"], "gained_per_hour": gained,
                         "since": g["from"], "until": g["to"]}))
    return findings
