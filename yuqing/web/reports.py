"""The web app's reports: the archive by kind (日报/周报/月报/专报), one report as a page, its
downloads (html, docx, pdf, xlsx), the trend page across days, and the search results as CSV/xlsx.

Everything here reads: a report not yet built is collected live from the store (read-only) and its
files are written into a temporary folder, streamed, then removed; a report the daemon built is
served from its stored files. At most BUILDS documents are built at once, since each runs Chromium.
Downloads are streamed (the app sends an iterable chunked), so a 100,000-row export never sits in
memory whole.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from yuqing.digest import export as ex
from yuqing.digest import report, report_charts, report_html, report_special
from yuqing.digest.charts import timeline
from yuqing.digest.report import FORMATS, PERIOD_NAMES, ReportError
from yuqing.digest.report_trend import SPANS, collect_trend
from yuqing.errors import YuqingError
from yuqing.models import LABELS
from yuqing.store import reports as q
from yuqing.web.app import HTTPError, Request, Response, WebApp

logger = logging.getLogger(__name__)

BUILDS = threading.BoundedSemaphore(2)
CHUNK = 64 * 1024
KIND_NAMES = {"day": "日报", "week": "周报", "month": "月报", "event": "专报"}
MIME = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _page(app: WebApp, req: Request, template: str, **ctx: Any) -> Response:
    from yuqing.web.views import page

    return page(app, req, template, **ctx)


def _today(app: WebApp) -> date:
    return datetime.now(ZoneInfo(app.settings.digest.timezone)).date()


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPError(400, f"{what}不是有效日期（应为 YYYY-MM-DD）：{value[:40]}") from None


def attachment(name: str, title: str | None = None) -> tuple[str, str]:
    """Content-Disposition for a download: an ASCII name, and the Chinese title for browsers that read it."""
    value = f'attachment; filename="{name}"'
    if title:
        value += f"; filename*=UTF-8''{quote(title + Path(name).suffix)}"
    return ("Content-Disposition", value)


# -- the archive ---------------------------------------------------------------------------------
def archive(app: WebApp, req: Request) -> Response:
    with app.reader() as store:
        stored = q.report_index(store)
        days = q.digest_index(store, 60)
        events = q.event_choices(store, 20)
        last = q.last_post_ts(store)
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in KIND_NAMES}
    for r in stored:
        r["href"] = f"/report/{r['kind']}/{r['ref']}"
        groups.setdefault(r["kind"], []).append(r)
    shown = {r["ref"] for r in groups["day"]}
    for d in days:  # the daily digests are the 日报: each one opens as a report too
        if d["date"] not in shown:
            groups["day"].append({"kind": "day", "ref": d["date"], "title": f"{d['date']} 日报", "built_at": d["built_at"],
                                  "posts": d["posts"], "share": d["share"], "href": f"/report/day/{d['date']}",
                                  "digest": f"/digest/{d['date']}"})
    groups["day"].sort(key=lambda r: r["ref"], reverse=True)
    tz = ZoneInfo(app.settings.digest.timezone)
    end = datetime.fromisoformat(last).astimezone(tz).date() if last else _today(app)
    return _page(app, req, "reports", title="报告", groups=groups, kinds=KIND_NAMES, events=events, formats=FORMATS,
                 end=end.isoformat(), monday=(end - timedelta(days=end.weekday() + 1)).isoformat())


def build_link(app: WebApp, req: Request) -> Response:
    """The archive's form: a period kind and its last day (or an event) -> the report's address."""
    kind = req.query.get("kind", "")
    if kind == "event":
        event = req.query.get("event", "").strip()
        if not event.isdigit():
            raise HTTPError(400, "请选择一个事件。")
        return Response.redirect(f"/report/event/{int(event)}")
    if kind not in PERIOD_NAMES:
        raise HTTPError(400, "报告类型必须是 日报、周报、月报 或 专报。")
    period = report.period_ending(kind, _date(req.query.get("end", ""), "截止日期"))
    return Response.redirect(f"/report/{kind}/{period.ref}")


# -- one report ----------------------------------------------------------------------------------
def _data(app: WebApp, kind: str, ref: str) -> tuple[dict[str, Any], list[str]]:
    """The report's data and stored files: as built by the daemon, else collected now."""
    with app.reader() as store:
        row = q.get_report(store, kind, ref)
        if row:
            return json.loads(row["data"]), json.loads(row["files"] or "[]")
        number = ref[5:] if ref.startswith("case-") else ref
        if kind == "event" and number.isdigit() and int(number) >= 2**63:  # no SQLite id is that large
            raise HTTPError(404, f"专报 {ref[:40]} 不存在。")
        try:
            if kind == "event":
                if ref.startswith("case-") and ref[5:].isdigit():
                    return report_special.collect_case(app.settings, store, int(ref[5:])), []
                if ref.isdigit():
                    return report_special.collect_event(app.settings, store, int(ref)), []
                raise HTTPError(404, f"专报编号无效：{ref[:40]}")
            last = _date(ref.rsplit("_", 1)[-1], "报告日期")
            period = report.period_ending(kind, last)
            if period.ref != ref:
                raise HTTPError(404, f"没有这样的{KIND_NAMES[kind]}：{ref[:40]}（应为 {period.ref}）")
            return report.collect_period(app.settings, store, period), []
        except ReportError as exc:
            raise HTTPError(404, str(exc)) from None


