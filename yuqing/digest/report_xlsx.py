"""Report data -> an Excel workbook (openpyxl; the 帖子 sheet streamed by yuqing.digest.report_sheet).

One sheet per table of the report, then 帖子: every post of the period with its labels, topics and
event. The workbook's default font is "WenQuanYi Micro Hei" (fonts-wqy-microhei), so Chinese shows
in LibreOffice on Debian; Excel substitutes its own CJK font where that one is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils.indexed_list import IndexedList

from yuqing.digest.render import HEALTH_NAMES, LABEL_NAMES, safe_url
from yuqing.digest.report_sheet import save_with_rows
from yuqing.localtime import minutes, shown
from yuqing.models import LEVEL_NAMES

FONT = "WenQuanYi Micro Hei"
POST_HEAD = ("编号", "时间", "来源", "标题", "正文", "链接", "作者", "情感", "负面概率", "话题", "关键词", "事件",
             "转发", "评论", "点赞")
MAX_CELL = 32_000  # Excel's limit is 32,767 characters a cell


def workbook() -> Workbook:
    wb = Workbook(write_only=True)
    wb._fonts = IndexedList([Font(name=FONT, sz=11, family=2)])  # the default font of every cell
    return wb


def _head(ws: Any, names: Iterable[str]) -> None:
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(name=FONT, sz=11, bold=True)
        cells.append(cell)
    ws.append(cells)


def _sheet(wb: Workbook, title: str, head: list[str], rows: Iterable[Iterable[Any]]) -> None:
    ws = wb.create_sheet(title)
    _head(ws, head)
    for row in rows:
        ws.append(list(row))


def post_row(row: tuple[Any, ...], source_title: Callable[[str], str] | None = None,
             timezone: str | None = None) -> list[Any]:
    """A store row (EXPORT_COLUMNS) as the cells of a 帖子 row. The export keeps the stored UTC stamp
    and config name (data for programs); a report passes the titles and zone people read."""
    return next(post_rows([row], source_title, timezone))


def post_rows(rows: Iterable[tuple[Any, ...]], source_title: Callable[[str], str] | None = None,
              timezone: str | None = None) -> Iterator[list[Any]]:
    """`post_row` of each row, as one loop: a month's 1.5 million rows made a call each a cost."""
    local = minutes(timezone) if timezone is not None else None
    label_name = LABEL_NAMES.get
    words = _words
    clip = _clip
    for (pid, ts, source, title, text, url, author, label, prob, topics, keywords, event_id, reposts,
         comments, likes) in rows:
        if source_title is not None:
            source = source_title(source)
        if local is not None:
            ts = local(ts)
        yield [pid, ts, source, clip(title), clip(text), url, author, label_name(label, label), prob,
               words(topics, 20), words(keywords, 10), event_id, reposts, comments, likes]


@lru_cache(maxsize=4096)
def _words(value: str | None, limit: int) -> str:
    """A JSON list of words as 话题/关键词 text; the same few lists recur over a month of posts."""
    try:
        words = json.loads(value or "[]")
    except ValueError:
        return ""
    return "、".join(str(w) for w in words[:limit]) if isinstance(words, list) else ""


def _clip(value: Any) -> Any:
    # a cell starting with = is a formula to Excel: text from a post must stay text
    if isinstance(value, str):
        value = value[:MAX_CELL]
        if value[:1] in ("=", "+", "-", "@"):
            value = "'" + value
    return value


def write_posts(rows: Iterable[tuple[Any, ...]], out: IO[bytes] | Path, sheet: str = "帖子") -> int:
    """Only posts (the export); returns the row count."""
    wb = workbook()
    ws = wb.create_sheet(sheet)
    _head(ws, POST_HEAD)
    return save_with_rows(wb, sheet, post_rows(rows), out)


