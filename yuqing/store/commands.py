"""CLI of the store: `yuqing store migrate --to postgresql://...` (the click layer over store/copy.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from yuqing.cli import App, pass_app
from yuqing.errors import ConfigError
from yuqing.store.url import StoreURL, parse

logger = logging.getLogger(__name__)


@click.group("store")
def store_group() -> None:
    """Manage the store itself (copy it to another backend).

    Example:

    \b
        yuqing --config yuqing.toml store migrate --to postgresql://yuqing@127.0.0.1/yuqing
    """


@store_group.command("migrate")
@click.option("--to", "target", required=True, metavar="URL",
              help="The PostgreSQL store to copy into: postgresql://USER@HOST:PORT/DB.")
@click.option("--from", "source", default=None, metavar="PATH",
              help="The SQLite file to copy (default: the config's [store]).")
@click.option("--chunk", default=2000, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per transaction.")
@pass_app
def migrate_command(app: App, target: str, source: str | None, chunk: int) -> None:
    """Copy a SQLite store into PostgreSQL, resumably, and check the counts.

    Interrupted, run it again: it resumes after the last chunk it committed. At the end every
    copied table must hold as many rows in PostgreSQL as in SQLite. Then set `[store] url` to
    the PostgreSQL url. Stop the daemon first.

    Example:

    \b
        yuqing --config yuqing.toml store migrate --to postgresql://yuqing@127.0.0.1/yuqing
    """
    from yuqing.store.copy import copy_store, describe, open_pair

    try:
        to = parse(target, key="--to")
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if not isinstance(to, StoreURL):
        raise click.UsageError(f"--to: expected a postgresql:// url, got {target!r}")
    if source is not None:
        src: Path | StoreURL = parse(f"sqlite:///{Path(source).expanduser().resolve()}", key="--from")
    else:
        src = app.settings.db_path
    if isinstance(src, StoreURL):  # only the config's store can be one: --from is read as sqlite:///
        raise click.UsageError("the config's store is PostgreSQL already: give the SQLite file with --from PATH")
    if not Path(src).exists():
        raise click.UsageError(f"no SQLite store at {src}")
    shown: dict[str, int] = {}

    def progress(table: str, copied: int, total: int) -> None:
        if shown.get(table) != copied and (copied == total or copied - shown.get(table, 0) >= 50_000):
            click.echo(f"  {table}: {copied}/{total}", err=True)
            shown[table] = copied

    pair = open_pair(src, to)
    app._stores.extend(pair)
    report = copy_store(pair[0], pair[1], chunk=chunk, progress=progress)
    for line in describe(report):
        click.echo(line)
    click.echo(f"copied {src} into {to}: counts match" + (" (resumed)" if report.resumed else ""))


commands = [store_group]
