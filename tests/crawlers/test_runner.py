"""Real crawls: child processes against a real HTTP server on 127.0.0.1, through `yuqing crawl`.

Each `yuqing crawl` here starts one child per source (about two seconds each, two at a time), so the
sources of one scenario share a run: that also shows one source's failure leaves the others alone.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import BASE_CONFIG, LocalSite, Response
from tests.crawlers.conftest import page
from yuqing import settings as settings_mod
from yuqing.crawlers.runner import crawl_one
from yuqing.store import Store


def write(tmp_path: Path, sources: str, request_timeout: str = "5s") -> Path:
    """The shared test config (tests/conftest.py) with a page cap and the given request timeout."""
    path = tmp_path / "yuqing.toml"
    config = BASE_CONFIG.replace('request_timeout = "5s"', f'request_timeout = "{request_timeout}"')
    path.write_text(config + "max_pages = 5\n" + sources, encoding="utf-8")
    return path


def yuqing(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=timeout)


def rows(config: Path, sql: str, params: tuple = ()) -> list[dict]:
    with Store(settings_mod.load(config).db_path) as store:
        return store.query(sql, params)


def feed(*items: tuple[str, str, str]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><description>{d}</description></item>" for t, link, d in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'


# -- a multi-page site -------------------------------------------------------------------------
def build_site(root: Path, pages: int = 3, per_page: int = 4) -> list[str]:
    """A news site: list pages with a next link, one detail page per post; returns expected titles."""
    titles = []
    (root / "news").mkdir(parents=True)
    for p in range(1, pages + 1):
        items = []
        for i in range(per_page):
            n = (p - 1) * per_page + i
            local = n % 2 == 0  # every other post mentions the locality
            title = f"芦山县第{n}号通知" if local else f"外地第{n}号新闻"
            if local:
                titles.append(title)
            items.append(f'<li><a href="/news/{n}.html">{title}</a><span class="date">2024-06-{10 + p:02d} 0{i}:00</span></li>')
            text = f"龙门乡小区停水三天，居民用水困难（{n}）" if local else f"别处的消息（{n}）"
            (root / "news" / f"{n}.html").write_text(
                f'<html><body><h1>{title}</h1><div class="article"><p>{text}</p><p>分享到：微博</p></div></body></html>',
                encoding="utf-8")
        nxt = f'<a class="next" href="/news/list_{p + 1}.html">下一页</a>' if p < pages else ""
        name = "index.html" if p == 1 else f"list_{p}.html"
        (root / "news" / name).write_text(
            f'<html><head><meta charset="utf-8"></head><body><ul class="news">{"".join(items)}</ul>{nxt}</body></html>',
            encoding="utf-8")
    return titles


def test_crawl_multi_page_site_through_the_cli_twice(tmp_path):
    root = tmp_path / "site"
    titles = build_site(root)
    site = LocalSite(root=root).start()
    site.routes["/feed.xml"] = Response(page("rss20_cdata.xml"), content_type="application/rss+xml")
    api = json.dumps({"data": {"items": [
        {"title": "飞仙关停水通知", "content": "飞仙关片区明日停水", "link": "/api/item/1", "ts": 1718330400},
        {"title": "与本地无关", "content": "别处", "link": "/api/item/2", "ts": 1718330400}]}}, ensure_ascii=False)
    empty = json.dumps({"data": {"items": []}})
    site.routes["/api/posts"] = lambda path, headers, body: Response(
        api if path.endswith("page=1") else empty, content_type="application/json")
    try:
        config = write(tmp_path, f"""
[[sources]]
name = "county-news"
type = "html"
url = "{site.url}/news/index.html"
item = "ul.news li"
fields = {{ title = "a::text", url = "a::attr(href)", time = ".date::text" }}
detail = {{ text = "div.article" }}
next_page = "a.next::attr(href)"

[[sources]]
name = "bbs-feed"
type = "feed"
url = "{site.url}/feed.xml"

