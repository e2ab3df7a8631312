"""The digest's figures, its stored row and page, idempotence, escaping and self-containment."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from tests.digest.populate import DAY, HOSTILE_TEXT, HOSTILE_TITLE, HOSTILE_URL
from yuqing.digest import builder, render

SECTIONS = ["概况", "预警", "处置情况", "留言办理", "热点事件", "传播", "负面信息", "话题分布", "来源分布", "24小时走势", "来源状态"]


def test_day_bounds_are_local_midnights(dsettings):
    start, end = builder.day_bounds(dsettings, date(2024, 5, 1))
    assert start.astimezone(timezone.utc) == datetime(2024, 4, 30, 16, tzinfo=timezone.utc)
    assert end.astimezone(timezone.utc) == datetime(2024, 5, 1, 16, tzinfo=timezone.utc)


def test_default_day_is_yesterday_in_the_configured_timezone(dsettings):
    # 2024-05-02 01:00 in Shanghai is still 2024-05-01 in UTC: yesterday is 05-01 locally
    now = datetime(2024, 5, 1, 17, 0, tzinfo=timezone.utc)
    assert builder.yesterday(dsettings, now) == date(2024, 5, 1)
    assert builder.yesterday(dsettings, datetime(2024, 5, 1, 15, 0, tzinfo=timezone.utc)) == date(2024, 4, 30)


def test_overview_counts_and_changes(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    o = data["overview"]
    assert o["posts"] == populated.totals["posts"] == 32
    assert o["negative"] == populated.totals["negative"] == 15
    assert o["negative_share"] == pytest.approx(15 / 32)
    assert o["prev"] == {"posts": 10, "negative": 2, "negative_share": pytest.approx(0.2)}
    assert o["change"]["posts_prev"] == pytest.approx(2.2)  # 32 vs 10
    assert o["change"]["posts_avg7"] == pytest.approx(2.2)  # a steady 10 a day
    assert o["change"]["share_prev"] == pytest.approx(15 / 32 - 0.2)
    assert o["events"] == 3 and o["sources"] == 3


def test_alerts_of_the_day_highest_level_first(dsettings, dstore, populated):
    alerts = builder.collect(dsettings, dstore, DAY)["alerts"]
    assert [a["id"] for a in alerts] == [populated.alerts["red"], populated.alerts["yellow"]]
    assert [(a["level"], a["state"]) for a in alerts] == [("red", "open"), ("yellow", "resolved")]


def test_events_ranked_by_heat_with_summary_and_link(dsettings, dstore, populated):
    events = builder.collect(dsettings, dstore, DAY)["events"]
    assert [e["id"] for e in events] == [populated.events[k] for k in ("water", "road", "fest")]
    water = events[0]
    assert water["posts"] == 13 and water["negative"] == 13 and water["negative_share"] == 1.0
    assert water["sources"][0] == "tieba-lushan" and "liuyan" in water["sources"]
    assert water["summary"] and water["post_id"] == populated.post_ids["hostile"]  # the most engaged post
    assert water["heat"] > events[1]["heat"] > 0


def test_negatives_weighted_and_only_negative(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    negs = data["negatives"]
    assert len(negs) == dsettings.digest.top == 10
    ids = {n["id"] for n in negs}
    assert not ids & {populated.post_ids[f"fest{i}"] for i in range(8)}
    # liuyan weighs 2.0: its posts rank above equally negative tieba posts with the same reach
    assert negs[0]["source"] == "liuyan"


def test_splits_trend_and_health(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    topics = {t["name"]: (t["posts"], t["negative"]) for t in data["topics"]}
    assert topics["水电气暖"] == (13, 13) and topics["文旅"] == (8, 0) and topics["未归类"] == (6, 0)
    sources = {s["name"]: s["posts"] for s in data["sources"]}
    assert sources == {"tieba-lushan": 15, "county-news": 13, "liuyan": 4}
    assert [h["hour"] for h in data["trend"]] == list(range(24))
    assert sum(h["posts"] for h in data["trend"]) == 32
    assert data["trend"][20] == {"hour": 20, "posts": 1, "negative": 1}  # the hostile post at 20:00 local
    problems = {p["name"]: p for p in data["health"]["problems"]}
    assert set(problems) == {"broken-feed", "quiet-feed"}
    assert problems["broken-feed"]["state"] == "failing" and "HTTP 403" in problems["broken-feed"]["last_error"]
    assert problems["broken-feed"]["failures"] == 3
    assert problems["quiet-feed"]["state"] == "silent"
    assert data["health"]["ok"] == 3


def test_build_stores_writes_page_and_is_idempotent(dsettings, dstore, populated):
    path = builder.build_digest(dsettings, dstore, DAY)
    assert path == dsettings.path(dsettings.digest.pages) / "2024-05-01.html" and path.exists()
    first = dstore.query("SELECT * FROM deliveries WHERE kind = 'digest'")
    assert len(first) == 1 and first[0]["ref"] == "2024-05-01"
    builder.build_digest(dsettings, dstore, DAY)
    assert dstore.scalar("SELECT count(*) FROM digests") == 1
    assert len(dstore.query("SELECT * FROM deliveries WHERE kind = 'digest'")) == 1
    row = dstore.query("SELECT * FROM digests")[0]
    data = json.loads(row["data"])
    assert data["overview"]["posts"] == 32
    assert row["html"] == path.read_text(encoding="utf-8")
    assert "【负面信息】" in row["text"]


def test_page_sections_in_order_and_self_contained(dsettings, dstore, populated):
    html = builder.build_digest(dsettings, dstore, DAY, send=False).read_text(encoding="utf-8")
    positions = [html.index(f"<h2>{s}</h2>") for s in SECTIONS]
    assert positions == sorted(positions)
    assert "<script" not in html.replace("&lt;script", "")
    assert not re.search(r"<link|@import|url\(|src=\"http|@font-face", html)
    assert html.count("<svg") == 3  # trend, topics, sources
    assert '"WenQuanYi Micro Hei", sans-serif' in html
    assert 'name="viewport"' in html and 'lang="zh-CN"' in html
    assert "龙门乡停水三天无人回应" in html and "红色(I级)" in html
    assert "http://127.0.0.1:8080/event/" in html  # links point to the web app


def test_hostile_post_text_is_escaped_everywhere(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    outputs = {
        "page": render.page(data, base="http://x"),
        "email": render.email_html(data, base="http://x"),
    }
    for name, html in outputs.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;" in html, name
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html, name
        assert f'href="{HOSTILE_URL}' not in html and "javascript:" not in html, name
    text = render.text(data, base="http://x")
    assert HOSTILE_TITLE in text and HOSTILE_TEXT.split()[0] in text  # plain text keeps it as it was


def test_email_html_does_not_depend_on_svg(dsettings, dstore, populated):
    data = builder.collect(dsettings, dstore, DAY)
    html = render.email_html(data, base="http://x")
    assert "<svg" not in html and "<style" not in html and "class=" not in html
    positions = [html.index(f">{s}</h2>") for s in SECTIONS]
    assert positions == sorted(positions)


def test_empty_day_builds_a_calm_digest(dsettings, dstore):
    path = builder.build_digest(dsettings, dstore, date(2020, 1, 1), send=False)
    html = path.read_text(encoding="utf-8")
    assert "当日无预警" in html and "当日无负面信息" in html and "无数据" in html
    data = json.loads(dstore.query("SELECT data FROM digests")[0]["data"])
    assert data["overview"]["posts"] == 0 and data["overview"]["negative_share"] is None
    assert data["overview"]["change"]["posts_prev"] is None


def test_cli_digest_and_bad_date(dsettings, dstore, populated):
    from yuqing.cli import cli

    runner = CliRunner()
    cfg = dsettings.config_file
    result = runner.invoke(cli, ["--config", cfg, "digest", "--date", "2024-05-01", "--no-send"])
    assert result.exit_code == 0, result.output
    assert "2024-05-01.html" in result.output
    assert dstore.scalar("SELECT count(*) FROM deliveries") == 0
    bad = runner.invoke(cli, ["--config", cfg, "digest", "--date", "May 1st"])
    assert bad.exit_code == 2 and "--date" in bad.output and "2024-05-01" in bad.output
