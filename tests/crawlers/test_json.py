"""The json spider on saved API answers: field paths, pagination, malformed JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.crawlers.conftest import make_spider, page, respond, run
from yuqing.crawlers.spiders.json_api import MISSING, get_path, to_int

API = "http://api.example.cn/api/posts?page={page}"
FIELDS = {"title": "title", "text": "content", "url": "link", "time": "created_at", "author": "user.name",
          "reposts": "stats.reposts", "comments": "stats.comments", "likes": "stats.likes", "id": "id",
          "image": "images[0].url", "tags": "tags"}
SOURCE = {"type": "json", "url": API, "list_path": "data.items", "fields": FIELDS}
JSON = "application/json; charset=utf-8"


def test_get_path_dotted_and_indexed():
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}, "n": None}
    assert get_path(data, "a.b[1].c") == 2
    assert get_path(data, "a.b.0.c") == 1
    assert get_path(data, "a.b[-1].c") == 2
    assert get_path(data, "a.x") is MISSING
    assert get_path(data, "a.b[5].c") is MISSING
    assert get_path(data, "n.x") is MISSING


@pytest.mark.parametrize("value, expected", [(12, 12), ("34", 34), ("1.2万", 12000), ("100+", 100), ("", None),
                                             ("很多", None), (None, None), (True, None)])
def test_counts(value, expected):
    assert to_int(value) == expected


def test_fields_by_path():
    spider = make_spider(SOURCE)
    url = API.format(page=1)
    posts, requests = run(spider, respond(spider, url, page("api_page1.json"), parser="parse_api",
                                          content_type=JSON, meta={"page": 1}))
    assert len(posts) == 2  # the empty record is skipped
    first, second = posts
    assert first.title == "芦山县开展安全检查"
    assert first.text == "全县开展安全生产大检查。"
    assert first.url == "http://api.example.cn/posts/11"
    assert first.author == "县应急局"
    assert (first.reposts, first.comments, first.likes) == (12, 3, 12000)
    assert first.published_at == datetime(2024, 6, 14, 2, 0, tzinfo=timezone.utc)
    assert first.extra == {"id": "11", "tags": ["安全", "检查"]}
    assert second.url == "http://api.example.cn/api/posts?page=1#12"  # no link: the API plus the record id
    assert second.extra["image"] == "http://img.example.cn/1.jpg"
    assert second.published_at == datetime(2024, 6, 13, 0, 0, tzinfo=timezone.utc)
    assert [r.url for r in requests] == [API.format(page=2)]


def test_pagination_by_parameter_name_and_post_body():
    spider = make_spider({**SOURCE, "url": "http://api.example.cn/list?size=20", "next_page": "pn"})
    assert spider.page_request(3).url == "http://api.example.cn/list?size=20&pn=3"
    spider = make_spider({**SOURCE, "url": "http://api.example.cn/list", "method": "POST", "body": '{"page": {page}}'})
    req = spider.page_request(2)
    assert req.method == "POST" and json.loads(req.body) == {"page": 2}
    assert req.headers["Content-Type"] == b"application/json"


def test_empty_list_ends_pagination_and_cap_is_kept():
    spider = make_spider({**SOURCE, "max_pages": 3})
    body = json.dumps({"data": {"items": []}})
    posts, requests = run(spider, respond(spider, API.format(page=2), body, parser="parse_api", content_type=JSON,
                                          meta={"page": 2}))
    assert posts == [] and requests == [] and spider.crawl_stats.error is None
    _, requests = run(spider, respond(spider, API.format(page=3), page("api_page1.json"), parser="parse_api",
                                      content_type=JSON, meta={"page": 3}))
    assert requests == []


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"data": {"items": [', "malformed JSON from http://api.example.cn/api/posts?page=1: Expecting value (line 1, column 21)"),
        ("", "malformed JSON from http://api.example.cn/api/posts?page=1: the response is empty"),
        ("<html><body>维护中</body></html>", "malformed JSON from http://api.example.cn/api/posts?page=1: got an HTML page instead"),
        ('{"data": {}}', "no list at 'data.items' in the JSON from http://api.example.cn/api/posts?page=1"),
        ('{"data": {"items": "x"}}', "'data.items' in the JSON from http://api.example.cn/api/posts?page=1 is not a list but str"),
    ],
)
def test_bad_answers_are_errors_in_words(body, words):
    spider = make_spider(SOURCE)
    posts, requests = run(spider, respond(spider, API.format(page=1), body, parser="parse_api", content_type=JSON))
    assert posts == [] and requests == []
    assert spider.crawl_stats.error == words


def test_jsonp_is_unwrapped():
    spider = make_spider(SOURCE)
    body = "IndexThreads(" + page("api_page1.json").decode() + ");"
    posts, _ = run(spider, respond(spider, API.format(page=1), body, parser="parse_api", content_type="text/javascript"))
    assert len(posts) == 2
