"""CLI commands `report` and `export posts` (registered by yuqing.cli)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from yuqing.cli import App, fail, pass_app


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date like 2024-05-01, got {value!r}", 2)
    return None


def _formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    names = [f.strip().lower() for f in value.split(",") if f.strip()]
    bad = [f for f in names if f not in allowed]
    if bad or not names:
        fail(f"--format: unknown format {', '.join(bad) or repr(value)} (any of {', '.join(allowed)})", 2)
    return names


@click.command()
@click.option("--period", type=click.Choice(["day", "week", "month"]), help="日报, 周报 (7 days) or 月报 (the calendar month).")
@click.option("--end", metavar="YYYY-MM-DD", help="Last day of the period, inclusive (default: yesterday).")
@click.option("--event", "event_id", type=int, help="A 专报 on this event.")
@click.option("--case", "case_id", type=int, help="A 专报 on this case.")
@click.option("--format", "formats", default="html,docx,pdf,xlsx", show_default=True, help="Comma-separated formats.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for the files (default: [digest] pages).")
@pass_app
def report(app: App, period: str | None, end: str | None, event_id: int | None, case_id: int | None, formats: str,
           out: Path | None) -> None:
    """Write a 周报/月报/日报 or a 专报 as Word, PDF, Excel or HTML and print the files' paths.

    Example:

    \b
        yuqing --config yuqing.toml report --period week --end 2024-05-05 --format docx,pdf --out reports
        yuqing --config yuqing.toml report --event 1 --format docx --out reports
    """
    from yuqing.digest import publish
    from yuqing.digest.report import FORMATS, ReportError

    chosen = sum(x is not None for x in (period, event_id, case_id))
    if chosen != 1:
        fail("give one of --period, --event or --case", 2)
    names = _formats(formats, FORMATS)
    last = _date(end, "--end")
    settings = app.settings
    if last is None:
        last = (datetime.now(ZoneInfo(settings.digest.timezone)) - timedelta(days=1)).date()
    store = app.store()
    try:
        if period:
            _, paths = publish.build_period(settings, store, period, last, names, out)
        elif event_id is not None:
            _, paths = publish.build_event(settings, store, event_id, names, out)
        else:
            _, paths = publish.build_case(settings, store, case_id, names, out)  # type: ignore[arg-type]
    except publish.ReportIncomplete as exc:  # not the user's fault: the files written, then what failed
        for path in exc.paths:
            click.echo(str(path))
        fail("; ".join(exc.problems), 1)
    except ReportError as exc:
        fail(str(exc), 2)
    for path in paths:
        click.echo(str(path))


@click.group()
def export() -> None:
    """Export data from the store.

    Example:

    \b
        yuqing --config yuqing.toml export posts --since 2024-05-01 --format csv --out posts.csv
    """


@export.command("posts")
@click.option("--since", required=True, metavar="YYYY-MM-DD", help="First local day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Last local day, inclusive (default: no end).")
@click.option("--topic", help="Only posts of this topic.")
@click.option("--label", type=click.Choice(["negative", "neutral", "positive"]), help="Only posts with this label.")
@click.option("--source", help="Only posts of this source.")
@click.option("--format", "fmt", default="csv", show_default=True, help="csv (UTF-8 with BOM), xlsx or jsonl.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: standard output).")
@pass_app
def export_posts(app: App, since: str, until: str | None, topic: str | None, label: str | None, source: str | None,
                 fmt: str, out: Path | None) -> None:
    """Export posts (at most 100,000, oldest first) as CSV, Excel or JSON lines.

    Example:

    \b
        yuqing --config yuqing.toml export posts --since 2024-05-01 --label negative --format xlsx --out neg.xlsx
    """
    from yuqing.digest import export as ex
    from yuqing.store.reports import iter_posts

    fmt = _formats(fmt, ex.EXPORT_FORMATS)[0]
    first, last = _date(since, "--since"), _date(until, "--until")
    if last is not None and first is not None and last < first:
        fail("--until: is before --since", 2)
    if fmt == "xlsx" and out is None and sys.stdout.isatty():
        fail("--format xlsx: give --out FILE (a workbook is not for the terminal)", 2)
    tz = ZoneInfo(app.settings.digest.timezone)
    start = datetime.combine(first, time(0), tz)  # type: ignore[arg-type]
    end = datetime.combine(last + timedelta(days=1), time(0), tz) if last else None
    store = app.store(readonly=True)
    rows = iter_posts(store, since=start, until=end, topic=topic, label=label, source=source, limit=ex.MAX_ROWS + 1)
    capped = _Capped(rows, ex.MAX_ROWS)
    if out is None:
        n = ex.write(capped, fmt, sys.stdout.buffer)
    else:
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            with open(tmp, "wb") as fh:
                n = ex.write(capped, fmt, fh)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            fail(f"--out: cannot write {out}: {exc.strerror or exc}", 2)
    if capped.more:
        click.echo(f"note: only the first {ex.MAX_ROWS} posts were exported; narrow the dates or filters", err=True)
    if out is not None:
        click.echo(f"{n} posts written to {out}", err=True)


class _Capped:
    def __init__(self, rows: Iterable[Any], cap: int) -> None:
        self.rows, self.cap, self.more = rows, cap, False

    def __iter__(self) -> Iterator[Any]:
        for n, row in enumerate(self.rows):
            if n >= self.cap:
                self.more = True
                return
            yield row


commands: list[click.Command] = [report, export]
