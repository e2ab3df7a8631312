"""A period's figures from two GROUP BY passes (yuqing.store.reports.rollup, topic_rollup): totals,
per local day or hour, per source, per topic, and per day and source or topic for the trend page.

Grouping by the UTC hour as stored (a prefix of the ISO text) and turning each hour into the local
day and hour here is what keeps a month of 1.5 million posts to two reads of the covering index:
SQLite never parses a date per row, and a daylight-saving change lands on the right local day.
A zone whose offset is not whole hours puts each UTC hour in the local hour it starts in.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.store import Store
from yuqing.store import reports as q

logger = logging.getLogger(__name__)

UNSORTED = "未归类"


class Figures:
    """Sums of one period, read once; every accessor works on the few thousand grouped rows."""

    def __init__(self, store: Store, start: datetime, end: datetime, tz: str, *, topics: bool = True) -> None:
        self.zone = ZoneInfo(tz)
        self._local: dict[str, datetime] = {}
        self.rows = q.rollup(store, start, end)
        self.topic_rows = q.topic_rollup(store, start, end) if topics else []
        self.events = q.event_count(store, start, end)

    def local(self, hour: str) -> datetime:
        found = self._local.get(hour)
        if found is None:
            found = datetime.fromisoformat(f"{hour}:00:00").replace(tzinfo=timezone.utc).astimezone(self.zone)
            self._local[hour] = found
        return found

    def counts(self) -> dict[str, Any]:
        posts = sum(r["posts"] for r in self.rows)
        return {"posts": posts, "negative": sum(r["posts"] for r in self.rows if r["label"] == "negative"),
                "analysed": sum(r["posts"] for r in self.rows if r["label"] is not None),
                "sources": len({r["source"] for r in self.rows}), "events": self.events}

    def per_bucket(self, hourly: bool) -> list[dict[str, Any]]:
        """Posts and negatives per local day ('YYYY-MM-DD') or hour ('YYYY-MM-DD HH'), in order."""
        fmt = "%Y-%m-%d %H" if hourly else "%Y-%m-%d"
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.rows:
            cell = sums[self.local(r["hour"]).strftime(fmt)]
            cell[0] += r["posts"]
            cell[1] += r["posts"] if r["label"] == "negative" else 0
        return [{"bucket": k, "posts": v[0], "negative": v[1]} for k, v in sorted(sums.items())]

    def per_source(self) -> list[dict[str, Any]]:
        return _ranked((r["source"], r["label"], r["posts"]) for r in self.rows)

    def per_topic(self) -> list[dict[str, Any]]:
        """Posts per topic; an analysed post with no topic counts as 未归类 (as in the daily digest)."""
        return _ranked((name, r["label"], r["posts"]) for r in self.topic_rows for name in _topics(r))

    def per_day_split(self, by: str) -> list[dict[str, Any]]:
        """(day, name, posts, negative) per local day and source or topic."""
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        if by == "source":
            items = ((r["hour"], r["source"], r) for r in self.rows)
        else:
            items = ((r["hour"], name, r) for r in self.topic_rows for name in _topics(r, unsorted=False))
        for hour, name, r in items:
            cell = sums[(self.local(hour).strftime("%Y-%m-%d"), str(name))]
            cell[0] += r["posts"]
            cell[1] += r["posts"] if r["label"] == "negative" else 0
        return [{"day": d, "name": n, "posts": v[0], "negative": v[1]} for (d, n), v in sorted(sums.items())]


def _topics(row: dict[str, Any], unsorted: bool = True) -> list[str]:
    try:
        names = json.loads(row["topics"] or "[]")
    except ValueError:
        names = []
    names = [str(n) for n in names] if isinstance(names, list) else []
    if not names and unsorted and row["label"] is not None:
        return [UNSORTED]
    return names


def _ranked(items: Any) -> list[dict[str, Any]]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, label, posts in items:
        cell = sums[name]
        cell[0] += posts
        cell[1] += posts if label == "negative" else 0
    rows: list[dict[str, Any]] = [{"name": k, "posts": v[0], "negative": v[1]} for k, v in sums.items()]
    rows.sort(key=lambda r: (-r["posts"], r["name"]))
    return rows
