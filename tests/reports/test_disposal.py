"""预警与处置 counted from the cases (opened / responded / closed / overdue, by level), and every case
step in the 专报's timeline, on a store populated by the digest test helpers and the real workflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.digest.populate import SOURCES_TOML, at, populate_day
from yuqing import settings as settings_mod
from yuqing.cases import workflow
from yuqing.cli import cli
from yuqing.digest import report, report_special
from yuqing.store import Store

UNITS = '\n[[units]]\nname = "县水务局"\n\n[[units]]\nname = "县交通运输局"\n'


@pytest.fixture
def cased(write_config, tmp_path: Path):
    """The populated week plus four cases walked through the real workflow at chosen times."""
    path = write_config(SOURCES_TOML + UNITS + f'\n[alerts]\noutbox = "{tmp_path / "outbox"}"\n')
    settings = settings_mod.load(path)
    store = Store(settings.db_path)
    populated = populate_day(store)
    day = populated.day
    water = workflow.open_manual(settings, store, event_id=populated.events["water"], level="红", who="张三",
                                 note="停水投诉集中", now=at(day, 10))["id"]
    workflow.assess(settings, store, water, verdict="属实", who="张三", note="核实属实", now=at(day, 10, 20))
    workflow.assign(settings, store, water, unit="县水务局", who="张三", now=at(day, 10, 30))
    workflow.respond(settings, store, water, url="https://example.org/notice", note="已发布恢复供水通告",
                     who="李四", now=at(day, 11))
    workflow.close(settings, store, water, summary="供水已恢复", who="李四", now=at(day, 20))
    # assigned on the 29th with a 12-hour first-response deadline, never answered: overdue
    road = workflow.open_manual(settings, store, event_id=populated.events["road"], level="黄", who="张三",
                                now=at(date(2024, 4, 29), 8))["id"]
    workflow.assign(settings, store, road, unit="县交通运输局", who="张三", now=at(date(2024, 4, 29), 9))
    # dismissed the day it was opened: opened, neither closed nor overdue
    fest = workflow.open_manual(settings, store, event_id=populated.events["fest"], level="橙", who="张三",
                                now=at(date(2024, 4, 30), 9))["id"]
    workflow.dismiss(settings, store, fest, reason="正面宣传，无需处置", who="张三", now=at(date(2024, 4, 30), 10))
    # last month's case, finished then: not in this week's figures
    old = workflow.open_manual(settings, store, post_id=populated.post_ids["misc0"], level="蓝", who="张三",
                               now=at(date(2024, 3, 20), 9))["id"]
    workflow.dismiss(settings, store, old, reason="无关", who="张三", now=at(date(2024, 3, 21), 9))
    yield path, settings, store, populated, {"water": water, "road": road, "fest": fest, "old": old}
    store.close()


def test_week_figures_come_from_the_cases_by_level(cased):
    _, settings, store, _, ids = cased
    start, end = report.bounds(settings, date(2024, 4, 25), date(2024, 5, 1))
    d = report.disposal(settings, store, start, end)
    assert d["source"] == "cases"
    assert d["total"] == {"opened": 3, "responded": 1, "closed": 1, "overdue": 1}
    assert d["levels"]["red"] == {"opened": 1, "responded": 1, "closed": 1, "overdue": 0}
    assert d["levels"]["yellow"] == {"opened": 1, "responded": 0, "closed": 0, "overdue": 1}
    assert d["levels"]["orange"] == {"opened": 1, "responded": 0, "closed": 0, "overdue": 0}
    assert list(d["levels"])[0] == "red"  # the most serious level first
    shown = {c["id"]: c for c in d["cases"]}
    assert set(shown) == {ids["water"], ids["road"], ids["fest"]}  # last month's finished case is not listed
    assert shown[ids["road"]]["overdue"] and shown[ids["road"]]["unit"] == "县交通运输局"
    assert [c["level"] for c in d["cases"]][0] == "red"
    assert d["alerts"]["opened"] == 2  # the red and the yellow alert of the day, counted beside
    data = report.collect_period(settings, store, report.period_ending("week", date(2024, 5, 1)))
    assert "新立案 3 件，回应 1 件，办结 1 件，超期 1 件" in data["summary"]


def test_a_deadline_after_the_period_is_not_yet_overdue(cased):
    _, settings, store, _, ids = cased
    # the 29th alone: the road case's deadline (21:00 that day) had passed by its end; the 28th knew no case
    start, end = report.bounds(settings, date(2024, 4, 29), date(2024, 4, 29))
    assert report.disposal(settings, store, start, end)["total"]["overdue"] == 1
    start, end = report.bounds(settings, date(2024, 4, 28), date(2024, 4, 28))
    d = report.disposal(settings, store, start, end)
    assert d["total"] == {"opened": 0, "responded": 0, "closed": 0, "overdue": 0} and d["cases"] == []


def test_special_report_timeline_holds_every_case_step(cased):
    _, settings, store, populated, ids = cased
    data = report_special.collect_event(settings, store, populated.events["water"])
    lines = [t["what"] for t in data["timeline"]]
    case = f"案件#{ids['water']}"
    for step in ("立案", "研判", "交办", "回应", "办结"):
        assert any(line.startswith(f"{case} {step}") for line in lines), (step, lines)
    assert any("县水务局" in line for line in lines) and any("供水已恢复" in line for line in lines)
    assert [t["at"] for t in data["timeline"]] == sorted(t["at"] for t in data["timeline"])
    assert data["cases"][0]["state"] == "办结" and "已立案 1 件，0 件未办结" in data["summary"]
    by_case = report_special.collect_case(settings, store, ids["water"])
    assert by_case["ref"] == f"case-{ids['water']}" and by_case["timeline"] == data["timeline"]


def test_case_without_an_event_is_refused_in_words(cased):
    path, _, _, _, ids = cased
    res = CliRunner().invoke(cli, ["--config", str(path), "report", "--case", str(ids["old"]), "--format", "html"])
    assert res.exit_code == 2 and "has no event" in res.output and "Traceback" not in res.output


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_docx_and_xlsx_show_the_case_figures(cased, tmp_path: Path):
    import docx
    import openpyxl

    path, _, _, populated, ids = cased
    res = CliRunner().invoke(cli, ["--config", str(path), "report", "--period", "week", "--end", "2024-05-01",
                                   "--format", "docx,xlsx", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    files = {Path(p).suffix: Path(p) for p in res.output.split()}
    doc = docx.Document(str(files[".docx"]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "新立案 3 件" in text and "超期 1 件" in text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "县交通运输局" in cells and f"#{ids['water']}" in cells
    wb = openpyxl.load_workbook(str(files[".xlsx"]), read_only=True)
    rows = list(wb["案件"].iter_rows(values_only=True))
    assert len(rows) == 4 and rows[0][0] == "编号"
    res = CliRunner().invoke(cli, ["--config", str(path), "report", "--case", str(ids["water"]), "--format", "docx",
                                   "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    doc = docx.Document(res.output.split()[0])
    timeline = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert any(f"案件#{ids['water']} 交办" in c for c in timeline)
