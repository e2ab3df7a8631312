"""Fill a real store with one analysed day (plus a week of history), events, alerts and source health.

The analysis and alerts stages are others' work: rows are written the way those stages write them
(posts through Store.add_posts, analysis columns by UPDATE and the search index, events and alerts by INSERT).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from yuqing.models import CrawlStats, Post, to_iso
from yuqing.store import Store

DAY = date(2024, 5, 1)
TZ = ZoneInfo("Asia/Shanghai")

SOURCES_TOML = """
[[sources]]
name = "county-news"
type = "feed"
url = "http://127.0.0.1:9/news.xml"

[[sources]]
name = "liuyan"
type = "liuyan"
weight = 2.0

[[sources]]
name = "tieba-lushan"
type = "tieba"
forum = "芦山"

[[sources]]
name = "broken-feed"
type = "feed"
url = "http://127.0.0.1:9/broken.xml"

[[sources]]
name = "quiet-feed"
type = "feed"
url = "http://127.0.0.1:9/quiet.xml"
"""

HOSTILE_TITLE = '<script>alert("pwn")</script>芦山停水'
HOSTILE_TEXT = '"><img src=x onerror=alert(1)> 龙门乡停水第三天，没人管'
HOSTILE_URL = "javascript:alert(document.cookie)"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time on `day` as UTC."""
    return datetime.combine(day, time(hour, minute), TZ).astimezone(timezone.utc)


@dataclass
class Populated:
    day: date
    post_ids: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def _add(store: Store, post: Post, label: str, prob: float, topics: list[str], event_id: int | None) -> int:
    new, _ = store.add_posts([post])
    assert new == 1, post.url
    with store.transaction():
        store.conn.execute(
            "UPDATE posts SET label=?, negative_prob=?, topics=?, topic_terms='{}', keywords=?, event_id=?, "
            "analyzed_at=? WHERE id=?",
            (label, prob, json.dumps(topics, ensure_ascii=False), json.dumps(topics, ensure_ascii=False),
             event_id, to_iso(post.fetched_at), post.id),
        )
        store.index_rows([(post.id, post.title, post.text)])  # as the analysis stage does
    return int(post.id)  # type: ignore[arg-type]


def _event(store: Store, title: str, first: datetime, last: datetime, keywords: list[str]) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO events(title, size, negative, first_seen, last_seen, sources, keywords, updated_at) "
            "VALUES (?, 0, 0, ?, ?, '[]', ?, ?)",
            (title, to_iso(first), to_iso(last), json.dumps(keywords, ensure_ascii=False), to_iso(last)),
        )
        return int(cur.lastrowid)


def _explanation(out: Populated, level: str) -> dict[str, object]:
    """The shape the alerts stage writes (counts vs baseline, top posts, terms, timeline)."""
    return {
        "scope": {"kind": "event", "key": "1", "title": "x"}, "level": level,
        "windows": [{"window": "1h", "negative": 13, "total": 14, "share": 0.929, "baseline": 1.2,
                     "p_value": 1e-9, "fired": True, "level": level}],
        "top_posts": [{"id": out.post_ids["hostile"], "title": HOSTILE_TITLE, "url": HOSTILE_URL,
                       "source": "tieba-lushan", "ts": "2024-05-01T12:00:00+00:00", "negative_prob": 0.97}],
        "top_terms": [["停水", 13], ["<b>龙门乡</b>", 9]],
        "sources": [["tieba-lushan", 9, 1.0], ["liuyan", 4, 2.0]],
        "timeline": [{"at": "2024-05-01T04:00:00+00:00", "event": "opened", "level": level}],
        "detector_note": "<i>extra</i>",
    }


