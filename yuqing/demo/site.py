"""The sample site: a small HTTP server on 127.0.0.1 that publishes the demo's posts over time.

Three sources of the shapes yuqing crawls, each built the way such sites are:

    /forum/rss.xml                 青溪论坛        RSS 2.0 feed (HTML in CDATA), thread pages behind it
    /news/index.html, list_N.html  青溪县融媒体中心 list pages (20 a page, "下一页" link), detail pages
    /api/wenzheng/list?page=N      青溪网络问政     JSON API, 20 a page, empty list past the end

A post shows once its `appear_at` has passed, so a story unfolds while the daemon watches. Tests and
the benchmark steer it: `add()` publishes more posts, `delays[channel]` makes a channel's list answer
slowly (a hanging source), `hits[channel]` records when each channel was asked.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from yuqing.demo.posts import TZ, SamplePost

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
CHANNELS = ("forum", "news", "wenzheng")
_NAMES = {"forum": "青溪论坛", "news": "青溪县融媒体中心", "wenzheng": "青溪网络问政平台"}


def _stamp(when: datetime) -> str:
    """How Chinese sites write a time: local, no zone (the crawler reads it in Asia/Shanghai)."""
    return when.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>")


class SampleSite:
    """`SampleSite(posts).start()`; `.url`; `.stop()`."""

    def __init__(self, posts: list[SamplePost] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self.posts: list[SamplePost] = list(posts or [])
        self.delays: dict[str, float] = {}
        self.hits: dict[str, list[float]] = defaultdict(list)
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # the demo prints its own story
                pass

            def do_GET(self) -> None:  # noqa: N802
                status, ctype, body, delay = site.respond(self.path)
                if delay:
                    time.sleep(delay)
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="sample-site", daemon=True)

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> SampleSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, posts: list[SamplePost]) -> None:
        with self._lock:
            self.posts.extend(posts)

    def visible(self, channel: str | None = None, now: float | None = None) -> list[SamplePost]:
        """Posts shown now (newest first)."""
        now = time.time() if now is None else now
        with self._lock:
            shown = [p for p in self.posts if p.appear_at <= now and (channel is None or p.channel == channel)]
        return sorted(shown, key=lambda p: (p.published, p.id), reverse=True)

    @property
    def sources(self) -> dict[str, str]:
        """The URL of each channel's entry point (what a config's `url` holds)."""
        return {"forum": f"{self.url}/forum/rss.xml", "news": f"{self.url}/news/index.html",
                "wenzheng": f"{self.url}/api/wenzheng/list?page={{page}}"}

    # -- routes -----------------------------------------------------------------------------------
    def respond(self, raw_path: str) -> tuple[int, str, str, float]:
        """(status, content type, body, delay) for a GET."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", "User-agent: *\nAllow: /\n", 0.0
        if path in ("/", "/index.html"):
            links = "".join(f'<li><a href="{u}">{_NAMES[c]}</a></li>' for c, u in self.sources.items())
            return 200, "text/html; charset=utf-8", _page("青溪县示例站点", f"<h1>青溪县示例站点</h1><ul>{links}</ul>"), 0.0
        if path == "/forum/rss.xml":
            return self._list("forum", 200, "application/rss+xml; charset=utf-8", self._rss())
        if path == "/news/index.html" or (path.startswith("/news/list_") and path.endswith(".html")):
            number = 1 if path.endswith("index.html") else path[len("/news/list_"):-len(".html")]
            if not str(number).isdigit() or int(number) < 1:
                return 404, "text/html; charset=utf-8", _page("404", "<h1>页面不存在</h1>"), 0.0
            return self._list("news", 200, "text/html; charset=utf-8", self._news_list(int(number)))
        if path == "/api/wenzheng/list":
            page = (query.get("page") or ["1"])[0]
            if not page.isdigit() or int(page) < 1:
                body = json.dumps({"code": 400, "msg": "page 参数错误", "data": None}, ensure_ascii=False)
                return 400, "application/json; charset=utf-8", body, 0.0
            return self._list("wenzheng", 200, "application/json; charset=utf-8", self._wenzheng(int(page)))
        for channel, prefix in (("forum", "/forum/thread/"), ("news", "/news/"), ("wenzheng", "/wenzheng/")):
            if path.startswith(prefix) and path.endswith(".html") and path[len(prefix):-5].isdigit():
                post = self._find(channel, int(path[len(prefix):-5]))
                if post is not None:
                    return 200, "text/html; charset=utf-8", self._detail(post), 0.0
        return 404, "text/html; charset=utf-8", _page("404", "<h1>页面不存在</h1>"), 0.0

    def _list(self, channel: str, status: int, ctype: str, body: str) -> tuple[int, str, str, float]:
        self.hits[channel].append(time.time())
        return status, ctype, body, self.delays.get(channel, 0.0)

    def _find(self, channel: str, post_id: int) -> SamplePost | None:
        for post in self.visible(channel):
            if post.id == post_id:
                return post
        return None

    def link(self, post: SamplePost) -> str:
        prefix = {"forum": "/forum/thread/", "news": "/news/", "wenzheng": "/wenzheng/"}[post.channel]
        return f"{self.url}{prefix}{post.id}.html"

    def _rss(self) -> str:
        items = []
        for post in self.visible("forum")[:200]:
            body = "".join(f"<p>{html.escape(line)}</p>" for line in post.text.split("\n"))
            items.append(
                f"<item><title>{html.escape(post.title)}</title><link>{self.link(post)}</link>"
                f'<guid isPermaLink="true">{self.link(post)}</guid>'
                f"<description><![CDATA[{body}]]></description>"
                f"<pubDate>{format_datetime(post.published)}</pubDate>"
                f"<dc:creator>{html.escape(post.author)}</dc:creator></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>青溪论坛 - 最新帖子</title><link>{self.url}/forum/</link>"
            "<description>青溪县本地生活论坛</description><language>zh-cn</language>"
            + "".join(items) + "</channel></rss>"
        )

    def _news_list(self, number: int) -> str:
        posts = self.visible("news")
        chunk = posts[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        rows = "".join(
            f'<li><a href="/news/{p.id}.html" title="{html.escape(p.title)}">{html.escape(p.title)}</a>'
            f'<span class="date">{_stamp(p.published)}</span></li>'
            for p in chunk
        )
        pager = f'<a class="next" href="list_{number + 1}.html">下一页</a>' if number * PAGE_SIZE < len(posts) else ""
        body = (f'<div class="header"><h1>青溪县融媒体中心</h1></div><div class="main"><h2>青溪要闻</h2>'
                f'<ul class="news-list">{rows}</ul><div class="pages">第{number}页 {pager}</div></div>')
        return _page("青溪要闻 - 青溪县融媒体中心", body)

    def _wenzheng(self, page: int) -> str:
        posts = self.visible("wenzheng")
        chunk = posts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        items = [
            {"tid": p.id, "title": p.title, "content": p.text, "url": self.link(p), "created_at": _stamp(p.published),
             "user": {"name": p.author}, "forum": p.extra.get("forum", ""), "state": p.extra.get("state", "")}
            for p in chunk
        ]
        pages = max(1, -(-len(posts) // PAGE_SIZE))
        return json.dumps({"code": 0, "msg": "ok", "data": {"page": page, "pages": pages, "total": len(posts), "items": items}},
                          ensure_ascii=False)

    def _detail(self, post: SamplePost) -> str:
        paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in post.text.split("\n"))
        extra = ""
        if post.channel == "wenzheng":
            extra = (f'<div class="meta">留言对象：{html.escape(post.extra.get("forum", ""))} '
                     f'状态：<span class="state">{html.escape(post.extra.get("state", ""))}</span></div>')
        body = (f'<div class="main"><h1 class="title">{html.escape(post.title)}</h1>'
                f'<div class="info"><span class="time">{_stamp(post.published)}</span> '
                f'来源：<span class="author">{html.escape(post.author)}</span></div>{extra}'
                f'<div class="article">{paragraphs}</div></div>')
        return _page(f"{post.title} - {_NAMES[post.channel]}", body)
