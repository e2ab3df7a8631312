"""Issue #11 against a real HTTP server on 127.0.0.1, through `yuqing crawl`: feeds in UTF-16 and
other namespaces, Tieba's search and forum as they are today, Weibo's login message and long posts,
the 留言板 detail request and its web firewall, and the table printed a line at a time."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from urllib.parse import parse_qsl

from tests.conftest import LocalSite, Response
from tests.crawlers.conftest import page
from tests.crawlers.test_presets import CLIENT_ANSWER, CUT, FULL, cut_answer
from tests.crawlers.test_runner import rows, write

NS_FEED = (
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
    "<channel><title>t</title>"
    "<item><dc:title>芦山县停水通知</dc:title><dc:description>龙门乡明日停水。</dc:description>"
    '<atom:link href="http://bbs.example.cn/1"/><atom:updated>2024-06-14T10:00:00+08:00</atom:updated></item>'
    "<item><title>飞仙关景区开放</title><description>景区恢复开放。</description><link>http://bbs.example.cn/2</link>"
    "<pubDate>Fri, 14 Jun 2024 09:00:00 +0800</pubDate></item></channel></rss>"
)
SHELL = '<html><head><title>百度贴吧</title></head><body><div id="app"></div><script src="/app.js"></script></body></html>'
WAF = '<html><script>document.cookie="__jsl_clearance_s=1718;max-age=3600;path=/";location.reload()</script></html>'


def tieba_client(path: str, headers: dict[str, str], body: bytes) -> Response:
    form = dict(parse_qsl(body.decode()))
    sign = form.pop("sign", "")
    expected = hashlib.md5(("".join(f"{k}={form[k]}" for k in sorted(form)) + "tiebaclient!!!").encode()).hexdigest()
    if sign.lower() != expected or form.get("BDUSS") != "good":
        return Response('{"error_code": "1", "error_msg": "用户未登录或登录失败"}', content_type="application/json")
    return Response(json.dumps(CLIENT_ANSWER, ensure_ascii=False), content_type="application/json")


def weibo_api(path: str, headers: dict[str, str], body: bytes) -> Response:
    if "SUB=good" not in headers.get("Cookie", ""):
        return Response(page("weibo_login_required.json"), content_type="application/json")
    return Response(cut_answer(), content_type="application/json")


def liuyan_api(details: list[dict]):
    def handle(path: str, headers: dict[str, str], body: bytes) -> Response:
        if path.startswith("/v1/threads/content"):
            details.append(json.loads(json.loads(body)["param"]))
            return Response(page("liuyan_detail.json"), content_type="application/json")
        return Response(page("liuyan_list.json"), content_type="application/json")
    return handle


def test_issue_11_sources_against_a_local_site(tmp_path):
    details: list[dict] = []
    site = LocalSite().start()
    site.routes["/utf16.xml"] = Response(
        f'<?xml version="1.0" encoding="utf-16"?>{NS_FEED}'.encode("utf-16-le"), content_type="application/xml")
    site.routes["/slow.xml"] = Response(NS_FEED, content_type="application/rss+xml", delay=6)
    site.routes["/f/search/res"] = Response(SHELL)
    site.routes["/c/f/frs/page"] = tieba_client
    site.routes["/api/container/getIndex"] = weibo_api
    site.routes["/statuses/extend"] = Response(json.dumps({"ok": 1, "data": {"longTextContent": FULL}}, ensure_ascii=False),
                                               content_type="application/json")
    site.routes["/v1/threads/list/df"] = liuyan_api(details)
    site.routes["/v1/threads/content"] = liuyan_api(details)
    waf = LocalSite().start()
    waf.routes["/v1/threads/list/df"] = Response(WAF, status=521)
    sources = [
        ("utf16", "feed", f'url = "{site.url}/utf16.xml"'),
        ("tieba-search", "tieba", f'keyword = "芦山"\nurl = "{site.url}"'),
        ("tieba-forum", "tieba", f'forum = "芦山"\nurl = "{site.url}"'),
        ("tieba-client", "tieba", f'forum = "芦山"\nurl = "{site.url}"\ncookies = "BDUSS=good"\nmax_pages = 1'),
        ("weibo-nocookie", "weibo", f'url = "{site.url}"'),
        ("weibo-long", "weibo", f'url = "{site.url}"\ncookies = "SUB=good"\nmax_pages = 1'),
        ("liuyan", "liuyan", f'fid = "539"\nurl = "{site.url}"'),
        ("liuyan-waf", "liuyan", f'fid = "539"\nurl = "{waf.url}"'),
        ("slow", "feed", f'url = "{site.url}/slow.xml"'),  # last: it finishes well after the first ones
    ]
    config = write(tmp_path, "".join(f'\n[[sources]]\nname = "{n}"\ntype = "{t}"\n{rest}\n' for n, t, rest in sources),
                   request_timeout="20s")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--config", str(config), "crawl"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen: list[tuple[float, str]] = []
        for line in proc.stdout:
            seen.append((time.monotonic(), line.rstrip("\n")))
        proc.wait(120)
        ended = time.monotonic()
        err = proc.stderr.read()
    finally:
        site.stop()
        waf.stop()
    out = "\n".join(line for _, line in seen)
    assert proc.returncode == 1, out + err
    # each source's line came as it finished: the first one long before the slow source ended the run
    table = [(at, line) for at, line in seen[2:] if line.split() and line.split()[0] in {n for n, _, _ in sources}
             and ":" not in line.split()[0]]
    assert [line.split()[0] for _, line in table][-1] == "slow"
    assert ended - table[0][0] > 4, out
    lines = {line.split()[0]: line.split()[1:] for _, line in table}
    assert len(lines) == len(sources)

    assert lines["utf16"] == ["2", "2", "2", "0", "0", "ok"]  # UTF-16LE without a mark, dc:/atom: items
    stored = {r["title"]: r for r in rows(config, "SELECT * FROM posts WHERE source = 'utf16'")}
    assert stored["芦山县停水通知"]["text"] == "龙门乡明日停水。" and stored["芦山县停水通知"]["url"] == "http://bbs.example.cn/1"
    assert stored["芦山县停水通知"]["published_at"].startswith("2024-06-14T02:00")

    assert f'tieba-search: no posts on {site.url}/f/search/res' in out
    assert "the layout changed or a cookie is needed" in out
    assert "tieba-forum: a tieba forum source needs your own Baidu login cookie" in out
    assert lines["tieba-client"] == ["2", "2", "2", "0", "0", "ok"]

    assert "weibo-nocookie: login required: no cookie is set (m.weibo.cn answered ok:-100, 请先登录)" in out
    assert lines["weibo-long"][-1] == "ok"
    (long_post,) = rows(config, "SELECT text FROM posts WHERE source = 'weibo-long' AND url LIKE '%Cut1'")
    assert long_post["text"] == FULL and CUT in FULL

    assert lines["liuyan"][-1] == "ok" and details and all(d.get("fromTrash") == 0 for d in details)
    assert "liuyan-waf: blocked: web-firewall challenge page (HTTP 521) from 127.0.0.1:" in out
    assert lines["slow"][-1] == "ok"


def test_a_feed_that_empties_after_giving_posts_raises_the_source_alert(tmp_path):
    """RSSHub answers a blocked route with a valid but empty channel: no error anywhere, so only the
    parsed-0 rule can tell the analysts (here after 3 runs, [alerts] source_failures)."""
    from tests.crawlers.test_runner import feed
    from yuqing import settings as settings_mod
    from yuqing.alerts import detector
    from yuqing.crawlers.runner import crawl_one
    from yuqing.store import Store

    site = LocalSite().start()
    site.routes["/rss.xml"] = Response(feed(("芦山县停水", "http://bbs.example.cn/1", "龙门乡停水"),
                                            ("芦山县停电", "http://bbs.example.cn/2", "飞仙关停电")),
                                       content_type="application/rss+xml")
    config = write(tmp_path, f'\n[[sources]]\nname = "rsshub"\ntitle = "RSSHub·贴吧"\ntype = "feed"\n'
                             f'url = "{site.url}/rss.xml"\n\n[alerts]\noutbox = "outbox"\n')
    settings = settings_mod.load(config)
    try:
        assert crawl_one(settings, "rsshub").new == 2
        site.routes["/rss.xml"] = Response(feed(), content_type="application/rss+xml")
        for _ in range(3):
            stats = crawl_one(settings, "rsshub")
            assert stats.ok and stats.fetched == 0 and stats.pages == 1
    finally:
        site.stop()
    with Store(settings.db_path) as store:
        changed = [a for a in detector.detect(settings, store) if a.kind == "source"]
    (alert,) = changed
    assert alert.title == "数据源「RSSHub·贴吧」" and alert.level == "blue"
    assert "fetched 3 pages, parsed 0 posts: layout changed?" in alert.explanation["problem"]
