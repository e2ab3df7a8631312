"""传播 in the period reports: top posts by reach and each hot event's reach curve, in html and docx."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.digest.populate import DAY, HOSTILE_TITLE
from tests.digest.test_reach import _bridge
from yuqing.digest import report, report_docx, report_html


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
