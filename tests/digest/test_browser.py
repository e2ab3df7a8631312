"""The digest and the web app in Debian's headless Chromium (Playwright, never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.digest.populate import HOSTILE_TEXT, HOSTILE_TITLE
from tests.digest.test_builder import SECTIONS

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Watched:
    """A page whose every request and every JavaScript dialog is recorded."""

    def __init__(self, browser, **kw) -> None:
        self.context = browser.new_context(locale="zh-CN", **kw)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def assert_stayed_local(self, allow_file: bool = False) -> None:
        assert self.requests, "no request recorded"
        for url in self.requests:
            parts = urlsplit(url)
            if allow_file and parts.scheme == "file" or parts.scheme == "data":
                continue
            assert parts.hostname == "127.0.0.1", f"request left 127.0.0.1: {url}"
        assert not self.dialogs, f"a script ran: {self.dialogs}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser):
    opened: list[Watched] = []

    def _open(**kw) -> Watched:
        w = Watched(browser, **kw)
        opened.append(w)
        return w

    yield _open
    for w in opened:
        w.close()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_archive_then_digest(web, watched, artifacts: Path):
    w = watched(viewport={"width": 1100, "height": 900})
    page = w.page
    page.goto(f"{web.url}/digests")
    assert page.locator("h1").inner_text() == "日报归档"
    page.screenshot(path=str(artifacts / "archive.png"), full_page=True)
    page.click("text=2024-05-01")
    page.wait_for_url("**/digest/2024-05-01")
    headings = page.locator("h2").all_inner_texts()
    assert headings == SECTIONS
    body = page.locator("main").inner_text()
    assert "芦山县舆情日报" in body and "龙门乡停水三天无人回应" in body and "红色(I级)" in body
    assert "HTTP 403" in body  # the failing source
    # hostile post text is text on the page, never markup
    assert HOSTILE_TITLE in body and '"><img src=x onerror=alert(1)>' in body
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("svg.chart").count() == 3
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "WenQuanYi Micro Hei" in font and font.endswith("sans-serif")
    page.screenshot(path=str(artifacts / "digest-desktop.png"), full_page=True)
    w.assert_stayed_local()


def test_digest_reads_on_a_phone(web, watched, artifacts: Path):
    w = watched(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    w.page.goto(f"{web.url}/digest/2024-05-01")
    assert _no_horizontal_scroll(w.page)
    w.page.screenshot(path=str(artifacts / "digest-phone.png"), full_page=True)
    w.assert_stayed_local()


def test_stored_page_is_self_contained(web, dsettings, watched, artifacts: Path):
    path = dsettings.path(dsettings.digest.pages) / "2024-05-01.html"
    w = watched(viewport={"width": 1000, "height": 800})
    w.page.goto(path.as_uri())
    assert w.page.locator("h2").all_inner_texts() == SECTIONS
    assert all(urlsplit(u).scheme in ("file", "data") for u in w.requests), w.requests
    assert not w.dialogs


def test_search_then_follow_the_event(web, watched, artifacts: Path):
    w = watched(viewport={"width": 1100, "height": 900})
    page = w.page
    page.goto(f"{web.url}/search")
    page.fill("input[name=q]", "停水")
    page.select_option("select[name=label]", "negative")
    page.fill("input[name=since]", "2024-05-01")
    page.fill("input[name=until]", "2024-05-01")
    page.click("button:has-text('搜索')")
    page.wait_for_url("**/search?*")
    results = page.locator("#results ol.items > li")
    assert results.count() == 13  # the water event's 13 negative posts
    assert page.locator("#results mark").first.inner_text() == "停水"
    results_text = page.locator("#results").inner_text()
    assert HOSTILE_TEXT.split(" ")[0] in results_text
    page.screenshot(path=str(artifacts / "search.png"), full_page=True)
    page.locator("#results a:has-text('所属事件')").first.click()
    page.wait_for_url("**/event/*")
    assert page.locator("h1").inner_text() == "龙门乡停水三天无人回应"
    assert page.locator("svg.chart").count() == 1
    assert page.locator("ol.items > li").count() == 13
    assert "龙门乡停水负面激增" in page.locator("main").inner_text()  # the event's alert
    page.screenshot(path=str(artifacts / "event.png"), full_page=True)
    w.assert_stayed_local()


def test_login_and_acknowledge_an_alert(web, dstore, watched, artifacts: Path):
    alert_id = web.populated.alerts["red"]
    w = watched(viewport={"width": 1100, "height": 900})
    page = w.page
    page.goto(f"{web.url}/alert/{alert_id}")
    assert page.locator("form[action$='/ack']").count() == 0  # reading is open, acting is not
    page.click("main a:has-text('登录')")
    page.fill("input[name=name]", "zhang")
    page.fill("input[name=password]", "correct-horse")
    page.screenshot(path=str(artifacts / "login.png"))
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**/alert/{alert_id}")
    page.fill("input[name=note]", '已转交水务局核实 <script>alert(2)</script>')
    page.click("button:has-text('确认预警')")
    page.wait_for_url(f"**/alert/{alert_id}?done=1")
    assert "已确认该预警" in page.locator(".flash").inner_text()
    state = page.locator("#state").inner_text()
    assert "已由 zhang" in state and "已转交水务局核实 <script>alert(2)</script>" in state
    page.screenshot(path=str(artifacts / "alert-acknowledged.png"), full_page=True)
    row = dstore.query("SELECT acknowledged_by, ack_note FROM alerts WHERE id = ?", [alert_id])[0]
    assert row["acknowledged_by"] == "zhang" and row["ack_note"].startswith("已转交水务局核实")
    assert dstore.scalar("SELECT count(*) FROM audit_log WHERE action = 'alert.ack' AND user = 'zhang'") == 1
    w.assert_stayed_local()


def test_correct_a_post_in_the_browser(web, dstore, watched, artifacts: Path):
    post_id = web.populated.post_ids["hostile"]
    w = watched(viewport={"width": 1000, "height": 900})
    page = w.page
    page.goto(f"{web.url}/login?next=/post/{post_id}")
    page.fill("input[name=name]", "zhang")
    page.fill("input[name=password]", "correct-horse")
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**/post/{post_id}")
    assert HOSTILE_TITLE == page.locator("h1").inner_text()
    assert page.locator("a[href^='javascript']").count() == 0
    page.select_option("select[name=label]", "neutral")
    page.fill("input[name=topics]", "水电气暖, 民生")
    page.click("button:has-text('保存更正')")
    page.wait_for_url(f"**/post/{post_id}?done=1")
    assert page.locator("#label").inner_text() == "中性"
    page.screenshot(path=str(artifacts / "post-corrected.png"), full_page=True)
    assert dstore.query("SELECT label, who FROM corrections WHERE post_id = ?", [post_id]) == [
        {"label": "neutral", "who": "zhang"}]
    w.assert_stayed_local()


def test_event_page_traces_the_spread(web, dstore, watched, artifacts: Path):
    """传播与溯源 on the event page: the sources in the order they picked the event up, the first marked,
    the posts that reached furthest and the reach curve; hostile text stays text, nothing leaves 127.0.0.1."""
    from tests.digest.test_trace import HOSTILE, spread_event

    event, first, _ = spread_event(dstore)
    for viewport in ({"width": 1100, "height": 900}, {"width": 390, "height": 844}):
        w = watched(viewport=viewport)
        page = w.page
        page.goto(f"{web.url}/event/{event}")
        section = page.locator("#trace")
        assert section.locator("h2").inner_text() == "传播与溯源"
        steps = section.locator("ol.timeline > li")
        assert steps.count() == 3
        assert [steps.nth(i).locator(".tag").inner_text() for i in range(3)] == ["tieba-lushan", "county-news", "quiet-feed"]
        assert [steps.nth(i).locator(".after").inner_text() for i in range(3)] == ["首发", "+1小时30分", "+4小时"]
        assert "first" in (steps.first.get_attribute("class") or "")
        assert HOSTILE in steps.nth(2).inner_text()
        assert section.locator("table.reach tr").count() >= 3  # a header and the posts with reach
        assert section.locator("svg.lines").count() == 1
        assert page.locator("script").count() == 0 and page.locator("a[href^='javascript']").count() == 0
        assert _no_horizontal_scroll(page)
        page.screenshot(path=str(artifacts / f"event-trace-{viewport['width']}.png"), full_page=True)
        steps.first.locator(f"a[href='/post/{first}']").click()
        page.wait_for_url(f"**/post/{first}")
        w.assert_stayed_local()
