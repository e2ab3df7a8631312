"""The `yuqing` command line: a thin click layer over the library.

Every command's help ends with an example (a test checks it). Commands of each stage live beside
the stage (`yuqing/<stage>/commands.py`) and are registered here, so the stages stay separate.
Exit status: 0 success, 1 a run that failed, 2 bad usage or bad config.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from yuqing import __version__, settings as settings_mod
from yuqing.errors import ConfigError, StoreError, YuqingError

logger = logging.getLogger(__name__)


@dataclass
class App:
    """What every command gets: the config path, lazily loaded settings and store."""

    config_path: Path
    _settings: settings_mod.Settings | None = None
    _stores: list[Any] = field(default_factory=list)

    @property
    def settings(self) -> settings_mod.Settings:
        if self._settings is None:
            try:
                self._settings = settings_mod.load(self.config_path)
            except ConfigError as exc:
                fail(f"config error: {exc}", 2)
        return self._settings  # type: ignore[return-value]

    def store(self, readonly: bool = False, create: bool = False):
        """The store; only `init` (and run, crawl, which open it themselves) may create it."""
        from yuqing.store import Store

        try:
            store = Store(self.settings.db_path, readonly=readonly, create=create)
        except StoreError as exc:
            fail(str(exc), 1)
        self._stores.append(store)
        return store


def fail(message: str, code: int = 1) -> None:
    """Print an error in words and exit with `code` (2 = bad usage/config)."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


pass_app = click.make_pass_decorator(App)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("scrapy", "twisted", "jieba", "filelock"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class _Group(click.Group):
    """Turns yuqing's own errors into a sentence and the documented exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(f"config error: {exc}", 2)
        except YuqingError as exc:
            fail(str(exc), 1)
        except sqlite3.OperationalError as exc:
            fail(f"the store could not be used: {exc}", 1)
        except sqlite3.DatabaseError as exc:  # damage found mid-command (a page overwritten)
            fail(f"the store is damaged: {exc}; `yuqing status` checks it, restore it from a backup", 1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_path", envvar="YUQING_CONFIG", default="yuqing.toml",
              show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (or set YUQING_CONFIG).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="yuqing")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, verbose: int) -> None:
    """yuqing: public-opinion monitoring (舆情监测) for a local office.

    Crawls public sources for posts about your locality, tags their topics and
    sentiment, alerts on negative spikes and writes a daily digest.

    Example:

    \b
        yuqing --config yuqing.toml crawl
    """
    _setup_logging(verbose)
    ctx.obj = App(config_path=config_path)

    @ctx.call_on_close
    def _close() -> None:
        for store in ctx.obj._stores:
            store.close()


@cli.command()
@pass_app
def init(app: App) -> None:
    """Create (or upgrade) the store named in the config.

    Example:

    \b
        yuqing --config yuqing.toml init
    """
    store = app.store(create=True)
    store.sync_sources(app.settings.sources)
    click.echo(f"store ready: {store.path} (schema {store.version}, {store.count_posts()} posts)")


@cli.command()
@pass_app
def check(app: App) -> None:
    """Validate the config and list the sources it defines.

    Exits 2 with the key path when something is wrong, a file the config names is missing too.

    Example:

    \b
        yuqing --config yuqing.toml check
    """
    from yuqing.crawlers.commands import source_notes

    s = app.settings
    missing = settings_mod.missing_files(s)
    for key, path in missing:
        click.echo(f"config error: {key}: file not found: {path} (relative paths start from the config file's folder)", err=True)
    if missing:
        raise SystemExit(2)
    click.echo(f"config ok: {app.config_path}")
    click.echo(f"locality: {s.locality.name}" + (f" (aliases: {', '.join(s.locality.aliases)})" if s.locality.aliases else ""))
    click.echo(f"store: {s.db_path}")
    if not s.sources:
        click.echo("no sources configured")
    for src in s.sources:
        rhythm = f"cron {src.cron}" if src.cron else f"every {_human(src.every)}"
        state = "" if src.enabled else " (disabled)"
        target = src.url or src.keyword or src.forum or src.fid or "(preset default)"
        click.echo(f"  {src.name:20} {src.type:7} {rhythm:16} {target}{state}")
        for note in source_notes(src):
            click.echo(f"  {'':20} note: {note}")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Show each source's health, the backlog, the daemon's jobs and the last digest.

    Works whether or not the daemon is running.

    Example:

    \b
        yuqing --config yuqing.toml status
    """
    from yuqing.status import collect, render

    store = app.store()
    problems = store.check_integrity()
    if problems:  # nothing else is worth reading from a damaged store: say so, exit 1
        words = (f"store {store.path} is DAMAGED (PRAGMA quick_check: {'; '.join(problems[:5])}); "
                 "stop the daemon and restore it from a backup")
        click.echo(json.dumps({"store": str(store.path), "integrity": problems}, ensure_ascii=False, indent=2)
                   if as_json else f"Error: {words}", err=not as_json)
        raise SystemExit(1)
    report = collect(app.settings, store)
    report["integrity"] = "ok"
    click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else render(report))


def _register() -> None:
    """Add the stages' commands (imported here so `yuqing --help` lists them all)."""
    from yuqing.alerts.commands import commands as alert_commands
    from yuqing.analysis.commands import commands as analysis_commands
    from yuqing.crawlers.commands import commands as crawl_commands
    from yuqing.crawlers.engines.commands import commands as engine_commands
    from yuqing.digest.commands import commands as digest_commands
    from yuqing.daemon.commands import commands as daemon_commands
    from yuqing.digest.report_commands import commands as report_commands
    from yuqing.delivery.commands import commands as delivery_commands

    from yuqing.cases.commands import commands as case_commands
    from yuqing.store.commands import commands as store_commands

    for group in (crawl_commands, analysis_commands, alert_commands, case_commands, digest_commands, daemon_commands,
                  report_commands, delivery_commands, engine_commands, store_commands):
        for command in group:
            cli.add_command(command)


_register()