[[sources]]
name = "county-api"
type = "json"
url = "{site.url}/api/posts?page={{page}}"
list_path = "data.items"
fields = {{ title = "title", text = "content", url = "link", time = "ts" }}
""")
        first = yuqing(config, "crawl")
        assert first.returncode == 0, first.stdout + first.stderr
        lines = {line.split()[0]: line.split()[1:] for line in first.stdout.splitlines()[2:]}
        # fetched matched new duplicates errors status
        assert lines["county-news"] == ["12", "6", "6", "0", "0", "ok"]
        assert lines["bbs-feed"] == ["4", "2", "2", "0", "0", "ok"]
        assert lines["county-api"] == ["2", "1", "1", "0", "0", "ok"]

        stored = rows(config, "SELECT source, title, text, url FROM posts ORDER BY id")
        news = [r for r in stored if r["source"] == "county-news"]
        assert sorted(r["title"] for r in news) == sorted(titles)
        assert all(r["text"].startswith("龙门乡小区停水三天") and "分享到" not in r["text"] for r in news)
        assert all(r["url"].startswith(site.url + "/news/") for r in news)
        requested = [p for m, p in site.requests]
        assert "/news/list_3.html" in requested and "/robots.txt" in requested

        status = yuqing(config, "status")
        assert status.returncode == 0
        assert "county-news" in status.stdout and "fetched 12 matched 6 new 6 dup 0 errors 0" in status.stdout
        assert "FAILING" not in status.stdout

        # once analysed, 2-character queries hit through the jieba-segmented index
        analysed = yuqing(config, "analyze", "-q")
        assert analysed.returncode == 0, analysed.stdout + analysed.stderr
        with Store(settings_mod.load(config).db_path) as store:
            hits = store.search("停水")
            assert {h.post.source for h in hits} == {"county-news", "bbs-feed", "county-api"}
            assert len(hits) == 6 + 1 + 1  # 6 news posts, the feed's 停水 notice, the api's
            assert len(store.search("龙门乡 停水")) >= 6

        site.requests.clear()
        second = yuqing(config, "crawl")
        assert second.returncode == 0, second.stdout + second.stderr
        lines = {line.split()[0]: line.split()[1:] for line in second.stdout.splitlines()[2:]}
        assert lines["county-news"][2:4] == ["0", "6"]  # new 0, all 6 duplicates
        assert lines["bbs-feed"][2:4] == ["0", "2"]
        assert rows(config, "SELECT count(*) AS n FROM posts")[0]["n"] == len(stored)
        # stored posts' detail pages are not fetched again
        assert not any(p == "/news/0.html" for _, p in site.requests)
        assert rows(config, "SELECT count(*) AS n FROM crawl_runs WHERE source = 'county-news'")[0]["n"] == 2
    finally:
        site.stop()


# -- faults: each source fails its own way, in one run, beside a healthy one -----------------------
def test_faults_are_recorded_in_words_and_leave_other_sources_alone(tmp_path):
    site = LocalSite().start()
    good = feed(("芦山县停水通知", "/good/1", "龙门乡明日停水"), ("别处新闻", "/good/2", "无关"))
    site.routes["/good.xml"] = Response(good, content_type="application/rss+xml")
    site.routes["/missing.xml"] = Response("<h1>404</h1>", status=404)
    site.routes["/broken.xml"] = Response("<h1>500</h1>", status=500)
    site.routes["/slow.xml"] = Response(good, content_type="application/rss+xml", delay=3.0)
    site.routes["/loop"] = Response("", status=302, headers={"Location": "/loop"})
    site.routes["/maintenance.xml"] = Response(page("not_a_feed_login.html"), content_type="text/html; charset=utf-8")
    site.routes["/api.json"] = Response('{"data": {"items": [{"title": "芦山', content_type="application/json")
    huge = feed(*[("芦山县" + "很长" * 10, f"/huge/{i}", "x" * 1000) for i in range(20_000)])
    assert len(huge) > 20 * 1024**2
    site.routes["/huge.xml"] = Response(huge, content_type="application/rss+xml")
    site.routes["/list.html"] = Response('<html><body><div class="changed"><p>芦山新闻</p></div></body></html>')
    site.routes["/moved.xml"] = Response("", status=301, headers={"Location": "/new-home.xml"})
    site.routes["/new-home.xml"] = Response(feed(("飞仙关搬家了", "/moved/1", "新地址")), content_type="application/rss+xml")
    private = LocalSite().start()  # another site, whose robots.txt shuts yuqing out of its API
    private.routes["/robots.txt"] = Response("User-agent: *\nDisallow: /admin/\n\nUser-agent: yuqing\nDisallow: /api/\n",
                                             content_type="text/plain")
    private.routes["/api/feed.xml"] = Response(good, content_type="application/rss+xml")
    sources = {
        "good": ("feed", "/good.xml"), "missing": ("feed", "/missing.xml"), "broken": ("feed", "/broken.xml"),
        "slow": ("feed", "/slow.xml"), "loop": ("feed", "/loop"), "maintenance": ("feed", "/maintenance.xml"),
        "api": ("json", "/api.json"), "huge": ("feed", "/huge.xml"), "layout": ("html", "/list.html"),
        "moved": ("feed", "/moved.xml"), "robots": ("feed", private.url + "/api/feed.xml"),
    }
    extra = {"json": 'list_path = "data.items"\nfields = { title = "title" }\n',
             "html": 'item = "ul.news li"\nfields = { title = "a::text", url = "a::attr(href)" }\n'}
    text = "".join(f'\n[[sources]]\nname = "{n}"\ntype = "{t}"\nurl = "{p if p.startswith("http") else site.url + p}"\n'
                   f'{extra.get(t, "")}' for n, (t, p) in sources.items())
    try:
        config = write(tmp_path, text, request_timeout="1s")
        started = time.monotonic()
        result = yuqing(config, "crawl")
        took = time.monotonic() - started
    finally:
        site.stop()
        private.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    url = site.url
    expected = {
        "missing": f"HTTP 404 from {url}/missing.xml",
        "broken": f"HTTP 500 from {url}/broken.xml",
        "slow": f"timed out after 1s fetching {url}/slow.xml",
        "loop": f"redirect loop: gave up after 10 redirects starting at {url}/loop",
        "maintenance": f"not a feed: got an HTML page from {url}/maintenance.xml",
        "api": f"malformed JSON from {url}/api.json: Unterminated string starting at (line 1, column 31)",
        "huge": f"response too large from {url}/huge.xml (over 10 MB); nothing stored",
        "layout": f"no posts found on {url}/list.html: the item selector 'ul.news li' matched nothing "
                  "(has the page layout changed?)",
        "robots": f"refused by robots.txt: {private.url}/api/feed.xml is disallowed for yuqing",
    }
    for name, words in expected.items():
        assert f"{name}: {words}" in out, out
    health = {r["name"]: r for r in rows(config, "SELECT * FROM sources")}
    for name, words in expected.items():
        assert health[name]["last_error"] == words and health[name]["failures"] == 1
    assert health["good"]["last_error"] is None and health["good"]["posts"] == 1
    posts = rows(config, "SELECT source, title, url FROM posts ORDER BY id")
    # nothing broken from the failures; a plain redirect is followed
    assert sorted((p["source"], p["title"]) for p in posts) == [("good", "芦山县停水通知"), ("moved", "飞仙关搬家了")]
    assert health["moved"]["last_error"] is None
    good_line = next(line for line in out.splitlines() if line.startswith("good "))
    assert good_line.split()[1:] == ["2", "1", "1", "0", "0", "ok"]
    assert took < 60
    assert not any(path.startswith("/api/") for _, path in private.requests)  # robots.txt was obeyed


# -- presets against a local stand-in of each site ----------------------------------------------
def weibo_api(path: str, headers: dict[str, str], body: bytes) -> Response:
    if "SUB=good" not in headers.get("Cookie", ""):
        return Response(page("weibo_login_required.json"), content_type="application/json")
    if "page=2" in path:
        return Response(page("weibo_no_more.json"), content_type="application/json")
    return Response(page("weibo_getindex.json"), content_type="application/json")


def liuyan_api(path: str, headers: dict[str, str], body: bytes) -> Response:
    data = json.loads(body)
    route = path.split("?")[0]
    secret = hashlib.md5(b"PC42ce3bfa4980a9").hexdigest()[:16]
    if data["signature"] != hashlib.md5((route + data["param"] + secret).encode()).hexdigest():
        return Response(page("liuyan_sn0006.json"), content_type="application/json")
    if route.endswith("/list/df"):
        return Response(page("liuyan_list.json"), content_type="application/json")
    return Response(page("liuyan_detail.json"), content_type="application/json")


def test_presets_cookies_proxy_and_blocks(tmp_path):
    site = LocalSite().start()
    site.routes["/api/container/getIndex"] = weibo_api
    forum = page("tieba_forum.html")
    site.routes["/f"] = lambda path, headers, body: (
        Response(forum) if "pn=" not in path else Response(page("tieba_captcha.html")))
    site.routes["/v1/threads/list/df"] = liuyan_api
    site.routes["/v1/threads/content"] = liuyan_api
    site.routes["/proxied.xml"] = Response(feed(("芦山县经由代理", "http://feeds.example.invalid/1", "正文")),
                                           content_type="application/rss+xml")
    try:
        config = write(tmp_path, f"""
