"""传播/溯源 of an event: first post, the order sources picked it up, the posts that reached furthest —
in the data, on the web's event page over loopback HTTP, and in the 专报 (html, docx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.digest.populate import DAY, _add, at
from tests.digest.test_reach import _bridge
from tests.digest.test_web import Client
from yuqing.digest import report_docx, report_html, report_special, sections
from yuqing.models import Post

HOSTILE = '<script>alert("trace")</script>大桥真相'


def spread_event(dstore) -> tuple[int, int, int]:
    """The bridge event (tieba 08:00 first, county-news 09:30) with a later post of the first source
    and a hostile one from a third source at 12:00."""
    event, a, b = _bridge(dstore)
    _add(dstore, Post(url="https://tieba.example/p/2", source="tieba-lushan", title="大桥裂缝 第二帖",
                      text="芦山县大桥裂缝越来越大", published_at=at(DAY, 8, 30), fetched_at=at(DAY, 8, 40),
                      reposts=1), "negative", 0.8, [], event)
    _add(dstore, Post(url="javascript:alert(3)", source="quiet-feed", title=HOSTILE, text='"><img src=x onerror=alert(4)>',
                      published_at=at(DAY, 12), fetched_at=at(DAY, 12)), "negative", 0.9, [], event)
    return event, a, b


def test_after_in_words():
    t = datetime(2024, 5, 1, tzinfo=UTC)
    assert [sections.after(t, t + d) for d in (timedelta(0), timedelta(minutes=40), timedelta(hours=3, minutes=5),
                                              timedelta(hours=2), timedelta(days=2, hours=4))] == [
        "首发", "+40分钟", "+3小时5分", "+2小时", "+2天4小时"]


def test_trace_orders_sources_by_their_first_post(dsettings, dstore, populated):
    event, a, b = spread_event(dstore)
    t = sections.trace(dsettings, dstore, event)
    assert t["first"]["id"] == a and t["first"]["after"] == "首发"
    assert [(s["source"], s["after"]) for s in t["pickup"]] == [
        ("tieba-lushan", "首发"), ("county-news", "+1小时30分"), ("quiet-feed", "+4小时")]
    assert [(p["id"], p["reach"]) for p in t["top"]][:2] == [(a, 3000), (b, 60)]
    assert [p["reach"] for p in t["curve"]] == [10, 150, 160, 3060]
    assert t["sources"] == 3 and t["span"] == "+4小时"
    assert sections.trace(dsettings, dstore, 99999) is None


def test_event_page_shows_the_timeline_escaped(web, dstore):
    event, a, _ = spread_event(dstore)
    status, _, html = Client(web.url).get(f"/event/{event}")
    assert status == 200
    section = html[html.index("<h2>传播与溯源</h2>"):]
    section = section[:section.index("</section>")]
    steps = section[section.index('<ol class="timeline">'):section.index("</ol>")]
    assert steps.index("tieba-lushan") < steps.index("county-news") < steps.index("quiet-feed")
    assert f'href="/post/{a}"' in steps and "+1小时30分" in steps and 'class="step first"' in steps
    assert "&lt;script&gt;alert(&#34;trace&#34;)&lt;/script&gt;大桥真相" in section and "<script>" not in section
    assert "javascript:" not in html
    assert "传播最广的帖子" in section and "3000" in section
    assert "<svg" in section and "传播量（转评赞）" in section
    # an event none of whose posts was counted again: the timeline, no curve
    status, _, html = Client(web.url).get(f"/event/{web.populated.events['water']}")
    assert status == 200 and "<h2>传播与溯源</h2>" in html and "传播量（转评赞）" not in html


def test_special_report_has_the_trace(dsettings, dstore, populated, tmp_path: Path):
    import docx

    event, _, _ = spread_event(dstore)
    data = report_special.collect_event(dsettings, dstore, event)
    assert [s["source"] for s in data["trace"]["pickup"]] == ["tieba-lushan", "county-news", "quiet-feed"]
    html = report_html.page(data)
    section = html[html.index("<h3>传播与溯源</h3>"):html.index("<h2>主要观点</h2>")]
    assert html.index("<h2>舆情走势</h2>") < html.index("<h3>传播与溯源</h3>")  # part of 舆情走势
    assert "首发于" in section and "+1小时30分" in section and "3000" in section and "<svg" in section
    assert "&lt;script&gt;" in section and "<script>" not in section and "javascript:" not in html
    assert "/post/" not in section  # a file on its own: no links into the web app
    doc = docx.Document(str(report_docx.write_docx(data, {}, tmp_path / "special.docx")))
    texts = [p.text for p in doc.paragraphs]
    assert texts.index("舆情走势") < texts.index("传播与溯源") < texts.index("主要观点")
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:5] == ["事件概述", "舆情走势", "主要观点", "处置情况", "研判建议"]  # the office layout
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "+1小时30分" in cells and HOSTILE in cells
    stored = dict(data)
    stored.pop("trace")  # a 专报 stored before #15
    assert "传播与溯源" not in report_html.page(stored)