def view(app: WebApp, req: Request) -> Response:
    data, _ = _data(app, req.params["kind"], req.params["ref"])
    return Response(report_html.page(data, web=True, formats=FORMATS, user=req.user, csrf=app.csrf(req)))


def _file_chunks(path: Path, cleanup: Path | None = None) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)


def download(app: WebApp, req: Request) -> Response:
    kind, ref, fmt = req.params["kind"], req.params["ref"], req.params["fmt"]
    data, files = _data(app, kind, ref)
    from yuqing.digest.publish import file_stem, write_files

    name = f"{file_stem(data)}.{fmt}"
    headers = [attachment(name, data["title"])]
    for stored in files:
        path = Path(stored)
        if path.name == name and path.is_file():
            return Response(_file_chunks(path), content_type=MIME[fmt], headers=headers)
    if not BUILDS.acquire(blocking=False):
        raise HTTPError(503, "正在生成其他报告，请稍后再试。")
    folder = Path(tempfile.mkdtemp(prefix="yuqing-web-report-"))
    try:
        with app.reader() as store:
            paths = write_files(app.settings, store, data, [fmt], folder)
    except (YuqingError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        logger.warning("report %s %s as %s failed: %s", kind, ref, fmt, exc)
        raise HTTPError(503, f"无法生成 {fmt.upper()}：{exc}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        BUILDS.release()
    return Response(_file_chunks(paths[0], folder), content_type=MIME[fmt], headers=headers)


# -- the trend page ------------------------------------------------------------------------------
def trend(app: WebApp, req: Request) -> Response:
    raw = req.query.get("days", "30")
    if raw not in {str(s) for s in SPANS}:
        raise HTTPError(400, f"天数必须是 {' 或 '.join(str(s) for s in SPANS)}。")
    with app.reader() as store:
        last = q.last_post_ts(store)
        tz = ZoneInfo(app.settings.digest.timezone)
        default = datetime.fromisoformat(last).astimezone(tz).date() if last else _today(app)
        end = _date(req.query["end"], "截止日期") if req.query.get("end") else default
        t = collect_trend(app.settings, store, int(raw), end)
    charts = {
        "volume": timeline(t["totals"], title=f"每日信息量（近 {t['span']} 天，红色为负面）"),
        "share": report_charts.lines(t["labels"], [("全部", t["shares"])], title="每日负面占比"),
        "topics": report_charts.lines(t["labels"], [(r["name"], r["shares"]) for r in t["topics"][:6]],
                                      title="主要话题每日负面占比"),
        "sources": report_charts.lines(t["labels"], [(r["name"], r["shares"]) for r in t["sources"][:6]],
                                       title="主要来源每日负面占比"),
    }
    for key in ("topics", "sources"):
        for r in t[key]:
            r["spark"] = report_charts.spark(r["points"], title=f"{r['name']} 每日信息量")
    return _page(app, req, "trend", title=f"趋势（近 {t['span']} 天）", t=t, charts=charts, spans=SPANS,
                 end=end.isoformat())


# -- search results as a file --------------------------------------------------------------------
class Capped:
    """At most `cap` rows of `rows`; `more` tells whether any were left out."""

    def __init__(self, rows: Iterable[tuple[Any, ...]], cap: int) -> None:
        self.rows, self.cap, self.more = rows, cap, False

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for n, row in enumerate(self.rows):
            if n >= self.cap:
                self.more = True
                return
            yield row


def _xlsx_chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """A workbook needs seeking to finish its zip: built in a spooled file (on disk past 8 MB), then sent."""
    from yuqing.digest.report_xlsx import write_posts

    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as tmp:
        write_posts(rows, tmp)
        tmp.seek(0)
        while chunk := tmp.read(CHUNK):
            yield chunk


def search_rows(app: WebApp, query: dict[str, str]) -> Iterator[tuple[Any, ...]]:
    """The posts the search page shows for `query` (newest first), as export rows; HTTPError on bad input."""
    from yuqing.analysis.segment import fts_query
    from yuqing.digest.builder import day_bounds

    text = query.get("q", "").strip()[:200]
    label = query.get("label", "")
    if label and label not in LABELS:
        raise HTTPError(400, f"情感筛选必须是 {' / '.join(LABELS)} 之一。")
    since = day_bounds(app.settings, _date(query["since"], "起始日期"))[0] if query.get("since") else None
    until = day_bounds(app.settings, _date(query["until"], "截止日期"))[1] if query.get("until") else None
    expr = fts_query(text) if text else None
    if text and not expr:
        return iter(())
    with app.reader() as store:  # iter_posts reads on a connection of its own
        return q.iter_posts(store, since=since, until=until, topic=query.get("topic") or None, label=label or None,
                            source=query.get("source") or None, fts=expr, newest_first=True, limit=ex.MAX_ROWS)


def search_export(app: WebApp, req: Request) -> Response:
    fmt = req.params["fmt"]
    rows = search_rows(app, req.query)
    capped = Capped(rows, ex.MAX_ROWS)
    name = f"posts-{_today(app).isoformat()}.{fmt}"
    body = ex.csv_chunks(capped) if fmt == "csv" else _xlsx_chunks(capped)
    return Response(_closing(body, rows), content_type=MIME[fmt], headers=[attachment(name, "搜索结果")])


def _closing(chunks: Iterator[bytes], rows: Iterator[Any]) -> Iterator[bytes]:
    """The chunks, then the rows' cursor closed, also when the client goes away halfway."""
    try:
        yield from chunks
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


def export_link(query: dict[str, str], fmt: str) -> str:
    keep = {k: v for k, v in query.items() if k in ("q", "since", "until", "source", "topic", "label") and v}
    return f"/search/export.{fmt}?{urlencode(keep)}"


ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", r"/reports", archive, "read"),
    ("GET", r"/reports/build", build_link, "read"),
    ("GET", r"/report/(?P<kind>day|week|month|event)/(?P<ref>[0-9A-Za-z_-]{1,40})\.(?P<fmt>html|docx|pdf|xlsx)",
     download, "read"),
    ("GET", r"/report/(?P<kind>day|week|month|event)/(?P<ref>[0-9A-Za-z_-]{1,40})", view, "read"),
    ("GET", r"/trend", trend, "read"),
    ("GET", r"/search/export\.(?P<fmt>csv|xlsx)", search_export, "read"),
]

