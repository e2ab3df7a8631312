"""Crawls through a real scrapyd on 127.0.0.1 against the loopback test site, beside local crawls.

One scrapyd (module-scoped, deployed once) serves every test here; each scrapyd job starts a Scrapy
process of its own on the node, as a local child does, so the scenarios share runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, LocalSite, Response, free_port
from tests.crawlers.conftest import page
from tests.crawlers.test_runner import build_site
from tests.engines.conftest import ScrapydNode
from yuqing import settings as settings_mod
from yuqing.crawlers.runner import crawl_one, crawl_sources
from yuqing.models import CrawlStats
from yuqing.store import Store


def write(path: Path, sources: str, *, engine: str = "local", nodes: list[str] | None = None,
          store: str = "yuqing.db", request_timeout: str = "5s") -> Path:
    config = BASE_CONFIG.replace('path = "yuqing.db"', f'path = "{store}"').replace(
        'request_timeout = "5s"', f'request_timeout = "{request_timeout}"')
    engine_keys = f'engine = "{engine}"\nscrapyd = {json.dumps(nodes or [])}\n'
    path.write_text(config + "max_pages = 5\n" + engine_keys + sources, encoding="utf-8")
    return path


def outcome(stats: list[CrawlStats]) -> dict[str, tuple]:
    return {s.source: (s.fetched, s.matched, s.new, s.duplicates, s.errors, s.error, s.stopped) for s in stats}


def stored(settings: settings_mod.Settings) -> list[tuple]:
    with Store(settings.db_path) as store:
        rows = store.query("SELECT source, title, text, url, author, published_at FROM posts")
    return sorted(tuple(r.values()) for r in rows)


def health(settings: settings_mod.Settings) -> dict[str, tuple]:
    with Store(settings.db_path) as store:
        return {r["name"]: (r["last_error"], r["failures"], r["posts"], r["runs"]) for r in store.sources_health()}


def feed_source(name: str, url: str) -> str:
    return f'\n[[sources]]\nname = "{name}"\ntype = "feed"\nurl = "{url}"\n'


def sources_for(url: str) -> str:
    return f"""
[[sources]]
name = "county-news"
type = "html"
url = "{url}/news/index.html"
item = "ul.news li"
fields = {{ title = "a::text", url = "a::attr(href)", time = ".date::text" }}
detail = {{ text = "div.article" }}
next_page = "a.next::attr(href)"

[[sources]]
name = "bbs-feed"
type = "feed"
url = "{url}/feed.xml"

[[sources]]
name = "county-api"
type = "json"
url = "{url}/api/posts?page={{page}}"
list_path = "data.items"
fields = {{ title = "title", text = "content", url = "link", time = "ts" }}

[[sources]]
name = "missing"
type = "feed"
url = "{url}/missing.xml"

