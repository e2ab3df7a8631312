"""Benchmark of the digest stage: digest build time and web search latency on a realistic store.

A store with one day of 50,000 posts and 30 days of history (3,000 a day) is generated once (rows
and full-text rows inserted with executemany; every sentence is segmented by the real indexer,
once). Then:

- the digest of the big day is built (goal: <= 10 s), beside a plain read of every column of the
  day's posts (the floor any digest pays);
- a set of searches is run through the running web app over HTTP and through Store.search,
  beside the same queries as plain SQL LIKE scans (goal: median <= 100 ms).

Run:  python bench/digest.py [--day-posts 50000] [--history-days 30] [--history-posts 3000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from yuqing import settings as settings_mod
from yuqing.analysis.segment import chars_for_index, cut_for_index
from yuqing.models import to_iso
from yuqing.store import Store

DAY = date(2024, 5, 1)
TZ = ZoneInfo("Asia/Shanghai")
PLACES = ["芦山县", "龙门乡", "飞仙关", "思延乡", "宝盛乡", "大川镇", "双石镇", "太平镇", "芦阳街道", "清仁乡"]
ISSUES = [  # (phrase, topic, how negative it usually is)
    ("小区停水三天没人管", "水电气暖", 0.9), ("道路塌方交通中断", "交通出行", 0.7),
    ("学校食堂卫生堪忧", "教育", 0.8), ("医院排队挂号太久", "医疗卫生", 0.7),
    ("拆迁补偿迟迟不到位", "征地拆迁", 0.9), ("河道污染鱼虾死亡", "环境污染", 0.9),
    ("茶叶丰收价格上涨", "三农", 0.1), ("茶文化节开幕游客众多", "文旅", 0.05),
    ("暴雨引发山体滑坡", "自然灾害", 0.6), ("工地夜间施工噪音扰民", "环境污染", 0.8),
    ("物业乱收费业主维权", "物业", 0.85), ("公交班次太少等车难", "交通出行", 0.6),
    ("新建养老院投入使用", "民生", 0.1), ("大熊猫国家公园迎来客流", "文旅", 0.1),
]
REACTIONS = ["希望有关部门尽快处理", "居民意见很大", "点赞政府的工作", "网友纷纷留言", "记者现场探访",
             "已经反映多次", "大家怎么看", "今天天气不错"]
SOURCES = [("tieba-lushan", "tieba", 1.0), ("weibo", "weibo", 1.0), ("liuyan", "liuyan", 2.0),
           ("county-news", "feed", 1.5), ("rsshub-toutiao", "feed", 1.0), ("forum", "html", 1.0)]
QUERIES: list[dict[str, str]] = [
    {"q": "芦山县"},                                        # matches most posts
    {"q": "停水"},
    {"q": "龙门乡 停水"},
    {"q": "塌方", "since": "2024-04-20", "until": "2024-04-25"},
    {"q": "拆迁", "label": "negative"},
    {"q": "茶叶", "source": "county-news"},
    {"q": "养老院", "topic": "民生"},
    {"q": "大熊猫"},
    {"q": "地震"},                                          # no hit
    {"q": "编号123456"},                                    # one post
    {"label": "negative", "since": "2024-05-01", "until": "2024-05-01"},
    {"topic": "环境污染", "since": "2024-04-28", "until": "2024-05-01"},
    {"source": "liuyan", "label": "negative"},
]


def sentences() -> list[tuple[str, str, str, float]]:
    """Every (text, indexed form, topic, negativity) sentence, segmented once by the real indexer."""
    out = []
    for place in PLACES:
        for phrase, topic, neg in ISSUES:  # -> (text, words, chars, topic, neg)
            for reaction in REACTIONS:
                text = f"{place}{phrase}，{reaction}"
                out.append((text, cut_for_index(text), chars_for_index(text), topic, neg))
    return out


def generate(store: Store, day_posts: int, history_days: int, history_posts: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    pool = sentences()
    start = datetime.combine(DAY, dtime(0), TZ).astimezone(timezone.utc)
    # hourly rhythm: quiet at night, busy in the evening
    rhythm = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.3, 1.3, 1.2, 1.1, 1.1, 1.2, 1.2, 1.3, 1.4, 1.6, 1.8,
              1.9, 1.7, 1.1, 0.6]
    days = [(start - timedelta(days=d), history_posts) for d in range(history_days, 0, -1)] + [(start, day_posts)]
    event_ids = list(range(1, 801))
    now = to_iso(datetime.now(timezone.utc))
    post_id = 0
    with store.transaction():
        for ev in event_ids:
            when = start - timedelta(hours=rng.randint(0, 24 * history_days))
            store.conn.execute(
                "INSERT INTO events(id, title, size, negative, first_seen, last_seen, sources, keywords, updated_at) "
                "VALUES (?, ?, 0, 0, ?, ?, '[]', ?, ?)",
                (ev, pool[ev % len(pool)][0][:20], to_iso(when), to_iso(start + timedelta(hours=23)),
                 json.dumps(pool[ev % len(pool)][1].split()[:5], ensure_ascii=False), now))
    for day_start, count in days:
        rows, fts = [], []
        for _ in range(count):
            post_id += 1
            hour = rng.choices(range(24), weights=rhythm)[0]
            ts = to_iso(day_start + timedelta(hours=hour, seconds=rng.randint(0, 3599)))
            parts = rng.sample(pool, 2)
            text = "。".join(p[0] for p in parts) + f"。编号{post_id}"
            body = " ".join(p[1] for p in parts) + f" 编号 {post_id}"
            chars = " ".join(p[2] for p in parts) + f" 编 号 {post_id}"
            negp = min(0.99, max(0.01, rng.gauss(parts[0][4], 0.15)))
            label = "negative" if negp >= 0.5 else ("positive" if negp < 0.2 else "neutral")
            source = rng.choices(SOURCES, weights=[5, 4, 1, 2, 2, 2])[0][0]
            eng = int(rng.paretovariate(1.5)) - 1
            event = rng.choice(event_ids[:300]) if rng.random() < 0.6 else None
            rows.append((post_id, f"https://example.org/p/{post_id}", f"https://example.org/p/{post_id}", source,
                         parts[0][0][:24], text, ts, ts, ts, eng, eng // 3, eng * 2, f"h{post_id}", now, label,
                         round(negp, 3), json.dumps([parts[0][3]], ensure_ascii=False), "{}", "[]", event))
            fts.append((post_id, f"{parts[0][1]} {body}", f"{parts[0][2]} {chars}"))
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO posts(id, url, canonical_url, source, title, text, published_at, fetched_at, ts, reposts,"
                " comments, likes, content_hash, analyzed_at, label, negative_prob, topics, topic_terms, keywords,"
                " event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            store.conn.executemany("INSERT INTO posts_fts(rowid, words, chars) VALUES (?, ?, ?)", fts)
    with store.transaction():
        for i in range(20):
            opened = start + timedelta(hours=i)
            store.conn.execute(
                "INSERT INTO alerts(kind, key, level, state, opened_at, updated_at, title, explanation) "
                "VALUES ('event', ?, ?, 'open', ?, ?, ?, '{}')",
                (str(i + 1), ["blue", "yellow", "orange", "red"][i % 4], to_iso(opened), to_iso(opened), f"预警{i}"))
    store.conn.execute("ANALYZE")
    return post_id


def like_scan(store: Store, settings, query: dict[str, str]) -> int:
    """The same search as plain SQL: LIKE on title and text for every word, filters in WHERE."""
    from yuqing.digest.builder import day_bounds

    where, params = [], []
    for word in query.get("q", "").split():
        where.append("(p.title LIKE ? OR p.text LIKE ?)")
        params += [f"%{word}%", f"%{word}%"]
    if query.get("since"):
        where.append("p.ts >= ?")
        params.append(to_iso(day_bounds(settings, date.fromisoformat(query["since"]))[0]))
    if query.get("until"):
        where.append("p.ts < ?")
        params.append(to_iso(day_bounds(settings, date.fromisoformat(query["until"]))[1]))
    if query.get("source"):
        where.append("p.source = ?")
        params.append(query["source"])
    if query.get("topic"):
        where.append("EXISTS (SELECT 1 FROM json_each(p.topics) WHERE value = ?)")
        params.append(query["topic"])
    if query.get("label"):
        where.append("p.label = ?")
        params.append(query["label"])
    sql = "SELECT p.* FROM posts p" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY p.ts DESC, p.id DESC LIMIT 31"
    return len(store.query(sql, params))


def store_search(store: Store, settings, query: dict[str, str]) -> int:
    from yuqing.digest.builder import day_bounds

    since = day_bounds(settings, date.fromisoformat(query["since"]))[0] if query.get("since") else None
    until = day_bounds(settings, date.fromisoformat(query["until"]))[1] if query.get("until") else None
    return len(store.search(query.get("q", ""), since=since, until=until, source=query.get("source"),
                            topic=query.get("topic"), label=query.get("label"), limit=31))


def http_search(host: str, port: int, query: dict[str, str]) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/search?" + urlencode(query, quote_via=quote))
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"search {query} answered {resp.status}")
    return body.count(b'<div class="h">')


def timed(fn, *args, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--day-posts", type=int, default=50_000)
    ap.add_argument("--history-days", type=int, default=30)
    ap.add_argument("--history-posts", type=int, default=3_000)
    ap.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="yuqing-bench-digest-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "yuqing.toml"
    config.write_text('[locality]\nname = "芦山县"\naliases = ["芦山", "龙门乡", "飞仙关"]\n[store]\npath = "bench.db"\n'
                      + "".join(f'[[sources]]\nname = "{n}"\ntype = "{t}"\nweight = {w}\n'
                                + ('url = "http://127.0.0.1:9/x"\n' if t in ("feed", "html") else "")
                                + ('item = "li"\n' if t == "html" else "") + ('forum = "芦山"\n' if t == "tieba" else "")
                                for n, t, w in SOURCES), encoding="utf-8")
    settings = settings_mod.load(config)
    db = settings.db_path
    store = Store(db)
    if store.count_posts() == 0:
        t0 = time.perf_counter()
        total = generate(store, args.day_posts, args.history_days, args.history_posts)
        print(f"store: {total:,} posts ({args.day_posts:,} on {DAY}, {args.history_days} days of "
              f"{args.history_posts:,} before) built in {time.perf_counter() - t0:.1f} s, "
              f"{db.stat().st_size / 1e6:.0f} MB at {db}")
    else:
        print(f"store: reusing {store.count_posts():,} posts at {db}")

    from yuqing.digest.builder import build_digest, day_bounds

    start, end = day_bounds(settings, DAY)
    floor, n = timed(lambda: len(store.query("SELECT * FROM posts WHERE ts >= ? AND ts < ?",
                                               [to_iso(start), to_iso(end)])))
    build, _ = timed(build_digest, settings, store, DAY, repeat=3)
    print("\ndigest build (best of 3)")
    print(f"  build_digest({DAY}):                 {build:7.3f} s   goal 10 s: {build / 10:.2f} of the budget")
    print(f"  baseline: read all {n:,} rows of the day: {floor:7.3f} s   ratio {build / floor:.1f}x")

    from yuqing.web.app import make_server

    server = make_server(settings, "127.0.0.1", 0)
    server.start()
    host, port = server.server_address[:2]
    http_search(host, port, {"q": "芦山"})  # first request loads jieba; not counted
    reader = Store(db, readonly=True)
    print(f"\nsearch, {len(QUERIES)} queries (each best of 3), milliseconds")
    print(f"  {'query':44} {'web':>8} {'Store':>8} {'LIKE':>8} {'hits':>5}")
    webs, stores, likes = [], [], []
    for q in QUERIES:
        t_web, hits = timed(http_search, host, port, q)
        t_store, hits_store = timed(store_search, reader, settings, q)
        t_like, hits_like = timed(like_scan, reader, settings, q)
        webs.append(t_web)
        stores.append(t_store)
        likes.append(t_like)
        label = " ".join(f"{k}={v}" for k, v in q.items())
        print(f"  {label:44} {1000 * t_web:8.1f} {1000 * t_store:8.1f} {1000 * t_like:8.1f} {min(hits, 30):5}"
              + ("" if min(hits_store, 31) == hits_like or "q" not in q else f"  (LIKE found {hits_like})"))
    server.shutdown()
    server.server_close()
    med_web, med_store, med_like = (statistics.median(x) for x in (webs, stores, likes))
    print(f"  {'median':44} {1000 * med_web:8.1f} {1000 * med_store:8.1f} {1000 * med_like:8.1f}")
    print(f"\n  web search median {1000 * med_web:.1f} ms (goal 100 ms: {med_web / 0.1:.2f} of the budget); "
          f"Store.search median {1000 * med_store:.1f} ms vs LIKE scan median {1000 * med_like:.1f} ms: "
          f"ratio {med_store / med_like:.2f}x; worst web {1000 * max(webs):.1f} ms vs worst LIKE {1000 * max(likes):.1f} ms")
    ok = build <= 10 and med_web <= 0.1
    print("\nRESULT:", "both goals met" if ok else "goal missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
