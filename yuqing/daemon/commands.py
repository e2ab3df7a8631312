"""CLI of the daemon: `yuqing run` (and `yuqing demo`, which drives a real daemon on a sample site)."""

from __future__ import annotations

import logging
import logging.handlers
from typing import Any

import click

from yuqing.demo.walkthrough import demo_command
from yuqing.scheduler import Daemon
from yuqing.settings import Settings, parse_duration


def setup_logging(settings: Settings) -> None:
    """Readable console logs at `[daemon] log_level`, plus a rotating file if `log_file` is set."""
    level = getattr(logging, settings.daemon.log_level.upper(), logging.INFO)
    root = logging.getLogger()
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(fmt)
        handler.setLevel(level)
    root.setLevel(level)
    if settings.daemon.log_file:
        path = settings.path(settings.daemon.log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=10 * 1024**2, backupCount=5, encoding="utf-8")
        handler.setFormatter(fmt)
        handler.setLevel(level)
        root.addHandler(handler)
    # APScheduler logs every job start and end at INFO: the daemon logs what matters itself
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    for noisy in ("scrapy", "twisted", "jieba", "filelock", "apprise"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@click.command("run")
@click.option("--for", "duration", metavar="DURATION", default=None,
              help="Stop by itself after this long (e.g. 10m); default: run until stopped.")
@click.pass_obj  # the cli's App (not imported here: yuqing.cli imports this module)
def run_command(app: Any, duration: str | None) -> None:
    """Run the daemon in the foreground: scheduled crawls, analysis, alerts, the daily digest.

    Logs go to the console (and to [daemon] log_file, rotated). Ctrl-C or SIGTERM stops it
    cleanly: running crawls are stopped, nothing half-written, exit 0. Only one daemon may run
    on a store; a second one exits 1 naming the process that holds it.

    Example:

    \b
        yuqing --config yuqing.toml run
    """
    from yuqing.cli import fail
    from yuqing.errors import ConfigError

    settings = app.settings
    seconds = None
    if duration:
        try:
            seconds = parse_duration(duration, "--for")
        except ConfigError as exc:
            fail(str(exc), 2)
    setup_logging(settings)
    raise SystemExit(Daemon(settings).run(duration=seconds))


commands: list[click.Command] = [run_command, demo_command]