def write_xlsx(data: dict[str, Any], posts: Iterable[tuple[Any, ...]], path: Path,
               source_title: Callable[[str], str] = str) -> Path:
    """The report's workbook; `data` is titled already, `source_title` names the 帖子 rows' sources."""
    wb = workbook()
    tz = data["timezone"]

    def local(value: Any) -> str:
        return shown(value, tz, empty="")
    if data["kind"] == "event":
        _sheet(wb, "事件概述", ["项目", "内容"], [["标题", data["title"]], ["概述", data["summary"]],
                                            ["信息", data["posts"]], ["负面", data["negative"]],
                                            ["来源", "、".join(data["sources"])], ["关键词", "、".join(data["keywords"])],
                                            ["是否回落", "是" if data["subsiding"] else "否"]])
        _sheet(wb, "时间线", ["时间", "经过"], [[local(t["at"]), _clip(t["what"])] for t in data["timeline"]])
        _sheet(wb, "舆情走势", ["时间", "信息", "负面", "负面占比"],
               [[b["label"], b["posts"], b["negative"], round(b["negative"] / b["posts"], 3) if b["posts"] else None]
                for b in data["trend"]])
        _sheet(wb, "处置情况", ["案件", "级别", "状态", "承办单位", "研判", "回应链接", "办结情况"],
               [[c["id"], LEVEL_NAMES.get(c["level"], c["level"]), c["state"], c["unit"], c["verdict"],
                 c["response_url"], _clip(c["summary"])] for c in data.get("cases", [])])
        _sheet(wb, "主要观点", ["来源", "时间", "内容"], [[p["source"], local(p["ts"]), _clip(p["excerpt"])] for p in data["posts_shown"]])
        if data.get("trace"):  # 传播与溯源: each source's first post, then the posts that reached furthest
            t = data["trace"]
            _sheet(wb, "传播与溯源", ["类别", "时间", "距首发", "来源", "帖子", "转评赞", "链接"],
                   [["跟进", local(s["ts"]), s["after"], s["source"], _clip(s["title"] or s["excerpt"]), s["reach"],
                     safe_url(s["url"]) or ""] for s in t["pickup"]]
                   + [["传播最广", local(p["ts"]), p["after"], p["source"], _clip(p["title"] or p["excerpt"]), p["reach"],
                       safe_url(p["url"]) or ""] for p in t["top"]])
    else:
        o = data["overview"]
        _sheet(wb, "概况", ["项目", "本期", data["prev_name"]], [
            ["摘要", data["summary"], ""], ["信息总量", o["posts"], o["prev"]["posts"]],
            ["负面信息", o["negative"], o["prev"]["negative"]],
            ["负面占比", o["negative_share"], o["prev"]["negative_share"]]])
        al = data["disposal"]["alerts"]
        _sheet(wb, "预警与处置", ["级别", "新立案", "已回应", "已办结", "超期", "发出预警"],
               [[LEVEL_NAMES.get(k, k), v["opened"], v["responded"], v["closed"], v["overdue"], al["by_level"].get(k, 0)]
                for k, v in data["disposal"]["levels"].items()])
        _sheet(wb, "案件", ["编号", "级别", "标题", "立案", "承办单位", "研判", "状态", "回应时限", "回应", "办结时限", "办结", "超期"],
               [[c["id"], LEVEL_NAMES.get(c["level"], c["level"]), _clip(c["title"]), local(c["opened_at"]), c["unit"],
                 c["verdict"], c["state"], local(c["respond_due"]), local(c["responded_at"]), local(c["close_due"]),
                 local(c["closed_at"]),
                 "是" if c["overdue"] else "否"] for c in data["disposal"]["cases"]])
        _sheet(wb, "热点事件", ["编号", "事件", "热度", "信息", "负面", "负面占比", "互动", "来源", "关键词"],
               [[e["id"], _clip(e["title"]), e["heat"], e["posts"], e["negative"], e["negative_share"], e["engagement"],
                 "、".join(e["sources"]), "、".join(e["keywords"])] for e in data["events"]])
        if data.get("reach"):
            _sheet(wb, "传播", ["编号", "来源", "时间", "帖子", "转评赞", "转发", "评论", "点赞", "链接"],
                   [[p["id"], p["source"], local(p["ts"]), _clip(p["title"] or p["excerpt"]), p["reach"], p["reposts"],
                     p["comments"], p["likes"], safe_url(p["url"]) or ""] for p in data["reach"]])
        _sheet(wb, "负面信息", ["话题", "编号", "来源", "时间", "内容", "互动"],
               [[g["topic"], p["id"], p["source"], local(p["ts"]), _clip(p["excerpt"]), p["engagement"]]
                for g in data["negative_groups"] for p in g["posts"]])
        for key, title in (("topics", "话题分布"), ("sources", "来源分布")):
            _sheet(wb, title, [title[:2], "信息", "负面", "负面占比", f"{data['prev_name']}信息", "变化"],
                   [[_clip(r["name"]), r["posts"], r["negative"], r["negative_share"], r["prev_posts"], r["change"]]
                    for r in data[key]])
        _sheet(wb, "趋势", ["时间", "信息", "负面"], [[b["label"], b["posts"], b["negative"]] for b in data["trend"]])
        _sheet(wb, "信源健康", ["信源", "状态", "连续失败", "说明"],
               [[s["name"], HEALTH_NAMES.get(s["state"], s["state"]), s["failures"], s["last_error"] or "一天以上无新信息"]
                for s in data["health"]["problems"]])
        if data["health"].get("coverage"):
            _sheet(wb, "采集量", ["信源", "本期", "常量（前7期中位数）", "明显偏少"],
                   [[r["name"], r["posts"], r["usual"], "是" if r["low"] else ""] for r in data["health"]["coverage"]["rows"]])
    ws = wb.create_sheet("帖子")
    _head(ws, POST_HEAD)
    save_with_rows(wb, "帖子", post_rows(posts, source_title, tz), path)
    return path