[[sources]]
name = "weibo"
type = "weibo"
url = "{site.url}"
cookies = "SUB=good; SUBP=x"

[[sources]]
name = "weibo-expired"
type = "weibo"
url = "{site.url}"
cookies = "SUB=old"

[[sources]]
name = "tieba"
type = "tieba"
forum = "芦山"
url = "{site.url}/f?kw=%E8%8A%A6%E5%B1%B1&ie=utf-8"

[[sources]]
name = "liuyan"
type = "liuyan"
fid = "539"
url = "{site.url}"

[[sources]]
name = "via-proxy"
type = "feed"
url = "http://feeds.example.invalid/proxied.xml"
proxy = "{site.url}"
""")
        result = yuqing(config, "crawl")
    finally:
        site.stop()
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:] if line.split()}
    # all three name the locality; the repost only through the post it reposts
    assert lines["weibo"] == ["3", "3", "3", "0", "0", "ok"]
    assert "weibo-expired: login required: cookie expired? (m.weibo.cn answered ok:-100, 请先登录)" in out
    assert f"tieba: blocked: captcha page (百度安全验证) at {site.url}/f?kw=%E8%8A%A6%E5%B1%B1&ie=utf-8&pn=50" in out
    assert lines["tieba"][:3] == ["2", "2", "2"]  # the first page's threads are kept
    assert lines["liuyan"] == ["2", "2", "2", "0", "0", "ok"]
    assert lines["via-proxy"] == ["1", "1", "1", "0", "0", "ok"]
    assert ("GET", "http://feeds.example.invalid/proxied.xml") in site.requests  # went through the proxy
    stored = {r["title"] or r["text"][:6]: r for r in rows(config, "SELECT * FROM posts")}
    liuyan_post = stored["芦山县龙门乡道路破损严重"]
    assert liuyan_post["text"] == "龙门乡到县城的道路坑洼很多，雨天积水。"
    extra = json.loads(liuyan_post["extra"])
    assert extra["answered"] is True and extra["forum"] == "四川省委书记" and extra["state"] == "已回复"
    weibo_rows = rows(config, "SELECT * FROM posts WHERE source = 'weibo'")
    assert all(r["likes"] is not None for r in weibo_rows)


# -- the run timeout: the child is stopped, the run recorded -------------------------------------
def test_run_timeout_kills_the_child_and_records_it(tmp_path):
    site = LocalSite().start()
    first = json.dumps({"items": [{"title": f"芦山县第{i}条", "link": f"/p/{i}"} for i in range(3)]}, ensure_ascii=False)
    site.routes["/api"] = lambda path, headers, body: (
        Response(first, content_type="application/json") if path.endswith("page=1")
        else Response("{}", content_type="application/json", delay=30))
    try:
        config = write(tmp_path, f"""
