"""crawl_runs.pages through a real scrapyd: a feed that empties after giving posts raises the parsed-0
source alert ("fetched 3 pages, parsed 0 posts: layout changed?") as it does with local crawls."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import LocalSite, Response
from tests.crawlers.test_runner import feed
from tests.engines.conftest import ScrapydNode
from tests.engines.test_scrapyd import write
from yuqing import settings as settings_mod
from yuqing.crawlers.runner import crawl_one, parse_stats_line, stats_line
from yuqing.models import CrawlStats
from yuqing.store import Store


def test_pages_come_back_from_scrapyd_and_the_parsed_0_alert_is_raised(tmp_path: Path, deployed: ScrapydNode):
    from yuqing.alerts import detector

    site = LocalSite().start()
    site.routes["/rss.xml"] = Response(feed(("芦山县停水", "http://bbs.example.cn/1", "龙门乡停水"),
                                            ("芦山县停电", "http://bbs.example.cn/2", "飞仙关停电")),
                                       content_type="application/rss+xml")
    sources = (f'\n[[sources]]\nname = "rsshub"\ntitle = "RSSHub·贴吧"\ntype = "feed"\nurl = "{site.url}/rss.xml"\n'
               '\n[alerts]\noutbox = "outbox"\n')
    settings = settings_mod.load(write(tmp_path / "remote.toml", sources, engine="scrapyd", nodes=[deployed.url]))
    try:
        first = crawl_one(settings, "rsshub")
        assert first.new == 2 and first.pages == 1, first
        site.routes["/rss.xml"] = Response(feed(), content_type="application/rss+xml")
        for _ in range(3):
            stats = crawl_one(settings, "rsshub")
            assert stats.ok and stats.fetched == 0 and stats.pages == 1, stats
    finally:
        site.stop()
    with Store(settings.db_path) as store:
        assert [r["pages"] for r in store.recent_runs("rsshub", 4)] == [1, 1, 1, 1]
        (alert,) = [a for a in detector.detect(settings, store) if a.kind == "source"]
    assert alert.title == "数据源「RSSHub·贴吧」" and alert.level == "blue"
    assert "fetched 3 pages, parsed 0 posts: layout changed?" in alert.explanation["problem"]


def test_a_stats_line_from_another_version_of_yuqing_is_read_not_a_crash():
    """A node may run an older yuqing (no `pages`) or a newer one (fields this one lacks): the stats
    that both know are read, and a missing `pages` counts as 0 (the parsed-0 rule then stays quiet)."""
    line = json.loads(stats_line(CrawlStats("rsshub", fetched=4, new=2, pages=3)))
    line["crawl_stats"]["fetch_ms"] = 120  # a field of a newer version
    stats = parse_stats_line(json.dumps(line))
    assert stats is not None and (stats.fetched, stats.new, stats.pages) == (4, 2, 3)
    del line["crawl_stats"]["pages"]
    older = parse_stats_line(json.dumps(line))
    assert older is not None and older.pages == 0 and older.new == 2
