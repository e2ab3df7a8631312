"""Crawl throughput: our feed and html spiders with every pipeline vs a bare Scrapy spider.

A loopback site of a few thousand pages is generated in a temporary folder and served by a
threaded http.server on 127.0.0.1: list pages (10 posts each, a next link) with one detail page per
post, and RSS documents of 20 items. Each variant runs in its own process (Scrapy's reactor cannot
restart) with the same Scrapy settings; the bare spiders only extract the same fields (title, url,
time, text) and keep nothing. Pages/s is measured from spider open to spider close.

    python bench/crawl.py                  # about a minute
    python bench/crawl.py --lists 100 --feeds 300   # quicker
Goal: ours >= 0.8x bare.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PER_LIST = 10
PER_FEED = 20
CONCURRENCY = 8


# -- the site ----------------------------------------------------------------------------------
def build_site(root: Path, lists: int, feeds: int) -> None:
    news = root / "news"
    news.mkdir(parents=True)
    for p in range(1, lists + 1):
        items = []
        for i in range(PER_LIST):
            n = (p - 1) * PER_LIST + i
            place = "芦山县" if n % 2 == 0 else "外地"
            items.append(f'<li><a href="/news/{n}.html">{place}第{n}号通知：道路施工与停水安排</a>'
                         f'<span class="date">2024-06-{1 + n % 28:02d} 08:{n % 60:02d}</span></li>')
            body = "".join(f"<p>{place}{'龙门乡' if place == '芦山县' else '某镇'}第{n}号通知第{k}段："
                           "小区停水，居民用水困难，请提前储水。</p>" for k in range(8))
            (news / f"{n}.html").write_text(
                f'<html><head><meta charset="utf-8"><title>{place}第{n}号</title></head><body><div class="nav">首页</div>'
                f'<h1>{place}第{n}号通知</h1><div class="article">{body}<p>分享到：微博</p></div></body></html>',
                encoding="utf-8")
        nxt = f'<a class="next" href="/news/list_{p + 1}.html">下一页</a>' if p < lists else ""
        (news / ("index.html" if p == 1 else f"list_{p}.html")).write_text(
            f'<html><head><meta charset="utf-8"></head><body><ul class="news">{"".join(items)}</ul>{nxt}</body></html>',
            encoding="utf-8")
    feed_dir = root / "feeds"
    feed_dir.mkdir()
    for f in range(feeds):
        entries = []
        for i in range(PER_FEED):
            n = f * PER_FEED + i
            place = "芦山县" if n % 2 == 0 else "外地"
            entries.append(
                f"<item><title>{place}第{n}条消息</title><link>http://feeds.example.cn/{n}</link>"
                f"<description><![CDATA[<p>{place}{'飞仙关' if place == '芦山县' else '某地'}第{n}条："
                "道路施工，车辆绕行。</p><p>请注意安全。</p>]]></description>"
                f"<pubDate>Fri, 14 Jun 2024 10:{n % 60:02d}:00 +0800</pubDate></item>")
        (feed_dir / f"{f}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f'<link>http://feeds.example.cn/</link><description>d</description>{"".join(entries)}</channel></rss>',
            encoding="utf-8")


def serve(root: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # the default listen backlog of 5 overflows under 8 concurrent connections (HTTP/1.0: one
        # per page) while the accept thread waits for the GIL; a dropped SYN is retried after 1 s,
        # and those stalls, not the crawlers, decided the wall-clock figures
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# -- one variant, in a child process -----------------------------------------------------------
def run_variant(variant: str, base: str, workdir: Path, feeds: int) -> dict[str, Any]:
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from yuqing import settings as settings_mod
    from yuqing.crawlers.settings import quiet_scrapy_logging, scrapy_settings
    from yuqing.crawlers.spiders.feed import FeedSpider
    from yuqing.crawlers.spiders.html import HtmlSpider
    from yuqing.models import CrawlStats

    feed_urls = [f"{base}/feeds/{f}.xml" for f in range(feeds)]
    config = settings_mod.from_dict({
        "locality": {"name": "芦山县", "aliases": ["芦山", "龙门乡", "飞仙关"]},
        "store": {"path": str(workdir / f"{variant}.db")},  # a fresh store: every post is new
        "crawl": {"delay": 0, "autothrottle": False, "concurrency": CONCURRENCY, "max_pages": 100_000, "retries": 0},
        "sources": [
            {"name": "bench-html", "type": "html", "url": f"{base}/news/index.html", "item": "ul.news li",
             "fields": {"title": "a::text", "url": "a::attr(href)", "time": ".date::text"},
             "detail": {"text": "div.article"}, "next_page": "a.next::attr(href)"},
            {"name": "bench-feed", "type": "feed", "url": feed_urls[0]},
        ],
    })

    class OurFeeds(FeedSpider):
        def first_requests(self):  # the same spider over many feed documents
            for url in feed_urls:
                yield self.request(url, "parse_feed", dont_filter=True)

    class BareHtml(scrapy.Spider):
        name = "bare-html"

        async def start(self):
            yield scrapy.Request(f"{base}/news/index.html", self.parse)

        def parse(self, response):
            for li in response.css("ul.news li"):
                item = {"title": li.css("a::text").get(), "url": response.urljoin(li.css("a::attr(href)").get()),
                        "time": li.css(".date::text").get()}
                yield response.follow(item["url"], self.parse_detail, cb_kwargs={"item": item})
            nxt = response.css("a.next::attr(href)").get()
            if nxt:
                yield response.follow(nxt, self.parse)

        def parse_detail(self, response, item):
            item["text"] = " ".join(t.strip() for t in response.css("div.article ::text").getall())
            yield item

    class BareFeed(scrapy.Spider):
        name = "bare-feed"

        async def start(self):
            for url in feed_urls:
                yield scrapy.Request(url, self.parse)

        def parse(self, response):
            for it in response.xpath("//item"):
                yield {"title": it.xpath("title/text()").get(), "url": it.xpath("link/text()").get(),
                       "text": it.xpath("description/text()").get(), "time": it.xpath("pubDate/text()").get()}

    ours = variant.startswith("ours")
    kind = variant.split("-")[1]
    source = config.sources[0 if kind == "html" else 1]
    cls = {"ours-html": HtmlSpider, "ours-feed": OurFeeds, "bare-html": BareHtml, "bare-feed": BareFeed}[variant]
    process = CrawlerProcess(settings={**scrapy_settings(config, source, pipelines=ours), "LOG_LEVEL": "ERROR"})
    quiet_scrapy_logging(logging.ERROR)  # the same for both: no log record per page or item
    crawler = process.create_crawler(cls)
    counts = {"pages": 0, "items": 0}
    clock: dict[str, float] = {}
    receivers = [  # kept referenced: Scrapy holds signal receivers weakly
        (lambda **kw: counts.__setitem__("pages", counts["pages"] + 1), signals.response_received),
        (lambda **kw: counts.__setitem__("items", counts["items"] + 1), signals.item_scraped),
        (lambda **kw: clock.update(open=time.perf_counter(), cpu_open=time.process_time()), signals.spider_opened),
        (lambda **kw: clock.update(close=time.perf_counter(), cpu_close=time.process_time()), signals.spider_closed),
    ]
    for receiver, signal in receivers:
        crawler.signals.connect(receiver, signal=signal)
    stats = CrawlStats(source=source.name)
    kwargs = {"source": source, "settings": config, "stats": stats} if ours else {}
    process.crawl(crawler, **kwargs)
    process.start()
    seconds = clock["close"] - clock["open"]
    result = {"variant": variant, "pages": counts["pages"], "items": counts["items"], "seconds": seconds,
              "cpu": clock["cpu_close"] - clock["cpu_open"]}
    if ours:
        result.update(fetched=stats.fetched, matched=stats.matched, new=stats.new, error=stats.error)
    return result


def child(variant: str, base: str, workdir: Path, feeds: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--base", base, "--workdir", str(workdir), "--feeds", str(feeds)],
        capture_output=True, text=True, timeout=600)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{variant} failed:\n{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=120, help="list pages (10 detail pages each)")
    parser.add_argument("--feeds", type=int, default=500, help="feed documents (20 items each)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each variant counts")
    parser.add_argument("--child")
    parser.add_argument("--base")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child, args.base, Path(args.workdir), args.feeds), ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
        root = Path(tmp) / "site"
        build_site(root, args.lists, args.feeds)
        server, base = serve(root)
        try:
            pages_html = args.lists * (PER_LIST + 1)
            print(f"loopback site: {pages_html} html pages ({args.lists} lists + detail pages), "
                  f"{args.feeds} feeds of {PER_FEED} items; concurrency {CONCURRENCY}")
            # variants alternate and each keeps its best round: the machine is shared, and a
            # neighbour's burst of work should not decide the ratio
            results: dict[str, dict[str, Any]] = {}
            for round_ in range(args.rounds):
                for variant in ("bare-html", "ours-html", "bare-feed", "ours-feed"):
                    r = child(variant, base, Path(tmp) / f"r{round_}", args.feeds)
                    rate = r["pages"] / r["seconds"]
                    extra = f"  fetched {r['fetched']} matched {r['matched']} new {r['new']}" if "new" in r else ""
                    print(f"  round {round_ + 1} {variant:10} {r['pages']:6d} pages {r['items']:6d} items "
                          f"{r['seconds']:6.2f}s {rate:8.1f} pages/s  cpu {1000 * r['cpu'] / r['pages']:5.1f} ms/page{extra}"
                          + (f"  ERROR {r['error']}" if r.get("error") else ""))
                    best = results.get(variant)
                    if best is None or rate > best["pages"] / best["seconds"]:
                        results[variant] = r
            print()
            for kind in ("html", "feed"):
                ours, bare = results[f"ours-{kind}"], results[f"bare-{kind}"]
                a, b = ours["pages"] / ours["seconds"], bare["pages"] / bare["seconds"]
                verdict = "ok" if a / b >= 0.8 else "BELOW GOAL"
                print(f"{kind:5} ours {a:8.1f} pages/s   bare {b:8.1f} pages/s   ratio {a / b:5.2f}x  "
                      f"(goal >= 0.80x: {verdict})")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
