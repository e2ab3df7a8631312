"""Time parsing, cleaning, traditional->simplified, canonical URLs and encoding detection."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.crawlers.conftest import NOW, page
from yuqing.crawlers.dates import parse_time
from yuqing.crawlers.text import canonical_url, clean_text, decode_body, to_simplified


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("刚刚", utc(2024, 6, 15, 4, 0)),
        ("30秒前", utc(2024, 6, 15, 3, 59, 30)),
        ("5分钟前", utc(2024, 6, 15, 3, 55)),
        ("2小时前", utc(2024, 6, 15, 2, 0)),
        ("3天前", utc(2024, 6, 12, 4, 0)),
        ("今天 08:30", utc(2024, 6, 15, 0, 30)),
        ("昨天 12:00", utc(2024, 6, 14, 4, 0)),
        ("前天 23:59", utc(2024, 6, 13, 15, 59)),
        ("回复于 10:05", utc(2024, 6, 15, 2, 5)),
        ("23:10", utc(2024, 6, 14, 15, 10)),  # later than now today: last night
        ("06-14", utc(2024, 6, 13, 16, 0)),
        ("6-14 08:30", utc(2024, 6, 14, 0, 30)),
        ("12-30", utc(2023, 12, 29, 16, 0)),  # in the future this year: last year's
        ("Wed Oct 19 23:44:36 +0800 2022", utc(2022, 10, 19, 15, 44, 36)),
        ("Fri, 14 Jun 2024 10:30:00 +0800", utc(2024, 6, 14, 2, 30)),
        ("2024-06-14 10:00", utc(2024, 6, 14, 2, 0)),
        ("2024-06-14T10:00:00Z", utc(2024, 6, 14, 10, 0)),
        ("2024年6月14日 09:30", utc(2024, 6, 14, 1, 30)),
        ("发布于 2024-6-1", utc(2024, 5, 31, 16, 0)),
        ("2023-11", utc(2023, 10, 31, 16, 0)),
        (1718330400, utc(2024, 6, 14, 2, 0)),
        ("1718330400000", utc(2024, 6, 14, 2, 0)),
    ],
)
def test_parse_time_reads_site_formats(value, expected):
    assert parse_time(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["", None, "不是日期", "02-30", "2024-13-01", "99:99", True, -5])
def test_parse_time_gives_none_for_unreadable(value):
    assert parse_time(value, now=NOW) is None


def test_clean_text_strips_markup_scripts_and_furniture():
    html = ('<p>芦山县&nbsp;&nbsp;停水</p><script>alert(1)</script><style>p{}</style><iframe src="x"></iframe>'
            '<p>第二段\u200b <img alt="[哭]" src="a.png"></p><p>分享到：微博</p><p>责任编辑：张三</p>')
    assert clean_text(html) == "芦山县 停水\n第二段 [哭]"


def test_clean_text_keeps_plain_text_and_normalises_space():
    assert clean_text("  a\t\tb \r\n\r\n\n c\u3000d ") == "a b\nc d"
    assert clean_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"


def test_traditional_to_simplified_longest_phrase_first():
    assert to_simplified("蘆山縣龍門鄉發佈停水通知") == "芦山县龙门乡发布停水通知"
    # script only, not regional words: swapping words (tw2sp) would also turn 新增 into 添加
    assert to_simplified("印表機壞了") == "印表机坏了"
    assert to_simplified("乾隆年間天氣乾燥") == "乾隆年间天气干燥"  # a phrase that stays as it is
    assert to_simplified("already simplified 芦山") == "already simplified 芦山"


def test_canonical_url_drops_tracking_fragment_and_default_port():
    assert canonical_url("HTTP://News.Example.cn:80/a/1?utm_source=rss&b=2&a=1#top") == "http://news.example.cn/a/1?a=1&b=2"
    assert canonical_url("https://weibo.com/1/AbC?refer_flag=1001030103_") == "https://weibo.com/1/AbC"
    assert canonical_url("http://x.cn") == "http://x.cn/"
    assert canonical_url("http://x.cn:8080/p?id=1") == "http://x.cn:8080/p?id=1"


@pytest.mark.parametrize(
    "name, encoding, needle",
    [
        ("rss_gbk_undeclared.xml", "gb18030", "芦山县城区停水通知"),
        ("rss_big5_undeclared.xml", "big5", "蘆山縣城區停水通知"),
        ("rss_gbk_declared_utf8.xml", "gb18030", "龙门乡道路施工公告"),
        ("rss_bom.xml", "utf-8", "带 BOM 的芦山新闻"),
    ],
)
def test_decode_body_finds_undeclared_and_wrong_encodings(name, encoding, needle):
    text, found = decode_body(page(name))
    assert found == encoding
    assert needle in text


def test_decode_body_trusts_a_header_that_decodes():
    body = "芦山".encode("gbk")
    assert decode_body(body, "text/html; charset=GBK") == ("芦山", "gb18030")


@pytest.mark.parametrize("fragment, expected", [
    ('<p>前文</p><embed src="a.swf"><p>芦山县后文</p>', "前文\n芦山县后文"),
    ('<div>龙门乡<embed src="x">停水通知</div>结尾', "龙门乡停水通知\n结尾"),
    ('<p>前文</p><object data="a.swf"><param name="a" value="b"><p>芦山县后文</p>', "前文\n芦山县后文"),
    ('<p>前</p><object data="x"><param name="a">不支持插件</object><p>后</p>', "前\n后"),
    ('<p>视频：</p><embed src="v.swf"/><p>飞仙关景区</p>', "视频：\n飞仙关景区"),
])
def test_text_after_an_unclosed_embed_or_object_is_kept(fragment, expected):
    assert clean_text(fragment) == expected
