"""Feeds in every encoding a real server sends: UTF-16/UTF-32 with and without a byte-order mark,
lying declarations, and Japanese/Korean legacy codes that must not come out as plausible Chinese."""

from __future__ import annotations

import pytest

from yuqing.crawlers.encoding import decode_body, sniff_wide
from yuqing.crawlers.spiders.feed import parse_feed_bytes

URL = "http://127.0.0.1/feed.xml"
ZH = ("芦山县龙门乡明日停水通知", "因管网检修，龙门乡明日八点至十八点停水，请居民提前储水。")
JA = ("芦山県で地震の訓練が行われました", "今日の午前、住民たちは避難の訓練に参加しました。")
KO = ("루산현에서 지진 대비 훈련이 열렸다", "오늘 오전 주민들은 대피 훈련에 참가하였고 많은 사람이 함께 했다.")


def rss(title: str, text: str, declared: str | None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else '<?xml version="1.0"?>\n'
    return (f'{decl}<rss version="2.0"><channel><title>t</title><item><title>{title}</title>'
            f"<link>http://bbs.example.cn/1</link><description>{text}</description>"
            "<pubDate>Fri, 14 Jun 2024 10:30:00 +0800</pubDate></item></channel></rss>")


@pytest.mark.parametrize("codec, bom", [
    ("utf-16-le", b""), ("utf-16-be", b""), ("utf-32-le", b""), ("utf-32-be", b""),
    ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
    ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff"),
])
@pytest.mark.parametrize("declared", [None, "utf-16", "UTF-32"])
def test_wide_unicode_with_or_without_a_mark_is_read(codec, bom, declared):
    body = bom + rss(*ZH, declared).encode(codec)
    posts = parse_feed_bytes(body, URL, "s")
    assert [(p.title, p.text) for p in posts] == [ZH]
    assert posts[0].extra == {"feed_encoding": codec}


def test_utf32_mark_is_checked_before_utf16s():
    # FF FE 00 00 starts like the UTF-16LE mark; read as UTF-16 it would be a NUL and garbage
    text, name = decode_body(b"\xff\xfe\x00\x00" + "<rss/>".encode("utf-32-le"))
    assert (text, name) == ("<rss/>", "utf-32-le")


def test_sniffing_leaves_narrow_text_alone():
    assert sniff_wide(rss(*ZH, "utf-8").encode("utf-8")) is None
    assert sniff_wide(rss(*ZH, "gbk").encode("gbk")) is None
    assert sniff_wide(b"<rss/>") is None


@pytest.mark.parametrize("declared", ["utf-16", "UTF-16LE", "utf-32", "ucs-2"])
def test_a_feed_declaring_utf16_that_is_really_utf8_is_read(declared):
    posts = parse_feed_bytes(rss(*ZH, declared).encode("utf-8"), URL, "s")
    assert [(p.title, p.text) for p in posts] == [ZH]
    posts = parse_feed_bytes(rss(*ZH, "utf-8").encode("utf-8"), URL, "s", content_type=f"text/xml; charset={declared}")
    assert [(p.title, p.text) for p in posts] == [ZH]


@pytest.mark.parametrize("sample, codec", [(JA, "euc-jp"), (JA, "shift_jis"), (KO, "euc-kr"), (ZH, "gb2312")])
@pytest.mark.parametrize("declared", [True, False])
def test_japanese_and_korean_legacy_codes_decode_as_what_was_written(sample, codec, declared):
    body = rss(*sample, codec if declared else None).encode(codec)
    posts = parse_feed_bytes(body, URL, "s")
    assert [(p.title, p.text) for p in posts] == [sample]
    assert posts[0].extra["feed_encoding"] in (codec, "gb18030")


@pytest.mark.parametrize("codec", ["euc-jp", "shift_jis", "euc-kr"])
def test_short_japanese_and_korean_titles_are_not_read_as_chinese(codec):
    sample = {"euc-jp": "ニュースのまとめ", "shift_jis": "ニュースのまとめ", "euc-kr": "오늘의 뉴스 입니다"}[codec]
    text, name = decode_body(f"<title>{sample}</title>".encode(codec))
    assert (text, name) == (f"<title>{sample}</title>", codec)


@pytest.mark.parametrize("sample", [
    "芦山县城区停水通知：因管网检修，城区明日停水。",
    "关于龙门乡道路施工期间交通管制的公告",
    "飞仙关镇召开防汛工作会议，部署今年的防汛任务",
])
@pytest.mark.parametrize("codec", ["gbk", "gb18030", "big5"])
def test_chinese_legacy_codes_are_not_mistaken_for_japanese_or_korean(sample, codec):
    from yuqing.text import to_simplified

    if codec == "big5":
        from opencc import OpenCC

        sample = OpenCC("s2t").convert(sample)
    text, name = decode_body(sample.encode(codec))
    assert text == sample and name in ("gb18030", "big5")
    assert to_simplified(text)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_mostly_chinese_utf16_without_a_mark_is_sniffed(codec):
    text = '{"t":"' + "芦山县龙门乡停水一天，居民用水困难，请有关部门尽快解决。" * 8 + '"}'
    assert decode_body(text.encode(codec)) == (text, codec)
