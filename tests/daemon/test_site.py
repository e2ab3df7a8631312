"""The demo's sample site and story: real HTTP on loopback, parsed as a crawler would parse it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter

import feedparser
import pytest

from yuqing import settings as settings_mod
from yuqing.demo.posts import ALIASES, LOCALITY, Story, incident, timeline
from yuqing.demo.site import PAGE_SIZE, SampleSite
from yuqing.demo.walkthrough import config_text
from yuqing.models import content_hash


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode("utf-8")


@pytest.fixture
def story_site():
    start = time.time()
    site = SampleSite(timeline(start, 120)).start()
    yield site, start
    site.stop()


def test_the_story_has_a_normal_week_then_an_incident() -> None:
    start = time.time()
    posts = timeline(start, 120)
    history = [p for p in posts if p.appear_at <= start]
    live = [p for p in posts if p.appear_at > start]
    assert len(history) > 80
    normal_negative = sum(p.negative for p in history) / len(history)
    assert 0.05 < normal_negative < 0.3  # a normal week has some complaints, not many
    days = {p.published.date() for p in history}
    assert len(days) >= 7
    burst = [p for p in live if p.kind == "incident"]
    assert Counter(p.channel for p in burst if p.negative) == {"forum": 12, "wenzheng": 12}
    assert {p.appear_at for p in burst} == {start + 120 * 0.35}  # one burst: all shown at once
    assert any(p.channel == "news" for p in burst)  # the official notice
    texts = [content_hash(p.title, p.text) for p in posts]
    assert len(texts) == len(set(texts))  # a repeated text would be dropped as a duplicate
    assert len({p.id for p in posts}) == len(posts)


def test_every_forum_post_names_the_county() -> None:
    # the forum is matched on the locality's names; the county's own media and board are match_all
    for post in timeline(time.time(), 120):
        if post.channel == "forum":
            assert any(name in post.title + post.text for name in (LOCALITY, *ALIASES)), post.title


def test_the_story_is_reproducible() -> None:
    start = time.time()
    a, b = timeline(start, 120), timeline(start, 120)
    assert [(p.title, p.text, p.published) for p in a] == [(p.title, p.text, p.published) for p in b]


def test_feed_lists_what_is_visible_now(story_site) -> None:
    site, start = story_site
    status, ctype, body = _get(site.sources["forum"])
    assert status == 200 and "xml" in ctype
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    visible = site.visible("forum")
    assert len(feed.entries) == len(visible) > 30
    assert feed.entries[0].title == visible[0].title
    assert all(e.link.startswith(site.url + "/forum/thread/") for e in feed.entries)
    assert all(e.published_parsed for e in feed.entries)
    # the thread page behind an entry answers
    status, _, page = _get(feed.entries[0].link)
    assert status == 200 and visible[0].title in page


def test_news_list_paginates_and_details_answer(story_site) -> None:
    site, _ = story_site
    visible = site.visible("news")
    assert len(visible) > PAGE_SIZE  # the history needs more than one page
    status, _, first = _get(site.sources["news"])
    assert status == 200 and first.count('<li><a href="/news/') == PAGE_SIZE
    assert 'class="next" href="list_2.html"' in first
    pages, n = [first], 2
    while 'class="next"' in pages[-1]:
        status, _, page = _get(f"{site.url}/news/list_{n}.html")
        assert status == 200
        pages.append(page)
        n += 1
    assert sum(p.count('<li><a href="/news/') for p in pages) == len(visible)
    status, _, detail = _get(f"{site.url}/news/{visible[0].id}.html")
    assert status == 200 and 'class="article"' in detail and visible[0].title in detail
    assert _get(f"{site.url}/news/list_0.html")[0] == 404
    assert _get(f"{site.url}/news/999999.html")[0] == 404


def test_json_api_pages_end_with_an_empty_list(story_site) -> None:
    site, _ = story_site
    visible = site.visible("wenzheng")
    seen, page = [], 1
    while True:
        status, ctype, body = _get(site.sources["wenzheng"].format(page=page))
        assert status == 200 and "json" in ctype
        data = json.loads(body)
        items = data["data"]["items"]
        if not items:
            break
        seen += items
        page += 1
    assert [i["tid"] for i in seen] == [p.id for p in visible]
    first = seen[0]
    assert set(first) >= {"title", "content", "url", "created_at", "user", "state"}
    assert first["url"].startswith(site.url) and len(first["created_at"]) == 19
    status, _, body = _get(f"{site.url}/api/wenzheng/list?page=abc")
    assert status == 400 and "page" in json.loads(body)["msg"]


def test_posts_show_only_from_their_time_and_added_posts_appear(story_site) -> None:
    site, start = story_site
    now = time.time()
    hidden = [p for p in site.posts if p.appear_at > now]
    assert hidden and all(p not in site.visible() for p in hidden)
    assert {p.id for p in site.visible(now=start + 200)} == {p.id for p in site.posts}
    burst = incident(Story(seed=99), time.time())
    site.add(burst)
    feed = feedparser.parse(_get(site.sources["forum"])[2])
    titles = {e.title for e in feed.entries}
    assert all(p.title in titles for p in burst if p.channel == "forum")


def test_a_delayed_channel_answers_late_and_others_do_not(story_site) -> None:
    site, _ = story_site
    site.delays["news"] = 1.0
    started = time.monotonic()
    _get(site.sources["forum"])
    assert time.monotonic() - started < 0.8
    started = time.monotonic()
    _get(site.sources["news"])
    assert time.monotonic() - started >= 1.0
    assert len(site.hits["news"]) == 1 and len(site.hits["forum"]) == 1


def test_demo_config_is_valid(tmp_path, story_site) -> None:
    site, _ = story_site
    path = tmp_path / "yuqing.toml"
    path.write_text(config_text(site.sources, notify=["mailto://127.0.0.1:2525?to=a@example.com"]), encoding="utf-8")
    settings = settings_mod.load(path)
    assert settings.locality.name == LOCALITY
    assert [s.type for s in settings.sources] == ["feed", "html", "json"]
    assert all(s.every == 10 for s in settings.sources)
    assert settings.alerts.min_count > 12  # neither source's part of the burst alone raises the alert
    assert settings.alerts.notify == ("mailto://127.0.0.1:2525?to=a@example.com",)


def test_the_last_hour_before_the_demo_holds_only_its_live_posts() -> None:
    # the demo's detection window is one hour: history must not leak into it
    start = time.time()
    posts = timeline(start, 120)
    from datetime import datetime, timedelta

    from yuqing.demo.posts import TZ

    hour_ago = datetime.fromtimestamp(start, TZ) - timedelta(hours=1)
    recent = [p for p in posts if p.published >= hour_ago]
    assert recent and all(p.appear_at > start for p in recent)
