"""`yuqing report` and `yuqing export posts` on a store populated by the digest test helpers:
each format opened with its own reader (python-docx, openpyxl, pdftotext/pdftoppm)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests.digest.populate import SOURCES_TOML, populate_day
from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.store import Store

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")

WEEK_SECTIONS = ["概况", "预警与处置", "热点事件", "负面信息", "话题分布", "来源分布", "趋势", "信源健康"]


@pytest.fixture
def rconfig(write_config, tmp_path: Path):
    path = write_config(SOURCES_TOML + f'\n[alerts]\noutbox = "{tmp_path / "outbox"}"\n')
    store = Store(settings_mod.load(path).db_path)
    populated = populate_day(store)
    store.close()
    return path, populated


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_week_report_in_every_format_holds_the_sections_figures_and_a_post(rconfig, tmp_path: Path):
    import docx
    import openpyxl

    config, populated = rconfig
    out = tmp_path / "out"
    res = run(config, "report", "--period", "week", "--end", "2024-05-01", "--out", str(out))
    assert res.exit_code == 0, res.output
    paths = {Path(line).suffix: Path(line) for line in res.output.split()}
    assert set(paths) == {".html", ".docx", ".pdf", ".xlsx"}

    # the week 04-25..05-01: the populated day (32 posts, 15 negative) and six days of 10 (2 negative)
    posts, negative, share = "92", "27", "29.3%"
    doc = docx.Document(str(paths[".docx"]))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert [h for h in headings if h in WEEK_SECTIONS] == WEEK_SECTIONS  # the order the issue asks
    assert doc.paragraphs[0].style.name == "Title" and "芦山县舆情周报" in doc.paragraphs[0].text
    top = doc.paragraphs[1].text  # the summary paragraph, above 概况, filled from the figures
    assert doc.paragraphs[2].text == "概况"
    assert f"信息 {posts} 条" in top and f"负面 {negative} 条" in top and share in top and "龙门乡停水三天无人回应" in top
    overview = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert overview[1][:3] == ["信息总量", posts, "10"] and overview[2][:2] == ["负面信息", negative]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "龙门乡小区停水已经三天" in body  # a representative post, in Chinese
    # every chart embedded as a picture: trend, topics, sources and one per hot event
    pngs = [rel.target_part for rel in doc.part.rels.values() if "image" in rel.reltype]
    assert len(doc.inline_shapes) == 3 + 3 and all(p.content_type == "image/png" and len(p.blob) > 2000 for p in pngs)

    from docx.oxml.ns import qn

    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "WenQuanYi Micro Hei"  # a CJK font Debian's fonts-wqy-microhei has

    assert openpyxl.load_workbook(str(paths[".xlsx"]))["概况"]["A2"].font.name == "WenQuanYi Micro Hei"
    wb = openpyxl.load_workbook(str(paths[".xlsx"]), read_only=True)
    assert {"概况", "预警与处置", "热点事件", "负面信息", "话题分布", "来源分布", "趋势", "信源健康", "案件", "帖子"} <= set(wb.sheetnames)
    figures = {r[0]: r[1:] for r in wb["概况"].iter_rows(values_only=True)}
    assert str(figures["信息总量"][0]) == posts and str(figures["负面信息"][0]) == negative
    rows = list(wb["帖子"].iter_rows(values_only=True))
    assert len(rows) - 1 == int(posts)  # a header row and every post of the period
    assert any("龙门乡小区停水已经三天" in (r[4] or "") and r[7] == "负面" and r[11] for r in rows[1:])  # label, event

    text = subprocess.run(["pdftotext", str(paths[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    at = text.index("芦山县舆情周报")
    summary = text.index("共监测到涉芦山县信息", at)
    for section in WEEK_SECTIONS:  # in the order, after the summary
        at = text.index(section, max(at, summary) + 1)
    flat = text.replace("\n", "")
    assert f"信息 {posts} 条" in flat and share in flat and "龙门乡小区停水已经三天" in flat
    html = paths[".html"].read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.split("</style>")[0]
    assert "&lt;script&gt;alert(&#34;pwn&#34;)" in html or "&lt;script&gt;alert(&quot;pwn&quot;)" in html


def _gray_crop(pdf: Path, dpi: int, box: tuple[float, float, float, float], folder: Path) -> list[list[int]]:
    """The page-1 pixels inside `box` (PDF points: x0, y0, x1, y1) as rows of grey levels, via pdftoppm."""
    scale = dpi / 72
    x, y = int(box[0] * scale), int(box[1] * scale)
    w, h = int((box[2] - box[0]) * scale), int((box[3] - box[1]) * scale)
    stem = folder / f"crop-{x}-{y}"
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-x", str(x), "-y", str(y),
                    "-W", str(w), "-H", str(h), str(pdf), str(stem)], check=True)
    raw = stem.with_suffix(".pgm").read_bytes()
    magic, width, height, _, data = raw.split(maxsplit=4)
    assert magic == b"P5"
    width, height = int(width), int(height)
    return [list(data[r * width:(r + 1) * width]) for r in range(height)]


def _hanzi(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def glyphs_differ(pdf: Path, folder: Path, wanted=_hanzi) -> tuple[str, list[float]]:
    """How unlike each other the glyphs of page 1's first word of 4+ hanzi are (0 = the same shape).

    A missing CJK font draws every character as the same box (tofu): cells cut at the glyphs' advance
    (the word's width over its length) would then be nearly identical. Real hanzi differ: the share
    of ink pixels not in common is large.
    """
    words = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    for line in words.splitlines():
        if "<word" not in line:
            continue
        word = line.split(">", 1)[1].split("<", 1)[0]
        if len(word) >= 4 and wanted(word):
            break
    else:
        raise AssertionError("no word of hanzi on page 1:\n" + words[:2000])
    x0, y0, x1, y1 = (float(line.split(f'{k}="')[1].split('"')[0]) for k in ("xMin", "yMin", "xMax", "yMax"))
    dpi = 200
    pixels = _gray_crop(pdf, dpi, (x0, y0, x1, y1), folder)
    step = (x1 - x0) / len(word) * dpi / 72
    cells = [{(r, c - int(i * step)) for r, row in enumerate(pixels) for c, v in enumerate(row)
              if v < 128 and int(i * step) <= c < int((i + 1) * step)} for i in range(len(word))]
    assert all(len(c) > 20 for c in cells), (word, [len(c) for c in cells])  # every glyph has ink
    return word, [len(a ^ b) / max(len(a), len(b)) for i, a in enumerate(cells) for b in cells[i + 1:]]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_pdf_first_page_renders_chinese_not_boxes_on_a4(rconfig, tmp_path: Path):
    config, _ = rconfig
    res = run(config, "report", "--period", "week", "--end", "2024-05-01", "--format", "pdf", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    pdf = Path(res.output.split()[0])
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts or "wqy" in fonts.lower(), fonts  # a CJK font is embedded
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info, info  # the paper offices use, not US Letter
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 10_000
    word, unlike = glyphs_differ(pdf, tmp_path)
    assert min(unlike) > 0.3, (word, unlike)  # different hanzi, not the same box again and again


SPECIAL_SECTIONS = ["事件概述", "舆情走势", "主要观点", "处置情况", "研判建议"]


def test_special_report_on_an_event_has_the_office_layout_in_every_format(rconfig, tmp_path: Path):
    import docx
    import openpyxl

    config, populated = rconfig
    res = run(config, "report", "--event", str(populated.events["water"]), "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    paths = {Path(line).suffix: Path(line) for line in res.output.split()}
    assert set(paths) == {".html", ".docx", ".pdf", ".xlsx"}
    title = "关于“龙门乡停水三天无人回应”的舆情专报"

    doc = docx.Document(str(paths[".docx"]))
    assert doc.paragraphs[0].style.name == "Title" and doc.paragraphs[0].text == title  # 标题
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert [h for h in headings if h in SPECIAL_SECTIONS] == SPECIAL_SECTIONS
    assert headings[-1] == "研判建议"  # left last, for the analyst
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "共 13 条，负面占比 100.0%" in body and "龙门乡小区停水已经三天" in body and "停水" in body
    assert len(doc.inline_shapes) == 1  # 舆情走势 as a picture
    cells = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    assert any("首发" in row[1] for row in cells if len(row) == 2)  # the timeline
    assert "发出红色" in body + "".join(row[1] for row in cells if len(row) == 2)  # each alert on it
    hours = [row for row in cells if len(row) == 4 and row[0].endswith("时")]  # volume and share per hour
    assert sum(int(r[1]) for r in hours) == 13 and all(r[3] == "100.0%" for r in hours)

    text = subprocess.run(["pdftotext", str(paths[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    at = text.index("舆情专报")
    for section in SPECIAL_SECTIONS:
        at = text.index(section, at + 1)
    assert "龙门乡小区停水已经三天" in text.replace("\n", "")

    wb = openpyxl.load_workbook(str(paths[".xlsx"]), read_only=True)
    assert {"事件概述", "时间线", "舆情走势", "主要观点", "处置情况", "帖子"} <= set(wb.sheetnames)
    trend = list(wb["舆情走势"].iter_rows(values_only=True))
    assert trend[0] == ("时间", "信息", "负面", "负面占比") and sum(r[1] for r in trend[1:]) == 13
    assert len(list(wb["帖子"].iter_rows(values_only=True))) == 1 + 13
    html = paths[".html"].read_text(encoding="utf-8")
    assert [html.index(f"<h2>{s}</h2>") for s in SPECIAL_SECTIONS] == sorted(html.index(f"<h2>{s}</h2>") for s in SPECIAL_SECTIONS)


def test_export_csv_has_a_bom_and_the_filtered_posts(rconfig, tmp_path: Path):
    config, _ = rconfig
    out = tmp_path / "neg.csv"
    res = run(config, "export", "posts", "--since", "2024-04-24", "--label", "negative", "--out", str(out))
    assert res.exit_code == 0, res.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows and all(r["label"] == "negative" for r in rows)
    jl = run(config, "export", "posts", "--since", "2024-04-24", "--format", "jsonl")
    assert jl.exit_code == 0
    records = [json.loads(line) for line in jl.output.splitlines() if line.startswith("{")]
    assert len(records) > len(rows)


def test_export_filters_by_topic_and_days_and_writes_to_standard_output(rconfig):
    config, _ = rconfig
    res = CliRunner().invoke(cli, ["--config", str(config), "export", "posts", "--since", "2024-04-30", "--until",
                                   "2024-05-01", "--topic", "交通出行"])
    assert res.exit_code == 0, res.output
    raw = res.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")  # standard output too: Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 5 and all("飞仙关隧道" in r["title"] for r in rows)  # the five road posts of 05-01
    before = run(config, "export", "posts", "--since", "2024-04-30", "--until", "2024-04-30", "--format", "jsonl")
    days = {json.loads(line)["ts"][:10] for line in before.output.splitlines() if line.startswith("{")}
    assert before.exit_code == 0 and days and days <= {"2024-04-29", "2024-04-30"}  # local 04-30, in UTC


@pytest.mark.parametrize("args, words", [
    (["report", "--period", "week", "--end", "2024-13-01"], "--end"),
    (["report", "--event", "999"], "999"),
    (["report", "--case", "999"], "999"),
    (["report", "--period", "week", "--end", "2024-05-01", "--format", "odt"], "odt"),
    (["report", "--period", "week", "--end", "2024-05-01", "--out", "/proc/nope"], "/proc/nope"),
    (["export", "posts", "--since", "2024-05-02", "--until", "2024-05-01"], "--until"),
    (["export", "posts", "--since", "yesterday"], "--since"),
    (["report", "--format", "docx"], "--period"),
    (["report", "--period", "week", "--event", "1"], "one of"),
    (["report", "--period", "week", "--end", "2024-05-01", "--format", ","], "--format"),
    (["export", "posts", "--since", "2024-04-24", "--format", "xls"], "xls"),
    (["export", "posts", "--since", "2024-04-24", "--out", "/proc/nope/x.csv"], "/proc/nope"),
])
def test_bad_input_is_refused_in_words(rconfig, args, words):
    config, _ = rconfig
    res = run(config, *args)
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output


SH = ZoneInfo("Asia/Shanghai")


def _mails(outbox: Path, word: str) -> list:
    from email import message_from_bytes, policy

    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    return [m for m in mails if word in str(m["Subject"])]


def _reports_config(config: Path, extra: str = "") -> Path:
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[alerts]", '[reports]\nto = ["leader@example.com"]\nformats = ["docx", "xlsx"]\nmonthly = false\n'
        + extra + "\n[alerts]", 1), encoding="utf-8")
    return config


def test_weekly_report_is_built_and_mailed_once_on_monday_with_its_files(rconfig, tmp_path: Path):
    from yuqing.delivery.outbox import deliver_pending
    from yuqing.digest.publish import run_due

    config, _ = rconfig
    settings = settings_mod.load(_reports_config(config))
    store = Store(settings.db_path)
    # the store collected posts since 04-24: the week due on Monday 04-29 is caught up the next day
    assert run_due(settings, store, now=datetime(2024, 4, 30, 10, 0, tzinfo=SH)) == ["week:2024-04-22_2024-04-28"]
    assert run_due(settings, store, now=datetime(2024, 5, 5, 23, 0, tzinfo=SH)) == []  # Sunday: nothing new
    assert run_due(settings, store, now=datetime(2024, 5, 6, 7, 59, tzinfo=SH)) == []  # before [digest] at
    monday = datetime(2024, 5, 6, 8, 0, tzinfo=SH)
    assert run_due(settings, store, now=monday) == ["week:2024-04-29_2024-05-05"]
    assert run_due(settings, store, now=monday) == []  # a restart on the same Monday builds nothing again
    assert run_due(settings, store, now=datetime(2024, 5, 8, 9, 0, tzinfo=SH)) == []  # nor later that week
    deliver_pending(settings, store)
    reports = _mails(tmp_path / "outbox", "周报")
    assert sorted(str(m["Subject"]).split("（")[1][:10] for m in reports) == ["2024-04-22", "2024-04-29"]
    for mail in reports:
        assert mail["To"] == "leader@example.com"  # [reports] to, not the digest's list
        names = sorted(part.get_filename() for part in mail.walk() if part.get_filename())
        assert [Path(n).suffix for n in names] == [".docx", ".xlsx"]
    store.close()


def test_a_week_report_built_by_hand_is_still_mailed_on_monday(rconfig, tmp_path: Path):
    from yuqing.delivery.outbox import deliver_pending
    from yuqing.digest.publish import run_due

    config, _ = rconfig
    settings = settings_mod.load(_reports_config(config))
    res = run(config, "report", "--period", "week", "--end", "2024-05-05", "--format", "html", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    store = Store(settings.db_path)
    assert "week:2024-04-29_2024-05-05" in run_due(settings, store, now=datetime(2024, 5, 6, 8, 5, tzinfo=SH))
    deliver_pending(settings, store)
    assert len([m for m in _mails(tmp_path / "outbox", "周报") if "2024-04-29" in str(m["Subject"])]) == 1
    store.close()


def test_a_new_install_does_not_mail_a_week_it_was_not_watching(rconfig):
    from yuqing.digest.publish import run_due

    config, _ = rconfig
    settings = settings_mod.load(_reports_config(config))
    store = Store(settings.db_path)
    # every post of the store was collected after Monday 04-22's moment: that week is not caught up
    assert run_due(settings, store, now=datetime(2024, 4, 23, 9, 0, tzinfo=SH)) == []
    store.close()


@pytest.mark.parametrize("toml, words", [
    ('[reports]\nto = ["领导办公室"]\n', "reports.to"),
    ('[reports]\nto = ["a@b.cn, c@d.cn"]\n', "reports.to"),
    ('[reports]\nformats = ["odt"]\n', "reports.formats"),
])
def test_bad_reports_settings_exit_2_naming_the_key(write_config, toml, words):
    res = CliRunner().invoke(cli, ["--config", str(write_config(toml)), "check"])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output


def test_day_report_trends_per_hour_and_lands_in_the_pages_folder_by_default(rconfig, tmp_path: Path):
    import openpyxl

    config, populated = rconfig
    res = run(config, "report", "--period", "day", "--end", "2024-05-01", "--format", "xlsx")
    assert res.exit_code == 0, res.output
    path = Path(res.output.split()[0])
    settings = settings_mod.load(config)
    assert path.parent == settings.path(settings.digest.pages) and path.name == "report-day-2024-05-01.xlsx"
    wb = openpyxl.load_workbook(str(path), read_only=True)
    trend = list(wb["趋势"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in trend] == [f"{h:02d}时" for h in range(24)]  # a day is drawn per hour
    assert sum(r[1] for r in trend) == populated.totals["posts"] and trend[6][1] == 1  # 06:00 local: water #1
    overview = {r[0]: r[1:] for r in wb["概况"].iter_rows(values_only=True)}
    assert overview["信息总量"][:2] == (populated.totals["posts"], 10)  # against the day before


def test_month_report_is_the_calendar_month_and_mailed_on_the_first(rconfig, tmp_path: Path):
    import openpyxl

    from yuqing.delivery.outbox import deliver_pending
    from yuqing.digest.publish import run_due

    config, populated = rconfig
    res = run(config, "report", "--period", "month", "--end", "2024-04-30", "--format", "xlsx", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(res.output.split()[0], read_only=True)
    overview = {r[0]: r[1:] for r in wb["概况"].iter_rows(values_only=True)}
    assert overview["信息总量"][0] == 70  # 04-24..04-30, ten a day; 05-01 is May's
    assert len(list(wb["趋势"].iter_rows(values_only=True))) == 1 + 30  # every day of April

    config.write_text(config.read_text(encoding="utf-8").replace(
        "[alerts]", '[reports]\nto = ["leader@example.com"]\nformats = ["xlsx"]\nweekly = false\n\n[alerts]', 1),
        encoding="utf-8")
    settings = settings_mod.load(config)
    store = Store(settings.db_path)
    assert run_due(settings, store, now=datetime(2024, 5, 1, 7, 0, tzinfo=SH)) == []  # before [digest] at
    assert run_due(settings, store, now=datetime(2024, 5, 1, 8, 0, tzinfo=SH)) == ["month:2024-04-01_2024-04-30"]
    assert run_due(settings, store, now=datetime(2024, 5, 20, 8, 0, tzinfo=SH)) == []
    deliver_pending(settings, store)
    mails = _mails(tmp_path / "outbox", "月报")
    assert len(mails) == 1 and mails[0]["To"] == "leader@example.com"
    store.close()


@pytest.fixture
def broken_chromium(tmp_path: Path, monkeypatch):
    """A Chromium that crashes at start (a missing library after an upgrade), found as YUQING_CHROMIUM."""
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\necho 'error while loading shared libraries: libnss3.so' >&2\nexit 127\n")
    exe.chmod(0o755)
    monkeypatch.setenv("YUQING_CHROMIUM", str(exe))
    return exe


def test_a_crashing_chromium_costs_the_pdf_only(rconfig, tmp_path: Path, broken_chromium):
    import docx
    import openpyxl

    config, _ = rconfig
    res = run(config, "report", "--period", "week", "--end", "2024-05-01", "--out", str(tmp_path / "out"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    written = [Path(line) for line in res.stdout.split() if line.startswith("/")]
    assert [p.suffix for p in written] == [".html", ".docx", ".xlsx"] and all(p.stat().st_size for p in written)
    assert "pdf: Chromium failed" in res.output and "libnss3" in res.output
    assert not list((tmp_path / "out").glob("*.pdf")) and not list((tmp_path / "out").glob(".*"))
    doc = docx.Document(str(written[1]))  # the figures are in its tables; the chart pictures are left out
    assert "概况" in [p.text for p in doc.paragraphs] and len(doc.inline_shapes) == 0
    assert len(list(openpyxl.load_workbook(str(written[2]), read_only=True)["帖子"].iter_rows())) == 1 + 92


def test_monday_report_goes_out_without_the_pdf_chromium_could_not_print(rconfig, tmp_path: Path, broken_chromium):
    from yuqing.delivery.outbox import deliver_pending
    from yuqing.digest.publish import run_due

    config, _ = rconfig
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[alerts]", '[reports]\nto = ["leader@example.com"]\nformats = ["pdf", "xlsx"]\nmonthly = false\n\n[alerts]', 1),
        encoding="utf-8")
    settings = settings_mod.load(config)
    store = Store(settings.db_path)
    monday = datetime(2024, 5, 6, 8, 0, tzinfo=SH)
    assert "week:2024-04-29_2024-05-05" in run_due(settings, store, now=monday)
    assert run_due(settings, store, now=monday) == []  # mailed once, with what could be built
    deliver_pending(settings, store)
    mail = next(m for m in _mails(tmp_path / "outbox", "周报") if "2024-04-29" in str(m["Subject"]))
    assert [Path(p.get_filename()).suffix for p in mail.walk() if p.get_filename()] == [".xlsx"]
    assert "未能生成 pdf" in mail.get_body(("plain",)).get_content()
    store.close()
