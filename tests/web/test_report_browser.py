"""Reports, the trend page and the downloads in Debian's headless Chromium (Playwright): clicked as an
analyst would, every request kept on 127.0.0.1, screenshots kept for a look."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.digest.conftest import dconfig, dsettings, dstore, populated, web  # noqa: F401  (fixtures)
from tests.digest.test_browser import CHROMIUM, browser, watched  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


def test_trend_page_shows_volume_and_share_per_topic_and_source(web, watched, artifacts: Path):
    w = watched(viewport={"width": 1100, "height": 900})
    page = w.page
    page.goto(f"{web.url}/")
    page.click("header >> text=趋势")
    page.wait_for_url("**/trend")
    assert page.locator("h1").inner_text() == "趋势"
    assert page.locator("svg.chart").count() == 4 and page.locator("svg.spark").count() >= 6
    body = page.locator("main").inner_text()
    assert "按话题" in body and "按来源" in body and "水电气暖" in body and "county-news" in body
    box = page.locator("#volume svg.chart").first.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 150  # drawn, not collapsed
    page.screenshot(path=str(artifacts / "trend-30.png"), full_page=True)
    page.click("text=近 90 天")
    page.wait_for_url("**/trend?days=90*")
    assert "至" in page.locator(".sub").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "trend-90.png"), full_page=True)
    w.assert_stayed_local()


def test_open_a_week_report_and_download_it_as_word(web, watched, artifacts: Path, tmp_path: Path):
    import docx

    w = watched(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = w.page
    page.goto(f"{web.url}/reports")
    for name in ("日报", "周报", "月报", "专报"):
        assert page.locator(f"h2:text-is('{name}')").count() == 1
    page.screenshot(path=str(artifacts / "reports.png"), full_page=True)
    page.select_option("select[name=kind]", "week")
    page.fill("input[name=end]", "2024-05-01")
    page.click("#build button:text('打开')")
    page.wait_for_url("**/report/week/2024-04-25_2024-05-01")
    assert "芦山县舆情周报" in page.locator("h1").inner_text()
    assert page.locator("main h2").all_inner_texts()[:3] == ["概况", "预警与处置", "热点事件"]
    page.screenshot(path=str(artifacts / "week-report.png"), full_page=True)
    page.screenshot(path=str(artifacts / "week-report-top.png"))
    with page.expect_download(timeout=120_000) as info:
        page.click("text=下载 DOCX")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "芦山县舆情周报（2024-04-25 至 2024-05-01）.docx"  # the title, not the ASCII stem
    doc = docx.Document(str(target))
    assert "龙门乡停水三天无人回应" in "\n".join(p.text for p in doc.paragraphs)
    w.assert_stayed_local()


def test_one_click_special_report_from_the_event_page(web, watched, artifacts: Path):
    w = watched(viewport={"width": 1100, "height": 900})
    page = w.page
    page.goto(f"{web.url}/event/{web.populated.events['water']}")
    page.click("main >> a.dl:text('专报')")
    page.wait_for_url("**/report/event/*")
    assert page.locator("main h2").all_inner_texts() == ["事件概述", "舆情走势", "主要观点", "处置情况", "研判建议"]
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=str(artifacts / "special.png"), full_page=True)
    w.assert_stayed_local()


def test_search_results_download_as_excel(web, watched, tmp_path: Path):
    import openpyxl

    w = watched(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = w.page
    page.goto(f"{web.url}/search?q=停水")
    with page.expect_download() as info:
        page.click("#results a.dl:text('Excel')")
    target = tmp_path / "hits.xlsx"
    info.value.save_as(target)
    rows = list(openpyxl.load_workbook(str(target), read_only=True)["帖子"].iter_rows(values_only=True))
    assert len(rows) > 10 and all("停水" in (r[3] or "") + (r[4] or "") for r in rows[1:])
    w.assert_stayed_local()