[[sources]]
name = "hang"
type = "json"
url = "{site.url}/api?page={{page}}"
list_path = "items"
fields = {{ title = "title", url = "link" }}
""", request_timeout="60s")
        settings = settings_mod.load(config)
        started = time.monotonic()
        stats = crawl_one(settings, "hang", timeout=6)  # start-up on a busy machine, then page 1, then the hang
        took = time.monotonic() - started
    finally:
        site.stop()
    assert stats.error == "timed out after 6s"
    assert took < 6 + 3 + 4  # timeout, grace, slack
    # what the first page gave before the hang is kept and counted
    assert rows(config, "SELECT count(*) AS n FROM posts")[0]["n"] == 3
    assert stats.new == 3
    run = rows(config, "SELECT * FROM crawl_runs WHERE source = 'hang'")[0]
    assert run["error"] == "timed out after 6s" and run["finished_at"] and run["new"] == 3
    assert rows(config, "SELECT last_error FROM sources WHERE name = 'hang'")[0]["last_error"] == "timed out after 6s"


# -- the command line ----------------------------------------------------------------------------
def test_crawl_unknown_source_exits_2_and_names_the_known_ones(tmp_path):
    from click.testing import CliRunner

    from yuqing.cli import cli

    config = write(tmp_path, '\n[[sources]]\nname = "a"\ntype = "feed"\nurl = "http://127.0.0.1:9/f.xml"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "a", "nope"])
    assert result.exit_code == 2
    assert "unknown source 'nope' (known: a)" in result.output
    assert not (tmp_path / "yuqing.db").exists() or rows(config, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 0


def test_crawl_with_nothing_enabled_says_so(tmp_path):
    from click.testing import CliRunner

    from yuqing.cli import cli

    config = write(tmp_path, '\n[[sources]]\nname = "a"\ntype = "feed"\nurl = "http://127.0.0.1:9/f.xml"\nenabled = false\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl"])
    assert result.exit_code == 0 and "no enabled sources" in result.output


def test_render_stats_table():
    from yuqing.crawlers.commands import render_stats
    from yuqing.models import CrawlStats

    text = render_stats([CrawlStats("feed-a", 10, 4, 3, 1, 0), CrawlStats("b", errors=1, error="HTTP 404 from http://x/")])
    lines = text.splitlines()
    assert lines[0].split() == ["source", "fetched", "matched", "new", "duplicates", "errors", "status"]
    assert lines[2].split() == ["feed-a", "10", "4", "3", "1", "0", "ok"]
    assert lines[3].split() == ["b", "0", "0", "0", "0", "1", "FAILED"]
    assert lines[4] == "b: HTTP 404 from http://x/"


def test_a_crashing_child_is_recorded_in_words(tmp_path):
    config = write(tmp_path, '\n[[sources]]\nname = "a"\ntype = "feed"\nurl = "http://127.0.0.1:9/f.xml"\n')
    settings = settings_mod.load(config)
    config.write_text("this is not toml [", encoding="utf-8")  # the child will not start
    stats = crawl_one(settings, "a", timeout=30)
    assert stats.error.startswith("crawler process failed (exit status 2): Error: config error:")
    assert "is not valid TOML" in stats.error
    with Store(settings.db_path) as store:
        assert store.query("SELECT last_error FROM sources WHERE name = 'a'")[0]["last_error"] == stats.error