[[sources]]
name = "broken-json"
type = "json"
url = "{url}/broken.json"
list_path = "data.items"
fields = {{ title = "title" }}
"""


@pytest.fixture
def site(tmp_path: Path):
    root = tmp_path / "site"
    build_site(root)
    server = LocalSite(root=root).start()
    server.routes["/feed.xml"] = Response(page("rss20_cdata.xml"), content_type="application/rss+xml")
    api = json.dumps({"data": {"items": [
        {"title": "飞仙关停水通知", "content": "飞仙关片区明日停水", "link": "/api/item/1", "ts": 1718330400},
        {"title": "与本地无关", "content": "别处", "link": "/api/item/2", "ts": 1718330400}]}}, ensure_ascii=False)
    empty = json.dumps({"data": {"items": []}})
    server.routes["/api/posts"] = lambda path, headers, body: Response(
        api if path.endswith("page=1") else empty, content_type="application/json")
    server.routes["/missing.xml"] = Response("<h1>404</h1>", status=404)
    server.routes["/broken.json"] = Response('{"data": {"items": [{"title": "芦山', content_type="application/json")
    yield server
    server.stop()


def test_a_crawl_through_scrapyd_stores_and_reports_what_a_local_crawl_does(tmp_path, site, deployed: ScrapydNode):
    sources = sources_for(site.url)
    local = settings_mod.load(write(tmp_path / "local.toml", sources, store="local.db"))
    remote = settings_mod.load(write(tmp_path / "remote.toml", sources, engine="scrapyd", nodes=[deployed.url],
                                     store="remote.db"))
    local_stats = crawl_sources(local)
    remote_stats = crawl_sources(remote)

    assert outcome(remote_stats) == outcome(local_stats)
    got = outcome(remote_stats)
    assert got["county-news"][:5] == (12, 6, 6, 0, 0)
    assert got["bbs-feed"][:5] == (4, 2, 2, 0, 0) and got["county-api"][:5] == (2, 1, 1, 0, 0)
    assert got["missing"][5] == f"HTTP 404 from {site.url}/missing.xml"
    assert got["broken-json"][5] == (f"malformed JSON from {site.url}/broken.json: "
                                     "Unterminated string starting at (line 1, column 31)")
    # the node's jobs wrote into the same SQLite file the daemon reads
    assert stored(remote) == stored(local) and len(stored(remote)) == 9
    assert health(remote) == health(local)

    again = crawl_sources(remote)  # the second run finds every post stored already
    assert outcome(again)["county-news"][2:5] == (0, 6, 0)  # new 0, all 6 duplicates
    assert len(stored(remote)) == 9


def test_a_node_that_is_down_is_passed_over_and_the_other_sources_go_on(tmp_path, site, deployed: ScrapydNode, caplog):
    down = f"http://127.0.0.1:{free_port()}"
    sources = sources_for(site.url).split("[[sources]]")
    two = "[[sources]]".join(sources[:3])  # county-news and bbs-feed
    settings = settings_mod.load(write(tmp_path / "yuqing.toml", two, engine="scrapyd", nodes=[down, deployed.url]))
    results = crawl_sources(settings)
    assert [(s.source, s.new, s.error) for s in results] == [("county-news", 6, None), ("bbs-feed", 2, None)]
    assert f"scrapyd node {down} is not answering: connection refused" in caplog.text


def test_no_node_up_is_an_error_in_words_for_each_source_and_nothing_crashes(tmp_path, site):
    down = f"http://127.0.0.1:{free_port()}"
    sources = "[[sources]]".join(sources_for(site.url).split("[[sources]]")[:3])
    config = write(tmp_path / "yuqing.toml", sources, engine="scrapyd", nodes=[down])
    settings = settings_mod.load(config)
    results = crawl_sources(settings)
    words = f"cannot schedule the crawl: scrapyd node {down} is not answering: connection refused"
    assert [(s.source, s.errors, s.error) for s in results] == [("county-news", 1, words), ("bbs-feed", 1, words)]
    assert health(settings)["county-news"][:2] == (words, 1)
    assert site.requests == []


def test_the_run_timeout_cancels_the_job_and_keeps_what_it_stored(tmp_path, deployed: ScrapydNode):
    site = LocalSite().start()
    first = json.dumps({"items": [{"title": f"芦山县第{i}条", "link": f"/p/{i}"} for i in range(3)]}, ensure_ascii=False)
    site.routes["/api"] = lambda path, headers, body: (
        Response(first, content_type="application/json") if path.endswith("page=1")
        else Response("{}", content_type="application/json", delay=30))
    try:
        config = write(tmp_path / "yuqing.toml", f"""
[[sources]]
name = "hang"
type = "json"
url = "{site.url}/api?page={{page}}"
list_path = "items"
fields = {{ title = "title", url = "link" }}
""", engine="scrapyd", nodes=[deployed.url], request_timeout="60s")
        settings = settings_mod.load(config)
        started = time.monotonic()
        stats = crawl_one(settings, "hang", timeout=8)
        took = time.monotonic() - started
    finally:
        site.stop()
    assert stats.error == "timed out after 8s"
    assert took < 8 + 3 + 8  # timeout, grace, slack for the node
    assert stats.new == 3
    with Store(settings.db_path) as store:
        assert store.query("SELECT count(*) AS n FROM posts")[0]["n"] == 3
        run = store.runs("hang")[0]
    assert run["error"] == "timed out after 8s" and run["new"] == 3 and run["finished_at"]
