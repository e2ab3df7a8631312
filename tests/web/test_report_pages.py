"""The web app's reports over HTTP: the archive by kind, a report page and each of its downloads
(opened with its own reader), the trend page, search results as CSV/xlsx, and bad input in words."""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.digest.conftest import dconfig, dsettings, dstore, populated, web  # noqa: F401  (fixtures)

CHROMIUM = Path("/usr/bin/chromium")
WEEK = "2024-04-25_2024-05-01"


def get(server, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(server.url + quote(path, safe="/?=&.%-_:"), timeout=120) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_archive_lists_reports_by_kind(web):
    status, _, body = get(web, "/reports")
    html = body.decode("utf-8")
    assert status == 200
    for name in ("日报", "周报", "月报", "专报"):
        assert f"<h2>{name}</h2>" in html
    assert "/report/day/2024-05-01" in html and "/report/day/2024-05-01.docx" in html  # the digest's day
    assert 'href="/reports"' in html and 'href="/trend"' in html  # in the menu of every page


def test_a_built_week_report_is_listed_under_its_kind(web, dsettings, dstore, tmp_path: Path):
    from datetime import date

    from yuqing.digest.publish import build_period

    build_period(dsettings, dstore, "week", date(2024, 5, 1), ["html"], tmp_path / "r")
    html = get(web, "/reports")[2].decode("utf-8")
    week = html.split('id="kind-week"', 1)[1].split("</section>", 1)[0]
    assert f"/report/week/{WEEK}" in week and "芦山县舆情周报" in week


def test_week_report_page_has_the_sections_and_a_download_per_format(web):
    status, headers, body = get(web, f"/report/week/{WEEK}")
    html = body.decode("utf-8")
    assert status == 200 and headers["content-security-policy"].startswith("default-src 'none'")
    for section in ("概况", "预警与处置", "热点事件", "负面信息", "话题分布", "来源分布", "趋势", "信源健康"):
        assert f"<h2>{section}</h2>" in html
    for fmt in ("html", "docx", "pdf", "xlsx"):
        assert f'href="/report/week/{WEEK}.{fmt}"' in html
    assert "<script" not in html.split("</head>")[1].replace("&lt;script", "")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_downloads_open_with_their_readers(web, tmp_path: Path):
    import docx
    import openpyxl

    status, headers, body = get(web, f"/report/week/{WEEK}.docx")
    assert status == 200, body[:300]
    assert headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert f'filename="report-week-{WEEK}.docx"' in headers["content-disposition"]
    (tmp_path / "w.docx").write_bytes(body)
    doc = docx.Document(str(tmp_path / "w.docx"))
    assert "预警与处置" in [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    status, _, body = get(web, f"/report/week/{WEEK}.xlsx")
    (tmp_path / "w.xlsx").write_bytes(body)
    assert status == 200 and "帖子" in openpyxl.load_workbook(str(tmp_path / "w.xlsx"), read_only=True).sheetnames
    status, headers, body = get(web, f"/report/week/{WEEK}.pdf")
    assert status == 200 and body.startswith(b"%PDF") and headers["content-type"] == "application/pdf"
    populated = web.populated  # type: ignore[attr-defined]
    status, _, body = get(web, f"/report/event/{populated.events['water']}.docx")
    (tmp_path / "e.docx").write_bytes(body)
    assert status == 200 and "事件概述" in [p.text for p in docx.Document(str(tmp_path / "e.docx")).paragraphs]


def test_search_results_download_as_csv_and_xlsx(web, tmp_path: Path):
    import openpyxl

    status, headers, body = get(web, "/search/export.csv?q=停水&label=negative")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "content-length" not in headers  # streamed
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 13 and all(r["label"] == "negative" and "停水" in r["title"] + r["text"] for r in rows)
    assert rows[0]["ts"] >= rows[-1]["ts"]  # newest first, as the page shows them
    assert any(r["title"].startswith("'") or "<script>" in r["title"] for r in rows)  # kept as text
    status, headers, body = get(web, "/search/export.xlsx?source=county-news&since=2024-05-01&until=2024-05-01")
    assert status == 200
    (tmp_path / "s.xlsx").write_bytes(body)
    sheet = openpyxl.load_workbook(str(tmp_path / "s.xlsx"), read_only=True)["帖子"]
    got = list(sheet.iter_rows(values_only=True))
    assert len(got) == 1 + 13 and {r[2] for r in got[1:]} == {"county-news"}
    html = get(web, "/search?q=停水")[2].decode("utf-8")
    assert 'href="/search/export.csv?q=%E5%81%9C%E6%B0%B4"' in html and "/search/export.xlsx?" in html


def test_trend_page_draws_days_topics_and_sources(web):
    status, _, body = get(web, "/trend?days=30")
    html = body.decode("utf-8")
    assert status == 200
    assert html.count("<svg") >= 4 and "按话题" in html and "按来源" in html
    assert "水电气暖" in html and "county-news" in html
    assert "04-02" in html and "05-01" in html  # 30 days ending with the last post's day
    assert "<script" not in html
    status, _, body = get(web, "/trend?days=90&end=2024-05-01")
    assert status == 200 and "2024-02-02 至 2024-05-01" in body.decode("utf-8")


@pytest.mark.parametrize("path, status, words", [
    ("/report/week/2024-05-01", 404, "2024-04-25_2024-05-01"),
    ("/report/week/2024-13-01_2024-13-07", 400, "有效日期"),
    ("/report/event/999", 404, "999"),
    ("/report/event/case-999", 404, "999"),
    ("/report/event/99999999999999999999999", 404, "不存在"),
    ("/report/event/nonsense", 404, "专报编号无效"),
    ("/report/week/2024-04-25_2024-05-01.odt", 404, "页面不存在"),
    ("/reports/build?kind=year&end=2024-05-01", 400, "报告类型"),
    ("/reports/build?kind=week&end=tomorrow", 400, "tomorrow"),
    ("/trend?days=7", 400, "30 或 90"),
    ("/trend?days=30&end=x", 400, "有效日期"),
    ("/search/export.csv?label=bad", 400, "情感筛选"),
    ("/search/export.csv?since=2024-99-01", 400, "起始日期"),
])
def test_bad_addresses_are_refused_in_words(web, path, status, words):
    got, _, body = get(web, path)
    text = body.decode("utf-8")
    assert got == status, text[:300]
    assert words in text and "Traceback" not in text


def test_the_build_form_leads_to_the_report(web):
    req = urllib.request.Request(web.url + "/reports/build?kind=week&end=2024-05-01")
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.url.endswith(f"/report/week/{WEEK}") and resp.status == 200
