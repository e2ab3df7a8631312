"""yuqing.text: the one traditional -> simplified converter, used by the crawl and analysis stages."""

from __future__ import annotations

import pytest

from yuqing.analysis.features import normalize
from yuqing.crawlers.pipelines import PostCleaner
from yuqing.models import Post
from yuqing.text import normalize_space, to_simplified

# Correct simplified text that a character-by-character table used to rewrite (其余 -> 其馀, ...).
SIMPLIFIED = [
    "其余事项另行通知",
    "整治效果显著，群众满意",
    "全县实现4G网络覆盖",
    "暴雨过后街道一片狼藉",
    "保护著作权人的合法权益",
    "新增图书23余册",
    "乾隆年间修建的古桥",
    "皇后镇干部走访群众",
    "这里的头发理得不错，后来又去了一次",
    "我们于是发现了问题",
    "钟表店旁边的面馆",
    "联系电话：0838-1234567",
    "台湾同胞来县里参观",
    "了解情况后马上处理",
    "县里的积水终于退了，余下的清理明天做完",
    "覆盖全县的冲锋号",
    "历历在目，适当的时候再说",
    "only ASCII text stays",
]

TRADITIONAL = [
    ("蘆山縣龍門鄉發佈停水通知", "芦山县龙门乡发布停水通知"),
    ("其餘事項另行通知", "其余事项另行通知"),
    ("網路覆蓋全縣", "网路覆盖全县"),
    ("整治效果顯著", "整治效果显著"),
    ("暴雨過後街道一片狼藉", "暴雨过后街道一片狼藉"),
    ("乾隆年間天氣乾燥", "乾隆年间天气干燥"),
    ("這裡的頭髮", "这里的头发"),
    ("瞭解情況後馬上處理", "了解情况后马上处理"),
    ("鐘錶店旁邊的麵館", "钟表店旁边的面馆"),
    ("臺灣同胞來縣裡參觀", "台湾同胞来县里参观"),
]


@pytest.mark.parametrize("text", SIMPLIFIED)
def test_simplified_text_comes_back_unchanged(text: str) -> None:
    assert to_simplified(text) == text


@pytest.mark.parametrize(("traditional", "simplified"), TRADITIONAL)
def test_traditional_text_converts(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified


@pytest.mark.parametrize("text", SIMPLIFIED)
def test_analysis_normalises_with_the_same_converter(text: str) -> None:
    # analysis also lower-cases and folds full-width forms; the characters must not be rewritten
    assert normalize(text) == normalize_space(text).lower().replace("：", ":").replace("，", ",")


@pytest.mark.parametrize(("traditional", "simplified"), TRADITIONAL)
def test_analysis_converts_traditional(traditional: str, simplified: str) -> None:
    assert normalize(traditional) == simplified


@pytest.mark.parametrize("already_clean", [False, True])
def test_crawl_pipeline_keeps_simplified_and_converts_traditional(already_clean: bool) -> None:
    cleaner = PostCleaner()
    kept = cleaner.clean(
        Post(url="http://127.0.0.1/1", source="s", title=SIMPLIFIED[0], text="\n".join(SIMPLIFIED)),
        already_clean=already_clean,
    )
    assert kept is not None
    assert (kept.title, kept.text) == (SIMPLIFIED[0], "\n".join(SIMPLIFIED))
    converted = cleaner.clean(
        Post(url="http://127.0.0.1/2", source="s", title=TRADITIONAL[0][0], text=TRADITIONAL[1][0]),
        already_clean=already_clean,
    )
    assert converted is not None
    assert (converted.title, converted.text) == (TRADITIONAL[0][1], TRADITIONAL[1][1])


def test_empty_and_ascii_pass_through() -> None:
    assert to_simplified("") == ""
    assert to_simplified("abc 123") == "abc 123"


def test_normalize_space() -> None:
    assert normalize_space(" 县里\u3000停水 \n\n\n 明天\u200b恢复 ") == "县里 停水\n明天恢复"
    assert normalize_space("") == ""


def test_quoted_charset_in_content_type_is_read() -> None:
    from yuqing.crawlers.text import decode_body

    body = "<rss><channel><title>芦山县停水通知</title></channel></rss>".encode("gbk")
    text, encoding = decode_body(body, 'application/rss+xml; charset="gbk"')
    assert "芦山县停水通知" in text
    assert encoding.lower().replace("-", "") in ("gbk", "gb18030")
