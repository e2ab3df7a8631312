"""A fast bulk path for big test stores: analysed posts inserted with executemany (no full-text rows)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from yuqing.models import to_iso
from yuqing.store import Store

TZ = ZoneInfo("Asia/Shanghai")


def bulk_posts(store: Store, n: int, first: date, days: int = 1, batch: int = 20_000) -> None:
    """`n` posts spread evenly over `days` local days from `first`, every fifth negative, Chinese text."""
    start = datetime.combine(first, time(0), TZ).astimezone(timezone.utc)
    step = timedelta(days=days) / max(n, 1)
    now = to_iso(datetime.now(timezone.utc))
    topics = json.dumps(["水电气暖"], ensure_ascii=False)
    for lo in range(0, n, batch):
        rows = []
        for i in range(lo, min(n, lo + batch)):
            ts = to_iso(start + step * i)
            url = f"https://example.org/bulk/{first}/{i}"
            label = "negative" if i % 5 == 0 else "neutral"
            rows.append((url, url, "tieba-lushan", f"芦山县龙门乡停水第{i}帖",
                         f"龙门乡小区停水已经三天，居民生活困难，希望有关部门尽快处理。编号{i}", ts, ts, ts, f"b{i}", now,
                         label, 0.9 if label == "negative" else 0.2, topics, "{}", "[]"))
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO posts(url, canonical_url, source, title, text, published_at, fetched_at, ts, content_hash,"
                " analyzed_at, label, negative_prob, topics, topic_terms, keywords)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
