"""The fast RSS reader hands an item to feedparser when it finds no title, text, date or link of
its own: dc:, dcterms:, atom:, xhtml:, media: and itunes: elements are read as feedparser reads them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.crawlers.conftest import NOW
from yuqing.crawlers.spiders import feed
from yuqing.crawlers.spiders.feed import parse_feed_bytes

URL = "http://127.0.0.1/feed.xml"
NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xhtml="http://www.w3.org/1999/xhtml" '
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)
ITEMS = {
    "dc": ("<dc:title>芦山县停水通知</dc:title><dc:description>龙门乡明日停水。</dc:description>"
           "<link>http://bbs.example.cn/1</link><dc:date>2024-06-14T10:00:00+08:00</dc:date>"),
    "atom": ("<title>飞仙关景区开放</title><description>景区恢复开放。</description>"
             '<atom:link href="http://bbs.example.cn/2" rel="alternate"/><atom:updated>2024-06-14T09:00:00+08:00</atom:updated>'),
    "dcterms": ("<title>芦山大桥封闭</title><description>夜间封闭施工。</description><guid>http://bbs.example.cn/3</guid>"
                "<dcterms:modified>2024-06-13T20:00:00+08:00</dcterms:modified>"),
    "xhtml": ("<title>芦山县防汛演练</title><xhtml:body><xhtml:p>演练在河边举行。</xhtml:p></xhtml:body>"
              "<link>http://bbs.example.cn/4</link><pubDate>Thu, 13 Jun 2024 08:00:00 +0800</pubDate>"),
    "media": ("<media:title>芦山新闻视频</media:title><itunes:summary>本期讲述芦山县的变化。</itunes:summary>"
              "<link>http://bbs.example.cn/5</link><dcterms:created>2024-06-12T08:00:00Z</dcterms:created>"),
    "dcterms_issued": ("<title>龙门乡通知</title><description>关于道路施工。</description><link>http://bbs.example.cn/6</link>"
                       "<dcterms:issued>2024-06-11T08:00:00+08:00</dcterms:issued>"),
}
EXPECTED = {
    "dc": ("芦山县停水通知", "龙门乡明日停水。", "http://bbs.example.cn/1", datetime(2024, 6, 14, 2, tzinfo=timezone.utc)),
    "atom": ("飞仙关景区开放", "景区恢复开放。", "http://bbs.example.cn/2", datetime(2024, 6, 14, 1, tzinfo=timezone.utc)),
    "dcterms": ("芦山大桥封闭", "夜间封闭施工。", "http://bbs.example.cn/3", datetime(2024, 6, 13, 12, tzinfo=timezone.utc)),
    "xhtml": ("芦山县防汛演练", "演练在河边举行。", "http://bbs.example.cn/4", datetime(2024, 6, 13, 0, tzinfo=timezone.utc)),
    "media": ("芦山新闻视频", "本期讲述芦山县的变化。", "http://bbs.example.cn/5", datetime(2024, 6, 12, 8, tzinfo=timezone.utc)),
    "dcterms_issued": ("龙门乡通知", "关于道路施工。", "http://bbs.example.cn/6", datetime(2024, 6, 11, 0, tzinfo=timezone.utc)),
}
PLAIN = ("<title>普通条目</title><description>芦山县普通内容。</description><link>http://bbs.example.cn/0</link>"
         "<pubDate>Fri, 14 Jun 2024 12:00:00 +0800</pubDate>")


def rss(*items: str) -> bytes:
    body = "".join(f"<item>{i}</item>" for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {NAMESPACES}><channel><title>t</title>'
            f"{body}</channel></rss>").encode()


@pytest.mark.parametrize("kind", sorted(ITEMS))
def test_items_in_other_namespaces_get_their_title_text_link_and_date(kind):
    posts = parse_feed_bytes(rss(PLAIN, ITEMS[kind]), URL, "s", now=NOW)
    assert [(p.title, p.text, p.url, p.published_at) for p in posts] == [
        ("普通条目", "芦山县普通内容。", "http://bbs.example.cn/0", datetime(2024, 6, 14, 4, tzinfo=timezone.utc)),
        EXPECTED[kind],
    ]


def test_fast_reader_with_fallback_agrees_with_feedparser_on_every_item(monkeypatch):
    body = rss(PLAIN, *ITEMS.values())
    assert feed._rss2_entries(body) is not None  # the fast path reads it...
    fast = parse_feed_bytes(body, URL, "s", now=NOW)
    monkeypatch.setattr(feed, "_rss2_entries", lambda data: None)
    slow = parse_feed_bytes(body, URL, "s", now=NOW)  # ...and gives what feedparser alone gives
    assert len(fast) == len(ITEMS) + 1
    assert [p.to_dict() | {"fetched_at": None} for p in fast] == [p.to_dict() | {"fetched_at": None} for p in slow]


def test_complete_items_do_not_go_to_feedparser(monkeypatch):
    calls = []
    monkeypatch.setattr(feed, "_item_via_feedparser", lambda item: calls.append(item) or None)
    posts = parse_feed_bytes(rss(PLAIN, PLAIN.replace("/0", "/9")), URL, "s", now=NOW)
    assert len(posts) == 2 and calls == []
