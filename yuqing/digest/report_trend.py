"""The trend across days (the web app's 趋势 page): volume and negative share per day, per topic and
per source, over the last 30 or 90 local days. Figures are GROUP BY aggregates from the store.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from yuqing.digest.report import bounds
from yuqing.digest.report_figures import Figures
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

SPANS = (30, 90)
TOP = 10  # topics or sources drawn; the rest are summed as 其他 in the tables


def _share(neg: int, total: int) -> float | None:
    return neg / total if total else None


def _rows(days: list[date], split: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    index = {d.isoformat(): i for i, d in enumerate(days)}
    by_name: dict[str, list[list[int]]] = {}
    for r in split:
        i = index.get(r["day"])
        if i is None:
            continue
        cells = by_name.setdefault(str(r["name"]), [[0, 0] for _ in days])
        cells[i][0] += int(r["posts"])
        cells[i][1] += int(r["negative"])
    rows: list[dict[str, Any]] = []
    for name, cells in by_name.items():
        posts, neg = sum(c[0] for c in cells), sum(c[1] for c in cells)
        rows.append({"name": name, "posts": posts, "negative": neg, "negative_share": _share(neg, posts),
                     "points": [{"label": d.strftime("%m-%d"), "posts": c[0], "negative": c[1]}
                                for d, c in zip(days, cells, strict=True)],
                     "shares": [_share(c[1], c[0]) for c in cells]})
    rows.sort(key=lambda r: (-r["posts"], r["name"]))
    return rows[:top]


def collect_trend(settings: Settings, store: Store, span: int, end: date) -> dict[str, Any]:
    """`span` local days ending with `end` (inclusive)."""
    if span not in SPANS:
        raise ValueError(f"span must be one of {SPANS}, got {span}")
    first = end - timedelta(days=span - 1)
    start, stop = bounds(settings, first, end)
    days = [first + timedelta(days=i) for i in range(span)]
    fig = Figures(store, start, stop, settings.digest.timezone)
    got = {b["bucket"]: b for b in fig.per_bucket(False)}
    totals: list[dict[str, Any]] = []
    for d in days:
        b = got.get(d.isoformat(), {"posts": 0, "negative": 0})
        totals.append({"label": d.strftime("%m-%d"), "posts": int(b["posts"]), "negative": int(b["negative"])})
    posts, neg = sum(t["posts"] for t in totals), sum(t["negative"] for t in totals)
    return {
        "span": span, "first": first.isoformat(), "last": end.isoformat(), "labels": [d.strftime("%m-%d") for d in days],
        "totals": totals, "shares": [_share(t["negative"], t["posts"]) for t in totals],
        "posts": posts, "negative": neg, "negative_share": _share(neg, posts),
        "topics": _rows(days, fig.per_day_split("topic"), TOP),
        "sources": [{**r, "name": settings.source_title(r["name"])}
                    for r in _rows(days, fig.per_day_split("source"), TOP)],
    }
