"""Report data -> an editable Word document (python-docx): real headings, tables, charts as PNG.

Text is set in "WenQuanYi Micro Hei" for East Asian and Latin runs alike (Debian's
fonts-wqy-microhei), so Chinese shows on a machine with only that font; Word substitutes its own
CJK font elsewhere. The 专报 follows the layout offices use, 研判建议 left for the analyst.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from yuqing.digest.render import HEALTH_NAMES, delta, pct, points
from yuqing.localtime import formatter
from yuqing.models import LEVEL_NAMES

FONT = "WenQuanYi Micro Hei"


def _fonts(doc: Any) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        style = doc.styles[name]
        style.font.name = FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
    doc.styles["Normal"].font.size = Pt(11)


def _table(doc: Any, head: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            cell.text = "" if value is None else str(value)


def _image(doc: Any, pngs: dict[str, Path], name: str) -> None:
    if name in pngs:
        doc.add_picture(str(pngs[name]), width=Cm(16))


def _local(data: dict[str, Any]) -> Callable[..., str]:
    return formatter(data["timezone"])  # as in the CLI, emails and pages: 2024-06-14 10:30


def write_docx(data: dict[str, Any], pngs: dict[str, Path], path: Path) -> Path:
    doc = Document()
    _fonts(doc)
    (_special if data["kind"] == "event" else _period)(doc, data, pngs)
    tmp = path.with_name(f".{path.name}.tmp")
    doc.save(str(tmp))
    tmp.replace(path)
    return path


def _period(doc: Any, d: dict[str, Any], pngs: dict[str, Path]) -> None:
    local = _local(d)
    o = d["overview"]
    doc.add_heading(d["title"], 0)
    doc.add_paragraph(d["summary"])
    doc.add_heading("概况", 1)
    _table(doc, ["", "本期", d["prev_name"], "变化"], [
        ["信息总量", o["posts"], o["prev"]["posts"], delta(o["change"]["posts"])],
        ["负面信息", o["negative"], o["prev"]["negative"], delta(o["change"]["negative"])],
        ["负面占比", pct(o["negative_share"]), pct(o["prev"]["negative_share"]), points(o["change"]["share"])],
    ])
    doc.add_heading("预警与处置", 1)
    t, al = d["disposal"]["total"], d["disposal"]["alerts"]
    doc.add_paragraph(f"发出预警 {al['opened']} 条，已确认 {al['acknowledged']} 条"
                      + (f"，超时未确认 {al['overdue']} 条" if al["overdue"] else "") + "。"
                      f"处置案件：新立案 {t['opened']} 件，已回应 {t['responded']} 件，已办结 {t['closed']} 件，"
                      f"超期 {t['overdue']} 件。")
    _table(doc, ["级别", "新立案", "已回应", "已办结", "超期"],
           [[LEVEL_NAMES.get(k, k), v["opened"], v["responded"], v["closed"], v["overdue"]]
            for k, v in d["disposal"]["levels"].items()])
    if d["disposal"]["cases"]:
        _table(doc, ["案件", "级别", "标题", "立案", "承办单位", "状态"],
               [[f"#{c['id']}", LEVEL_NAMES.get(c["level"], c["level"]), c["title"], local(c["opened_at"]),
                 c["unit"] or "—", c["state"] + (f"（{c['verdict']}）" if c["verdict"] else "") + ("，超期" if c["overdue"] else "")]
                for c in d["disposal"]["cases"]])
    doc.add_heading("热点事件", 1)
    if not d["events"]:
        doc.add_paragraph("本期无热点事件。")
    for n, e in enumerate(d["events"], 1):
        doc.add_heading(f"{n}. {e['title']}", 2)
        doc.add_paragraph(f"热度 {e['heat']}，本期 {e['posts']} 条，负面占比 {pct(e['negative_share'])}，"
                          f"互动 {e['engagement']}，来源：{'、'.join(e['sources'])}。")
        _image(doc, pngs, f"event{e['id']}")
        _image(doc, pngs, f"reach{e['id']}")
        for p in e["posts_shown"]:
            doc.add_paragraph(f"{p['source']} · {local(p['ts'])}：{p['excerpt']}", style="List Bullet")
    if d.get("reach"):
        doc.add_heading("传播", 1)
        _table(doc, ["帖子", "来源", "发布", "转评赞", "转 / 评 / 赞"],
               [[p["title"] or p["excerpt"] or "（无标题）", p["source"], local(p["ts"]), p["reach"],
                 f"{p['reposts']} / {p['comments']} / {p['likes']}"] for p in d["reach"]])
    doc.add_heading("负面信息", 1)
    if not d["negative_groups"]:
        doc.add_paragraph("本期无负面信息。")
    for g in d["negative_groups"]:
        doc.add_heading(f"{g['topic']}（{len(g['posts'])} 条）", 2)
        for p in g["posts"]:
            doc.add_paragraph(f"{p['source']} · {local(p['ts'])}：{p['excerpt']}", style="List Number")
    for key, head in (("topics", "话题分布"), ("sources", "来源分布")):
        doc.add_heading(head, 1)
        _image(doc, pngs, key)
        _table(doc, [head[:2], "信息", "负面", "负面占比", f"较{d['prev_name']}"],
               [[r["name"], r["posts"], r["negative"], pct(r["negative_share"]), delta(r["change"])] for r in d[key]])
    doc.add_heading("趋势", 1)
    _image(doc, pngs, "trend")
    _table(doc, ["时间", "信息", "负面"], [[b["label"], b["posts"], b["negative"]] for b in d["trend"]])
    doc.add_heading("信源健康", 1)
    doc.add_paragraph(f"正常信源 {d['health']['ok']} 个，异常 {len(d['health']['problems'])} 个。")
    if d["health"]["problems"]:
        _table(doc, ["信源", "状态", "说明"], [[s["name"], HEALTH_NAMES.get(s["state"], s["state"]),
                                             s["last_error"] or "一天以上无新信息"] for s in d["health"]["problems"]])
    cov = d["health"].get("coverage")
    if cov and cov["rows"]:
        doc.add_paragraph(f"采集量（本期 / 前{cov['periods']}期中位数）：")
        _table(doc, ["信源", "本期", "常量", "状态"],
               [[r["name"], r["posts"], "—" if r["usual"] is None else f"{r['usual']:g}",
                 f"明显偏少（仅常量的 {pct(r['share'], 0)}）" if r["low"] else ("正常" if r["judged"] else "—")]
                for r in cov["rows"]])


def _volume(d: dict[str, Any]) -> list[list[Any]]:
    """舆情走势 as a table: the hours (or days) with posts, their volume and negative share."""
    return [[b["label"], b["posts"], b["negative"], pct(b["negative"] / b["posts"])] for b in d["trend"] if b["posts"]]


def _special(doc: Any, d: dict[str, Any], pngs: dict[str, Path]) -> None:
    local = _local(d)
    doc.add_heading(d["title"], 0)
    doc.add_heading("事件概述", 1)
    doc.add_paragraph(d["summary"])
    _table(doc, ["时间", "经过"], [[local(t["at"]), t["what"]] for t in d["timeline"]])
    doc.add_heading("舆情走势", 1)
    _image(doc, pngs, "trend")
    doc.add_paragraph(f"峰值 {d['peak']} 条/{'小时' if d['hourly'] else '日'}，近期平均 {d['tail_avg']} 条；"
                      f"负面占比 {pct(d['negative_share'])}。")
    _table(doc, ["时间", "信息", "负面", "负面占比"], _volume(d))
    trace = d.get("trace")
    if trace:  # part of 舆情走势: the office layout keeps its five headings
        doc.add_paragraph().add_run("传播与溯源").bold = True
        doc.add_paragraph(f"首发于 {local(trace['first']['ts'])}（{trace['first']['source']}），"
                          f"{trace['sources']} 个来源先后跟进。")
        _table(doc, ["时间", "来源", "首帖", "距首发"],
               [[local(s["ts"]), s["source"], s["title"] or s["excerpt"], s["after"]] for s in trace["pickup"]])
        if trace["top"]:
            _table(doc, ["传播最广的帖子", "来源", "转评赞"],
                   [[p["title"] or p["excerpt"], p["source"], p["reach"]] for p in trace["top"]])
        _image(doc, pngs, "reach")
    doc.add_heading("主要观点", 1)
    doc.add_paragraph("关键词：" + "、".join(d["keywords"]))
    for p in d["posts_shown"]:
        doc.add_paragraph(f"{p['source']} · {local(p['ts'])}：{p['excerpt']}", style="List Bullet")
    doc.add_heading("处置情况", 1)
    for c in d.get("cases", []):
        doc.add_paragraph(f"案件#{c['id']}（{LEVEL_NAMES.get(c['level'], c['level'])}）：{c['state']}"
                          + (f"，承办单位 {c['unit']}" if c["unit"] else "") + (f"，研判为{c['verdict']}" if c["verdict"] else "")
                          + (f"。办结情况：{c['summary']}" if c["summary"] else ""))
    for r in d["responses"]:
        doc.add_paragraph(f"{local(r['at'])} {r['who'] or '值班人员'}：{r['note'] or '已确认'}")
    if not d["responses"]:
        doc.add_paragraph("尚无处置记录。")
    doc.add_paragraph("舆情已回落。" if d["subsiding"] else "舆情尚未回落。")
    doc.add_heading("研判建议", 1)
    doc.add_paragraph("")
