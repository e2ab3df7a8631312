"""Build a report's files (html, docx, pdf, xlsx), record it, and mail the weekly and monthly ones.

A report is recorded in `reports` by (kind, ref); its email goes through the outbox, queued once per
(kind, ref, channel), so a daemon restarted on a Monday neither builds nor mails last week's 周报 twice.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.digest import report, report_html, report_special
from yuqing.digest.report import FORMATS, Period, ReportError
from yuqing.errors import YuqingError
from yuqing.models import utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import reports as q

logger = logging.getLogger(__name__)

XLSX_MAX_POSTS = 1_048_000  # Excel shows at most 1,048,576 rows a sheet


def file_stem(data: dict[str, Any]) -> str:
    return f"report-{data['kind']}-{data['ref']}"


def check_out(out: Path) -> Path:
    """The output folder, created; ReportError in words when it cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".yuqing-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise ReportError(f"cannot write reports into {out}: {exc.strerror or exc}") from None
    return out


class ReportIncomplete(ReportError):
    """Some formats were written, others failed (Chromium crashed, the disk filled): `paths` holds
    what was written, `problems` one sentence per format that was not."""

    def __init__(self, paths: list[Path], problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.paths, self.problems = paths, problems
        self.data: dict[str, Any] = {}


def write_files(settings: Settings, store: Store, data: dict[str, Any], formats: list[str], out: Path) -> list[Path]:
    """Each format of the report into `out`; ReportIncomplete (with the files written) if any failed.

    A format that fails does not stop the others: a Monday's 周报 without its PDF still goes out as
    Word and Excel.
    """
    for fmt in formats:
        if fmt not in FORMATS:
            raise ReportError(f"unknown format {fmt!r} (html, docx, pdf or xlsx)")
    check_out(out)
    stem = file_stem(data)
    paths: list[Path] = []
    problems: list[str] = []
    html_path = out / f"{stem}.html"
    fresh = False  # the PDF prints this build's page, never one an earlier build left in `out`
    for fmt in [f for f in FORMATS if f in formats]:
        try:
            if fmt in ("html", "pdf") and not fresh:
                tmp = html_path.with_name(f".{html_path.name}.{os.getpid()}.tmp")
                tmp.write_text(report_html.page(data), encoding="utf-8")
                os.replace(tmp, html_path)
                fresh = True
            if fmt == "html":
                paths.append(html_path)
            elif fmt == "docx":
                paths.append(_docx(data, out / f"{stem}.docx"))
            elif fmt == "pdf":
                from yuqing.digest.report_pdf import html_to_pdf

                paths.append(html_to_pdf(html_path, out / f"{stem}.pdf"))
            else:
                paths.append(_xlsx(settings, store, data, out / f"{stem}.xlsx"))
        except (YuqingError, OSError) as exc:
            logger.warning("report %s %s as %s failed: %s", data["kind"], data["ref"], fmt, exc)
            problems.append(f"{fmt}: {exc}")
    if "pdf" in formats and "html" not in formats:
        html_path.unlink(missing_ok=True)
    if problems:
        raise ReportIncomplete(paths, problems)
    return paths


def _docx(data: dict[str, Any], path: Path) -> Path:
    from yuqing.digest.report_docx import write_docx
    from yuqing.digest.report_pdf import BrowserError, svg_to_png

    with tempfile.TemporaryDirectory(prefix="yuqing-charts-") as folder:
        try:
            pngs = svg_to_png({k: str(v) for k, v in report_html.svgs(data).items()}, Path(folder))
        except BrowserError as exc:  # no Chromium: the tables carry the figures, the pictures are left out
            logger.warning("charts of %s left out of the docx: %s", path.name, exc)
            pngs = {}
        return write_docx(data, pngs, path)


def _xlsx(settings: Settings, store: Store, data: dict[str, Any], path: Path) -> Path:
    from yuqing.digest.report_xlsx import write_xlsx

    if data["kind"] == "event":
        posts = q.iter_posts(store, event_id=data["id"], limit=XLSX_MAX_POSTS)
    else:
        start, end = report.bounds(settings, date.fromisoformat(data["first"]), date.fromisoformat(data["last"]))
        posts = q.iter_posts(store, since=start, until=end, limit=XLSX_MAX_POSTS)
    return write_xlsx(data, posts, path, settings.source_title)


def build_period(settings: Settings, store: Store, kind: str, end: date, formats: list[str],
                 out: Path | None = None) -> tuple[dict[str, Any], list[Path]]:
    data = report.collect_period(settings, store, report.period_ending(kind, end))
    return _finish(settings, store, data, formats, out)


def build_event(settings: Settings, store: Store, event_id: int, formats: list[str],
                out: Path | None = None) -> tuple[dict[str, Any], list[Path]]:
    return _finish(settings, store, report_special.collect_event(settings, store, event_id), formats, out)


def build_case(settings: Settings, store: Store, case_id: int, formats: list[str],
               out: Path | None = None) -> tuple[dict[str, Any], list[Path]]:
    return _finish(settings, store, report_special.collect_case(settings, store, case_id), formats, out)


def _finish(settings: Settings, store: Store, data: dict[str, Any], formats: list[str],
            out: Path | None) -> tuple[dict[str, Any], list[Path]]:
    folder = out or settings.path(settings.digest.pages)
    try:
        paths = write_files(settings, store, data, formats, folder)
    except ReportIncomplete as exc:
        exc.data = data
        if exc.paths:
            q.save_report(store, data["kind"], data["ref"], data["title"], data, [str(p) for p in exc.paths], utcnow())
        raise
    q.save_report(store, data["kind"], data["ref"], data["title"], data, [str(p) for p in paths], utcnow())
    logger.info("report %s %s written: %s", data["kind"], data["ref"], ", ".join(p.name for p in paths))
    return data, paths


# -- the daemon's jobs ----------------------------------------------------------------------------
def due_periods(settings: Settings, now: datetime) -> list[tuple[Period, datetime]]:
    """The latest 周报 and 月报 whose moment has come by `now`, each with that moment.

    A 周报 is due on Monday at `[digest] at` (local) for the 7 days ending Sunday, a 月报 on the 1st
    at the same hour for the month before. Until the next one is due the latest stays due, so a
    Monday the daemon spent down is caught up when it starts again.
    """
    tz = ZoneInfo(settings.digest.timezone)
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in settings.digest.at.split(":"))
    at = time(hour, minute)
    due = []
    if settings.reports.weekly:
        monday = local.date() - timedelta(days=local.weekday())
        if local < datetime.combine(monday, at, tz):
            monday -= timedelta(days=7)
        due.append((report.period_ending("week", monday - timedelta(days=1)), datetime.combine(monday, at, tz)))
    if settings.reports.monthly:
        first = local.date().replace(day=1)
        if local < datetime.combine(first, at, tz):
            first = (first - timedelta(days=1)).replace(day=1)
        due.append((report.period_ending("month", first - timedelta(days=1)), datetime.combine(first, at, tz)))
    return due


