"""Refresh and spread, end to end on loopback: re-visits within the window, politely, and one spread alert."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta

from tests.conftest import Response
from tests.signals.conftest import crawl, detect, rows
from yuqing.models import Post, utcnow
from yuqing.store import Store

SOURCE = """
[[sources]]
name = "county-api"
type = "json"
url = "{url}/api/list"
list_path = "data.items"
fields = {{ title = "title", text = "content", url = "link", reposts = "reposts", comments = "comments" }}
refresh = "48h"
delay = "1s"
"""

GROWTH = [(20, 5), (400, 80), (1800, 300)]


def test_counts_growing_across_three_refreshes_raise_one_spread_alert(site, configure) -> None:
    state = {"run": 0}
    hits: list[tuple[str, float]] = []

    def record(path: str) -> None:
        hits.append((path, time.monotonic()))

    def item(n: int) -> dict:
        reposts, comments = GROWTH[state["run"]] if n == 1 else (3, 1)
        return {"title": f"芦山县 帖子{n}", "content": f"芦山县 第{n}个帖子的正文", "link": f"/api/post/{n}",
                "reposts": reposts, "comments": comments}

    def listing(path, headers, body):
        record(path)
        shown = [item(1), item(2), item(3)] if state["run"] == 0 else []  # later runs: only re-visits see them
        return Response(json.dumps({"data": {"items": shown}}, ensure_ascii=False), content_type="application/json")

    def detail(path, headers, body):
        record(path)
        return Response(json.dumps(item(int(path.rsplit("/", 1)[1])), ensure_ascii=False),
                        content_type="application/json")

    site.routes["/api/list"] = listing
    for n in (1, 2, 3, 9):
        site.routes[f"/api/post/{n}"] = detail
    site.routes["/robots.txt"] = Response("User-agent: *\nDisallow: /api/post/2\n", content_type="text/plain")
    settings = configure(SOURCE.format(url=site.url))
    assert settings.sources[0].refresh == 48 * 3600
    with Store(settings.db_path) as store:  # a post first seen three days ago: outside the window
        old = Post(url=f"{site.url}/api/post/9", source="county-api", title="芦山县 旧帖", text="旧帖",
                   fetched_at=utcnow() - timedelta(days=3), reposts=1)
        store.add_posts([old])

    fired = []
    for run in range(3):
        state["run"] = run
        crawl(settings, "county-api")
        fired += detect(settings)
    assert [(a.kind, a.level) for a in fired] == [("spread", "yellow")]
    alert = fired[0]
    post_id = rows(settings, "SELECT id FROM posts WHERE url = ?", [f"{site.url}/api/post/1"])[0]["id"]
    assert alert.key == f"post:{post_id}"
    assert alert.explanation["source"] == "county-api"
    assert (alert.explanation["from"], alert.explanation["to"], alert.explanation["gained_per_hour"]) == (25, 2100, 2075)
    assert rows(settings, "SELECT reposts, comments FROM posts WHERE id = ?", [post_id]) == [
        {"reposts": 1800, "comments": 300}]
    observed = rows(settings, "SELECT reposts FROM engagement_observations WHERE post_id = ? ORDER BY id", [post_id])
    assert [o["reposts"] for o in observed] == [20, 400, 1800]
    mail = rows(settings, "SELECT subject, text FROM deliveries")
    assert len(mail) == 1 and "传播" in mail[0]["text"] and "新增 2075" in mail[0]["text"]
    assert "county-api" in mail[0]["text"] and "芦山县 帖子1" in mail[0]["text"]
    assert rows(settings, "SELECT count(*) AS n FROM cases")[0]["n"] == 1
    assert detect(settings) == []  # seen again: no second alert

    paths = [p for p, _ in hits]
    assert "/api/post/9" not in paths  # never older than the window
    assert "/api/post/2" not in paths  # robots.txt holds for re-visits too
    assert paths.count("/api/post/1") == 2 and paths.count("/api/post/3") == 2  # runs 2 and 3
    for run_hits in _runs(hits):
        gaps = [b - a for (_, a), (_, b) in zip(run_hits, run_hits[1:], strict=False)]
        assert all(g >= 0.45 for g in gaps), gaps  # the per-source delay (1s, jittered 0.5-1.5x)


def _runs(hits: list[tuple[str, float]]) -> list[list[tuple[str, float]]]:
    runs: list[list[tuple[str, float]]] = []
    for hit in hits:
        if hit[0] == "/api/list":
            runs.append([])
        runs[-1].append(hit)
    return runs


def test_a_source_without_refresh_never_revisits(site, configure) -> None:
    served = json.dumps({"data": {"items": [{"title": "芦山县 一帖", "link": "/api/post/1", "reposts": 5}]}},
                        ensure_ascii=False)
    site.routes["/api/list"] = Response(served, content_type="application/json")
    site.routes["/api/post/1"] = Response("{}", content_type="application/json")
    settings = configure(SOURCE.format(url=site.url).replace('refresh = "48h"\n', "").replace('delay = "1s"\n', ""))
    crawl(settings, "county-api")
    crawl(settings, "county-api")
    assert ("GET", "/api/post/1") not in site.requests
    assert rows(settings, "SELECT count(*) AS n FROM engagement_observations")[0]["n"] == 0


def test_a_bad_refresh_is_a_config_error_naming_the_key(configure) -> None:
    import pytest

    from yuqing.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sources\[0\]\.refresh"):
        configure(SOURCE.format(url="http://127.0.0.1:9").replace('"48h"', '"two days"'))


def test_refresh_revisits_only_the_newest_posts_that_fit_in_half_the_run_timeout(site, configure) -> None:
    """At 0.5 s between requests a 30 s run has room for 30 re-visits in half its time: the 30
    newest of 40 posts are re-read, the rest wait, and the run does not time out (a failure)."""
    from yuqing.crawlers.runner import crawl_one, refresh_cap

    site.routes["/api/list"] = Response('{"data": {"items": []}}', content_type="application/json")
    for n in range(40):
        site.routes[f"/api/post/{n}"] = Response(json.dumps({"title": f"芦山县 帖子{n}", "reposts": 5 + n}),
                                                 content_type="application/json")
    settings = configure(SOURCE.format(url=site.url).replace('delay = "1s"', 'delay = "0.5s"'))
    assert refresh_cap(settings, settings.sources[0], 30) == 30
    assert refresh_cap(settings, dataclasses.replace(settings.sources[0], delay=0.0), 30) is None
    now = utcnow()
    with Store(settings.db_path) as store:  # post n first seen n minutes ago: 0..29 are the newest
        store.add_posts([Post(url=f"{site.url}/api/post/{n}", source="county-api", title=f"芦山县 帖子{n}",
                              text=f"芦山县 第{n}帖", fetched_at=now - timedelta(minutes=n), reposts=1)
                         for n in range(40)])
    stats = crawl_one(settings, "county-api", timeout=30)
    assert stats.error is None, stats.error
    asked = {int(p.rsplit("/", 1)[1]) for m, p in site.requests if p.startswith("/api/post/")}
    assert asked == set(range(30))
    assert rows(settings, "SELECT count(DISTINCT post_id) AS n FROM engagement_observations")[0]["n"] == 30


def test_posts_of_one_event_growing_together_raise_one_event_spread_alert(site, configure) -> None:
    """Posts 1-3 of one event each gain about 250 reposts+comments an hour (under the 500 a post needs),
    together 760: one alert scoped `event:<id>`, once. Post 4 alone spreads fast in another event:
    its post alert is all, the event's other post (5) growing a little does not make it two."""
    state = {"run": 0}
    steps = {1: [(4, 1), (100, 30), (200, 55)], 2: [(3, 2), (90, 40), (180, 75)], 3: [(5, 0), (120, 10), (240, 25)],
             4: [(10, 0), (900, 100), (1900, 200)], 5: [(2, 0), (20, 0), (40, 2)]}

    def item(n: int) -> dict:
        reposts, comments = steps[n][state["run"]]
        return {"title": f"芦山县 帖子{n}", "content": f"芦山县 第{n}个帖子的正文，各不相同{n * 7919}",
                "link": f"/api/post/{n}", "reposts": reposts, "comments": comments}

    def listing(path, headers, body):
        shown = [item(n) for n in steps] if state["run"] == 0 else []
        return Response(json.dumps({"data": {"items": shown}}, ensure_ascii=False), content_type="application/json")

    def detail(path, headers, body):
        return Response(json.dumps(item(int(path.rsplit("/", 1)[1])), ensure_ascii=False),
                        content_type="application/json")

    site.routes["/api/list"] = listing
    for n in steps:
        site.routes[f"/api/post/{n}"] = detail
    settings = configure(SOURCE.format(url=site.url).replace('delay = "1s"', 'delay = "0s"'))
    crawl(settings, "county-api")
    now = utcnow().isoformat()
    with Store(settings.db_path) as store:  # the events as clustering would have made them
        events = []
        for title in ("芦山县 某事件", "芦山县 另一事件"):
            store.conn.execute(
                "INSERT INTO events(title, size, negative, first_seen, last_seen, sources, keywords, updated_at)"
                " VALUES (?, 3, 0, ?, ?, '[\"county-api\"]', '[]', ?)", (title, now, now, now))
            events.append(store.conn.execute("SELECT max(id) FROM events").fetchone()[0])
        for n in steps:
            store.conn.execute("UPDATE posts SET event_id = ? WHERE url = ?",
                               (events[0] if n <= 3 else events[1], f"{site.url}/api/post/{n}"))
        store.conn.commit()
    fired = detect(settings)
    for run in (1, 2):
        state["run"] = run
        crawl(settings, "county-api")
        fired += detect(settings)
    post4 = rows(settings, "SELECT id FROM posts WHERE url = ?", [f"{site.url}/api/post/4"])[0]["id"]
    assert sorted((a.kind, a.key) for a in fired) == [("spread", f"event:{events[0]}"), ("spread", f"post:{post4}")]
    alert = next(a for a in fired if a.key.startswith("event:"))
    ex = alert.explanation
    assert ex["event_id"] == events[0] and ex["event"]["title"] == "芦山县 某事件" and ex["posts"] == 3
    assert (ex["from"], ex["to"], ex["gained_per_hour"]) == (15, 775, 760)
    assert ex["sources"] == [["county-api", 3]]
    assert [p["title"] for p in ex["top_posts"]] == ["芦山县 帖子3", "芦山县 帖子1", "芦山县 帖子2"]  # fastest first
    assert [p["gained"] for p in ex["top_posts"]] == [260, 250, 250]
    mail = [m["text"] for m in rows(settings, "SELECT text FROM deliveries") if "某事件" in m["text"]]
    assert len(mail) == 1 and f"事件 {events[0]} 的 3 帖一小时内转发+评论共新增 760" in mail[0] and "county-api" in mail[0]
    assert detect(settings) == []  # seen again: no second alert
    assert rows(settings, "SELECT count(*) AS n FROM alerts WHERE key LIKE 'event:%'")[0]["n"] == 1