def populate_day(store: Store, day: date = DAY, history_days: int = 7) -> Populated:
    """One analysed local day of posts (with hostile text), a week of history, events, alerts, sources."""
    out = Populated(day=day)
    water = _event(store, "龙门乡停水三天无人回应", at(day, 6), at(day, 22), ["停水", "龙门乡", "自来水"])
    road = _event(store, "飞仙关隧道塌方交通中断", at(day, 9), at(day, 15), ["塌方", "飞仙关", "交通"])
    fest = _event(store, "芦山县茶文化节开幕", at(day, 10), at(day, 12), ["茶文化节", "旅游"])
    out.events = {"water": water, "road": road, "fest": fest}
    n = 0

    def post(hour: int, source: str, title: str, text: str, label: str, prob: float, topics: list[str],
             event: int | None, url: str | None = None, eng: int = 0, minute: int = 0) -> int:
        nonlocal n
        n += 1
        when = at(day, hour, minute)
        p = Post(url=url or f"https://example.org/{day}/{n}", source=source, title=title, text=text,
                 published_at=when, fetched_at=when + timedelta(minutes=5), reposts=eng, comments=eng // 2, likes=eng)
        return _add(store, p, label, prob, topics, event)

    # the water event: many negative posts through the day, from a heavy source too
    for i in range(12):
        out.post_ids[f"water{i}"] = post(6 + i, "tieba-lushan" if i % 3 else "liuyan", f"龙门乡停水第{i + 1}帖",
                                         f"龙门乡小区停水已经三天，居民生活困难，编号{i}", "negative", 0.9,
                                         ["水电气暖"], water, eng=10 * i)
    out.post_ids["hostile"] = post(20, "tieba-lushan", HOSTILE_TITLE, HOSTILE_TEXT, "negative", 0.97,
                                   ["水电气暖"], water, url=HOSTILE_URL, eng=500)
    for i in range(5):
        out.post_ids[f"road{i}"] = post(9 + i, "county-news", f"飞仙关隧道塌方通报{i}",
                                        f"飞仙关隧道发生塌方，交通中断，正在抢修{i}", "negative" if i < 2 else "neutral",
                                        0.7 if i < 2 else 0.3, ["交通出行"], road, eng=3)
    for i in range(8):
        out.post_ids[f"fest{i}"] = post(10 + i % 3, "county-news", f"芦山县茶文化节开幕{i}",
                                        f"芦山县茶文化节今日开幕，游客众多，茶农增收{i}", "positive", 0.05,
                                        ["文旅"], fest, eng=1)
    for i in range(6):
        out.post_ids[f"misc{i}"] = post(1 + 3 * i, "tieba-lushan", f"芦山日常{i}", f"今天芦山天气不错，随手记录{i}",
                                        "neutral", 0.2, [], None)
    total = n
    negative = 12 + 1 + 2
    out.totals = {"posts": total, "negative": negative}
    # history: the day before has fewer posts; the week a steady 10 a day with 2 negative
    for back in range(1, history_days + 1):
        d = day - timedelta(days=back)
        for i in range(10):
            n += 1
            when = at(d, 8 + i)
            p = Post(url=f"https://example.org/{d}/{i}", source="county-news", title=f"芦山往日{back}-{i}",
                     text=f"芦山县往日信息{back}-{i}", published_at=when, fetched_at=when)
            _add(store, p, "negative" if i < 2 else "neutral", 0.8 if i < 2 else 0.2, ["其他"], None)
    # alerts: a red one still open, a yellow one resolved during the day, one from last month (not shown)
    with store.transaction():
        for key, row in {
            "red": ("event", str(water), "red", "open", at(day, 12), at(day, 14), None, "龙门乡停水负面激增"),
            "yellow": ("topic", "交通出行", "yellow", "resolved", at(day, 9), at(day, 16), at(day, 16), "交通出行负面上升"),
            "old": ("locality", "芦山县", "blue", "resolved", at(day - timedelta(days=30), 9),
                    at(day - timedelta(days=30), 10), at(day - timedelta(days=30), 10), "上月旧预警"),
        }.items():
            cur = store.conn.execute(
                "INSERT INTO alerts(kind, key, level, state, opened_at, updated_at, resolved_at, title, explanation) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row[:4], to_iso(row[4]), to_iso(row[5]), to_iso(row[6]), row[7],
                 json.dumps(_explanation(out, row[2]), ensure_ascii=False)),
            )
            out.alerts[key] = int(cur.lastrowid)
    # source health: one failing, one silent, the rest fine
    for name, _ok in (("county-news", True), ("liuyan", True), ("tieba-lushan", True)):
        store.finish_run(None, CrawlStats(source=name, fetched=5, new=1, started_at=at(day, 23), finished_at=at(day, 23)))
    for _ in range(3):
        store.finish_run(None, CrawlStats(source="broken-feed", error="HTTP 403 from http://127.0.0.1:9/broken.xml",
                                          started_at=at(day, 23), finished_at=at(day, 23)))
    store.finish_run(None, CrawlStats(source="quiet-feed", new=0, started_at=at(day, 23), finished_at=at(day, 23)))
    return out
