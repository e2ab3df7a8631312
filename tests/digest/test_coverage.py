"""Coverage in 信源健康: posts per source against the median of the 7 periods before, far below flagged."""

from __future__ import annotations

from datetime import timedelta

from tests.digest.populate import DAY, at
from yuqing.digest import builder, render, report, report_html, sections
from yuqing.models import Post


def _history(dstore, source: str, per_day: int, days: range) -> None:
    posts = [Post(url=f"https://liuyan.example/{source}/{back}/{i}", source=source, title=f"芦山留言{back}-{i}",
                  text=f"芦山县留言往日{back}-{i}", published_at=at(DAY - timedelta(days=back), 9) + timedelta(minutes=i),
                  fetched_at=at(DAY - timedelta(days=back), 9)) for back in days for i in range(per_day)]
    dstore.add_posts(posts)


def test_a_source_far_below_its_usual_is_flagged_before_its_health_alert(dsettings, dstore, populated):
    _history(dstore, "liuyan", 20, range(1, 8))  # 20 a day all week; 4 on the day
    data = builder.collect(dsettings, dstore, DAY)
    health = data["health"]
    assert "liuyan" not in {p["name"] for p in health["problems"]}  # its runs are fine: no health alert yet
    cov = {r["name"]: r for r in health["coverage"]["rows"]}
    assert health["coverage"]["periods"] == 7
    assert (cov["liuyan"]["posts"], cov["liuyan"]["usual"], cov["liuyan"]["low"]) == (4, 20.0, True)
    assert (cov["county-news"]["posts"], cov["county-news"]["usual"], cov["county-news"]["low"]) == (13, 10.0, False)
    assert cov["tieba-lushan"]["usual"] == 0 and not cov["tieba-lushan"]["judged"]  # no history: not judged
    assert health["coverage"]["rows"][0]["name"] == "liuyan" and health["coverage"]["low"] == 1  # flagged first

    page = render.page(data, base="")
    section = page[page.index("<h2>来源状态</h2>"):]
    assert "明显偏少（仅常量的 20%）" in section and "1 个来源采集量明显低于常量" in section
    assert "明显偏少（仅常量的 20%）" in render.email_html(data, base="http://x")
    assert "- liuyan：4/20，明显偏少（仅常量的 20%）" in render.text(data, base="http://x")


def test_the_median_ignores_one_unusual_period(dsettings):
    before = [{"a": 10}, {"a": 11}, {"a": 500}, {"a": 9}, {"a": 10}, {}, {"a": 12}]
    cov = sections.coverage(dsettings, {"a": 1, "county-news": 2}, before)
    row = {r["name"]: r for r in cov["rows"]}["a"]
    assert row["usual"] == 10 and row["low"]
    assert {r["name"]: r for r in cov["rows"]}["county-news"]["usual"] == 0
    assert {r["name"]: r for r in sections.coverage(dsettings, {"a": 3}, before)["rows"]}["a"]["low"] is False  # 3 of 10: above a quarter


def test_week_report_compares_with_the_seven_weeks_before(dsettings, dstore, populated):
    _history(dstore, "liuyan", 3, range(7, 56))  # 21 a week for the seven weeks before, almost none this week
    data = report.collect_period(dsettings, dstore, report.period_ending("week", DAY))
    cov = {r["name"]: r for r in data["health"]["coverage"]["rows"]}
    assert cov["liuyan"]["usual"] == 21 and cov["liuyan"]["posts"] == 4 and cov["liuyan"]["low"]
    assert "本期信息量明显低于常量" in data["summary"]
    html = report_html.page(data)
    assert "采集量（本期 / 前7期中位数）" in html and "明显偏少（仅常量的 19%）" in html
