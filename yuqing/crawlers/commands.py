"""CLI commands of the crawl stage: `yuqing crawl [SOURCE...]` and the hidden child `crawl-source`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import click

from yuqing.models import CrawlStats
from yuqing.text import columns, pad

logger = logging.getLogger(__name__)


def source_notes(src: Any) -> list[str]:
    """What a configured source still needs before its site will answer (shown by `yuqing check`)."""
    if not src.enabled:
        return []
    cookies = src.cookies or ""
    if src.type == "tieba" and src.forum and not src.keyword and "/" not in (src.url.split("://", 1)[-1].rstrip("/")):
        if not re.search(r"(^|[;\s])BDUSS=", cookies):
            return ['needs cookies = "BDUSS=..." (your own Baidu login): Tieba forum lists now come only from '
                    "its signed client API; or use RSSHub's /baidu/tieba/forum route (README, Sources)"]
    if src.type == "weibo" and not cookies:
        return ["has no cookie: m.weibo.cn search mostly answers \"login required\" without one (README, Sources)"]
    return []


def stats_header(width: int) -> list[str]:
    head = f"{pad('source', width)}  {'fetched':>7}  {'matched':>7}  {'new':>5}  {'duplicates':>10}  {'errors':>6}  status"
    return [head, "-" * len(head)]


def stats_row(s: CrawlStats, width: int, title: Callable[[str], str] = str) -> str:
    """One source's line; `title` gives the name people know it by (Settings.source_title)."""
    status = "ok" if s.ok else "stopped" if s.stopped else "FAILED"
    return f"{pad(title(s.source), width)}  {s.fetched:>7}  {s.matched:>7}  {s.new:>5}  {s.duplicates:>10}  {s.errors:>6}  {status}"


def render_stats(results: list[CrawlStats], title: Callable[[str], str] = str) -> str:
    """The per-source summary table, then each failed source's error in words."""
    width = max([len("source")] + [columns(title(s.source)) for s in results])
    lines = stats_header(width) + [stats_row(s, width, title) for s in results]
    lines += [f"{title(s.source)}: {s.error}" for s in results if not s.ok]
    return "\n".join(lines)


class Progress:
    """The table printed a line at a time, as each source finishes; on a terminal, a progress
    line below it ("2/5 done, running…") that the next line overwrites."""

    def __init__(self, names: list[str], title: Callable[[str], str] = str) -> None:
        import sys

        self.title = title
        self.width = max([len("source")] + [columns(title(n)) for n in names])
        self.total = len(names)
        self.done = 0
        self.tty = sys.stdout.isatty()
        self._emit("\n".join(stats_header(self.width)))
        self._status()

    def _emit(self, line: str) -> None:
        import sys

        if self.tty:
            click.echo("\r\033[K", nl=False)
        click.echo(line)
        sys.stdout.flush()  # a pipe buffers: whoever reads us sees each line as it happens

    def _status(self) -> None:
        if self.tty and self.done < self.total:
            click.echo(f"… {self.done}/{self.total} done, crawling", nl=False)

    def finished(self, stats: CrawlStats) -> None:
        self.done += 1
        self._emit(stats_row(stats, self.width, self.title))
        self._status()


@click.command("crawl")
@click.argument("sources", nargs=-1)
@click.pass_obj
def crawl(app, sources: tuple[str, ...]) -> None:
    """Crawl sources now, each in its own process, and print what each did.

    With no SOURCE, every enabled source is crawled. Prints fetched / matched /
    new / duplicates / errors per source as each one finishes, then each failure
    in words; exits 1 when any source failed, 2 for an unknown source name.

    Example:

    \b
        yuqing --config yuqing.toml crawl
        yuqing --config yuqing.toml crawl county-news weibo
    """
    from yuqing.cli import fail
    from yuqing.crawlers.runner import crawl_sources

    settings = app.settings
    known = {s.name for s in settings.sources}
    unknown = [name for name in sources if name not in known]
    if unknown:
        fail(f"unknown source {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known)) or 'none configured'})", 2)
    if not sources and not any(s.enabled for s in settings.sources):
        click.echo("no enabled sources to crawl (see `yuqing check`)")
        return
    names = list(dict.fromkeys(sources)) or [s.name for s in settings.sources if s.enabled]
    progress = Progress(names, settings.source_title)
    results = crawl_sources(settings, names, on_done=progress.finished)
    for s in results:
        if not s.ok:
            click.echo(f"{settings.source_title(s.source)}: {s.error}")
    if any(not s.ok for s in results):
        raise SystemExit(1)


@click.command("crawl-source", hidden=True)
@click.argument("name")
@click.option("--timeout", type=float, default=None, help="the run's time limit in seconds (default: the source's)")
@click.option("--run-id", type=int, default=None, help="the crawl_runs row to finish if the parent is gone")
@click.option("--parent-pid", type=int, default=None, help="the process waiting for this one")
@click.pass_obj
def crawl_source(app, name: str, timeout: float | None, run_id: int | None, parent_pid: int | None) -> None:
    """Internal: crawl one source in this process and print its stats as one JSON line.

    `yuqing crawl` runs this as a child process; use `crawl` instead.

    Example:

    \b
        yuqing --config yuqing.toml crawl-source county-news
    """
    import os
    import sys

    from yuqing.crawlers.runner import run_source, stats_line

    stats = run_source(app.settings, name, timeout=timeout, run_id=run_id, parent_pid=parent_pid)
    try:
        click.echo(stats_line(stats))
        sys.stdout.flush()
    except OSError:  # an orphan: nobody reads the pipe any more (the run is recorded already)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


commands: list[click.Command] = [crawl, crawl_source]
