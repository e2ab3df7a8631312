from __future__ import annotations

import pytest

from yuqing.crawlers.spiders.hotlist import parse_entries
from yuqing.errors import SourceError

DATA = {"data": {"list": [
    {"word": "话题甲", "num": "1.2万", "link": "/s?q=1"},
    {"word": "", "num": 5},
    {"word": "话题乙", "num": 300, "link": "https://example.org/b"},
]}}


def test_missing_rank_is_position_and_heat_reads_like_counts() -> None:
    got = parse_entries(DATA, "data.list", {"title": "word", "heat": "num", "url": "link"}, "https://hot.example/")
    assert got == [
        {"title": "话题甲", "rank": 1, "heat": 12000, "url": "https://hot.example/s?q=1"},
        {"title": "话题乙", "rank": 3, "heat": 300, "url": "https://example.org/b"},
    ]


def test_given_rank_is_kept() -> None:
    data = {"items": [{"t": "x", "r": 8}]}
    assert parse_entries(data, "items", {"title": "t", "rank": "r"})[0]["rank"] == 8


def test_missing_list_is_an_error_in_words() -> None:
    with pytest.raises(SourceError, match="no list at 'data.items'"):
        parse_entries(DATA, "data.items", {"title": "word"})
    with pytest.raises(SourceError, match="not a list but dict"):
        parse_entries(DATA, "data", {"title": "word"})
