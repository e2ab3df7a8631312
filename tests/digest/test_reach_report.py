"""传播 in the period reports: top posts by reach and each hot event's reach curve, in html and docx."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.digest.populate import DAY, HOSTILE_TITLE
from tests.digest.test_reach import _bridge
from yuqing.digest import report, report_docx, report_html, report_special


def test_week_report_shows_top_posts_by_reach_and_the_event_reach_curve(dsettings, dstore, populated, tmp_path: Path):
    import docx

    event, a, _ = _bridge(dstore)
    data = report.collect_period(dsettings, dstore, report.period_ending("week", DAY))
    assert [p["id"] for p in data["reach"]][:1] == [a] and data["reach"][0]["reach"] == 3000
    assert data["reach"][1]["title"] == HOSTILE_TITLE
    (e,) = [e for e in data["events"] if e["id"] == event]
    assert [p["reach"] for p in e["reach_curve"]] == [10, 150, 160, 3060]
    assert f"reach{populated.events['water']}" not in report_html.svgs(data)  # never re-counted: no curve

    html = report_html.page(data)
    section = html[html.index("<h2>传播</h2>"):html.index("<h2>负面信息</h2>")]
    assert "芦山县大桥出现裂缝" in section and "1500 / 500 / 1000" in section
    assert "&lt;script&gt;" in section and "<script>" not in section and "javascript:" not in section
    assert html.index("<h2>热点事件</h2>") < html.index("芦山县大桥出现裂缝 传播量（转评赞，按小时）") < html.index("<h2>传播</h2>")

    path = report_docx.write_docx(data, {}, tmp_path / "week.docx")
    doc = docx.Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings.index("热点事件") < headings.index("传播") < headings.index("负面信息")
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "芦山县大桥出现裂缝" in cells and "3000" in cells


def test_a_report_stored_before_reach_still_renders(dsettings, dstore, populated):
    data = report.collect_period(dsettings, dstore, report.period_ending("day", date(2024, 5, 1)))
    data.pop("reach")
    for e in data["events"]:
        e.pop("reach_curve")
    html = report_html.page(data)
    assert "<h2>传播</h2>" not in html and "<h2>热点事件</h2>" in html


def test_the_workbook_has_the_reach_coverage_and_trace_sheets(dsettings, dstore, populated, tmp_path: Path):
    import openpyxl

    from tests.digest.test_trace import HOSTILE, spread_event
    from yuqing.digest import report_xlsx

    event, a, _ = spread_event(dstore)
    week = report.collect_period(dsettings, dstore, report.period_ending("week", DAY))
    wb = openpyxl.load_workbook(str(report_xlsx.write_xlsx(week, iter(()), tmp_path / "week.xlsx")), read_only=True)
    assert wb.sheetnames.index("热点事件") < wb.sheetnames.index("传播") < wb.sheetnames.index("负面信息")
    reach = list(wb["传播"].iter_rows(values_only=True))
    assert reach[1][0] == a and reach[1][4] == 3000 and reach[1][8] == "https://weibo.example/1"
    assert all(not r[8] or r[8].startswith("http") for r in reach[1:])  # javascript: links dropped
    cov = {r[0]: r for r in list(wb["采集量"].iter_rows(values_only=True))[1:]}
    assert cov["county-news"][1] > 0

    special = report_special.collect_event(dsettings, dstore, event)
    wb = openpyxl.load_workbook(str(report_xlsx.write_xlsx(special, iter(()), tmp_path / "event.xlsx")), read_only=True)
    rows = list(wb["传播与溯源"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[2], r[3]) for r in rows if r[0] == "跟进"] == [
        ("跟进", "首发", "tieba-lushan"), ("跟进", "+1小时30分", "county-news"), ("跟进", "+4小时", "quiet-feed")]
    assert any(r[4] == HOSTILE and not r[6] for r in rows)  # text as it was, its javascript: link dropped
