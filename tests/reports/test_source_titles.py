"""A source titled 清溪问政 is shown by its title wherever a person reads it: the period reports and the
专报 in every format, the web pages' source lists, `yuqing status` and the crawl table. The config
name stays the key (`status --json`, the search form's value, the export)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.digest.populate import SOURCES_TOML, populate_day
from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.store import Store

TITLES = {"county-news": "清溪问政", "tieba-lushan": "芦山吧", "broken-feed": "县政府网"}
NAMES = tuple(TITLES)


def titled_toml() -> str:
    text = SOURCES_TOML
    for name, title in TITLES.items():
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\ntitle = "{title}"\n')
    return text


@pytest.fixture
def tconfig(write_config, tmp_path: Path):
    path = write_config(titled_toml() + f'\n[alerts]\noutbox = "{tmp_path / "outbox"}"\n')
    store = Store(settings_mod.load(path).db_path)
    populated = populate_day(store)
    with store.transaction():  # a source-health alert, keyed by the config name as health.py raises it
        store.conn.execute(
            "INSERT INTO alerts(kind, key, level, state, opened_at, updated_at, title, explanation) "
            "VALUES ('source', 'broken-feed', 'blue', 'open', '2024-05-01T05:00:00+00:00', "
            "'2024-05-01T05:00:00+00:00', '数据源「县政府网」采集失败', '{}')")
    store.close()
    return path, populated


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def assert_titled(text: str, where: str, titles: tuple[str, ...] = ("清溪问政", "芦山吧", "县政府网")) -> None:
    for title in titles:
        assert title in text, f"{title} missing from {where}"
    for name in NAMES:
        assert name not in text, f"config name {name} shown in {where}"


def _docx_text(path: Path) -> str:
    import docx

    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _xlsx_text(path: Path) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(str(path), read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)


def _files(res) -> dict[str, Path]:
    assert res.exit_code == 0, res.output
    return {Path(line).suffix: Path(line) for line in res.output.split()}


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() or shutil.which("pdftotext") is None,
                    reason="needs Debian's chromium and poppler-utils")
def test_week_report_and_special_report_show_titles_in_every_format(tconfig, tmp_path: Path):
    config, populated = tconfig
    week = _files(run(config, "report", "--period", "week", "--end", "2024-05-01", "--out", str(tmp_path / "w")))
    assert set(week) == {".html", ".docx", ".pdf", ".xlsx"}
    assert_titled(week[".html"].read_text(encoding="utf-8"), "week html")
    assert_titled(_docx_text(week[".docx"]), "week docx")
    assert_titled(_xlsx_text(week[".xlsx"]), "week xlsx")
    pdf = subprocess.run(["pdftotext", str(week[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert_titled(pdf.replace("\n", ""), "week pdf", ("清溪问政", "芦山吧"))

    event = _files(run(config, "report", "--event", str(populated.events["water"]), "--out", str(tmp_path / "e")))
    html = event[".html"].read_text(encoding="utf-8")
    assert_titled(html, "special html", ("芦山吧",))
    assert "扩散至 芦山吧" in html  # the timeline names sources by title too
    assert_titled(_docx_text(event[".docx"]), "special docx", ("芦山吧",))
    assert_titled(_xlsx_text(event[".xlsx"]), "special xlsx", ("芦山吧",))
    pdf = subprocess.run(["pdftotext", str(event[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert_titled(pdf.replace("\n", ""), "special pdf", ("芦山吧",))


def test_trend_and_digest_data_show_titles(tconfig):
    from datetime import date

    from yuqing.digest.builder import collect
    from yuqing.digest.render import page
    from yuqing.digest.report_trend import collect_trend

    config, populated = tconfig
    settings = settings_mod.load(config)
    with Store(settings.db_path) as store:
        trend = collect_trend(settings, store, 30, date(2024, 5, 1))
        assert {"清溪问政", "芦山吧"} <= {r["name"] for r in trend["sources"]}
        data = collect(settings, store, populated.day)
    html = page(data)
    assert "来源 · 县政府网" in html and "broken-feed" not in html  # the source alert's row


def test_status_shows_titles_and_json_keeps_names(tconfig):
    config, _ = tconfig
    res = run(config, "status")
    assert res.exit_code == 0, res.output
    sources = res.output.split("sources:", 1)[1].split("backlog:", 1)[0]
    assert_titled(sources, "status")
    lines = [line for line in sources.splitlines() if "last run" in line]
    from yuqing.text import columns

    starts = {columns(line[:line.index("last run")]) for line in lines}
    assert len(starts) == 1, lines  # Chinese titles are two columns wide: the table still lines up
    res = run(config, "status", "--json")
    report = json.loads(res.output)
    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["county-news"]["title"] == "清溪问政" and by_name["liuyan"]["title"] == "liuyan"


def test_crawl_table_shows_titles(write_config, tmp_path: Path):
    # a real run: the child process fails to connect to a closed loopback port, in words
    config = write_config('[[sources]]\nname = "qingxi-wenzheng"\ntitle = "清溪问政"\ntype = "feed"\n'
                          'url = "http://127.0.0.1:9/feed.xml"\n')
    res = run(config, "crawl")
    assert res.exit_code == 1, res.output
    assert "清溪问政" in res.output and "qingxi-wenzheng" not in res.output
    rows = [line for line in res.output.splitlines() if line.startswith("清溪问政 ")]
    assert rows and rows[0].split()[-1] == "FAILED"
    assert any(line.startswith("清溪问政: ") for line in res.output.splitlines())


def test_render_stats_lines_up_titles():
    from yuqing.crawlers.commands import render_stats
    from yuqing.models import CrawlStats

    titles = {"qingxi-wenzheng": "清溪问政"}
    text = render_stats([CrawlStats("qingxi-wenzheng", 3, 2, 1, 1, 0), CrawlStats("feed-a", 1, 1, 1, 0, 0)],
                        lambda n: titles.get(n, n))
    lines = text.splitlines()
    assert lines[2].startswith("清溪问政 ") and "qingxi-wenzheng" not in text
    from yuqing.text import columns

    assert len({columns(line.rsplit(" ", 1)[0]) for line in (lines[0], lines[2], lines[3])}) == 1


def test_web_pages_show_titles(tconfig):
    from tests.digest.conftest import start_web
    from tests.digest.test_web import Client

    config, populated = tconfig
    settings = settings_mod.load(config)
    server = start_web(settings)
    try:
        client = Client(server.url)
        status, _, page = client.get(f"/event/{populated.events['water']}")
        assert status == 200
        assert '<span class="tag">芦山吧 ' in page and "tieba-lushan" not in page
        status, _, page = client.get("/search")
        assert status == 200
        assert '<option value="county-news">清溪问政</option>' in page  # the name stays the key
        status, _, page = client.get("/alerts")
        assert status == 200 and "来源 · 县政府网" in page and "broken-feed" not in page
    finally:
        server.shutdown()
        server.server_close()