def run_due(settings: Settings, store: Store, now: datetime | None = None) -> list[str]:
    """Build and queue the due reports not mailed yet; returns their refs ("week:2024-04-29_2024-05-05").

    Called by the daemon at `[digest] at` and once at start. What marks a report done is its mail in
    the outbox, not its file: a 周报 the analyst built by hand on Sunday is still mailed on Monday, a
    daemon killed between building and queueing builds it again, and one restarted after queueing
    neither builds nor mails it twice. A store that fetched nothing before the moment a report fell
    due (a new install) does not catch that one up: it was not watching that week.
    """
    done = []
    for period, due_at in due_periods(settings, now or utcnow()):
        if q.report_queued(store, f"report-{period.kind}", period.ref):
            continue
        if not q.fetched_before(store, due_at):
            logger.info("report %s %s not built: nothing was collected before it fell due", period.kind, period.ref)
            continue
        problems: list[str] = []
        try:
            data, paths = build_period(settings, store, period.kind, period.last, list(settings.reports.formats))
        except ReportIncomplete as exc:
            if not exc.paths:
                raise  # nothing to send: tried again at the next [digest] at, or the next start
            data, paths, problems = exc.data, exc.paths, exc.problems
        mail(settings, store, data, paths, problems)
        done.append(f"{period.kind}:{period.ref}")
    return done


def mail(settings: Settings, store: Store, data: dict[str, Any], paths: list[Path],
         problems: list[str] | None = None) -> None:
    from yuqing.delivery.outbox import enqueue
    from yuqing.digest import render

    o = data["overview"]
    subject = f"{data['title']}：{o['posts']} 条，负面 {render.pct(o['negative_share'])}"
    files = "\n".join(f"- {p.name}" for p in paths)
    missing = "".join(f"\n未能生成 {p}" for p in problems or [])
    text = f"{data['title']}\n\n{data['summary']}\n\n附件：\n{files}\n{missing}"
    html = render.env().from_string(
        "<p><b>{{ t }}</b></p><p>{{ s }}</p><p>附件：{{ files|join('、') }}</p>"
        "{% for p in problems %}<p>未能生成 {{ p }}</p>{% endfor %}").render(
        t=data["title"], s=data["summary"], files=[p.name for p in paths], problems=problems or [])
    recipients = list(settings.reports.to) or list(settings.digest.to)
    enqueue(store, settings, kind=f"report-{data['kind']}", ref=data["ref"], subject=subject, html=html, text=text,
            recipients=recipients, attachments=[str(p) for p in paths])
