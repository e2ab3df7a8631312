"""CLI commands of the digest stage: `digest`, `serve`, `user add|list` (registered by yuqing.cli)."""

from __future__ import annotations

import logging
import sys
from datetime import date

import click

from yuqing.cli import App, fail, pass_app

logger = logging.getLogger(__name__)


@click.command()
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day to build (default: yesterday in [digest] timezone).")
@click.option("--no-send", is_flag=True, help="Build and store the digest but do not queue the email.")
@pass_app
def digest(app: App, day: str | None, no_send: bool) -> None:
    """Build the daily digest (舆情日报) of one day, store it, write its page and queue the email.

    Rebuilding a day replaces its digest; the email is queued once per day and channel.

    Example:

        yuqing --config yuqing.toml digest --date 2024-05-01
    """
    from yuqing.digest.builder import build_digest

    parsed = None
    if day:
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            fail(f"--date: expected a date like 2024-05-01, got {day!r}", 2)
    store = app.store()
    path = build_digest(app.settings, store, parsed, send=not no_send)
    click.echo(f"digest written: {path}")


@click.command()
@click.option("--bind", metavar="HOST:PORT", help="Address to listen on (default: [web] bind, 127.0.0.1:8080).")
@pass_app
def serve(app: App, bind: str | None) -> None:
    """Serve the digests, events, alerts and search as a web app.

    Browsing is open on localhost when [web] open_read is true; acknowledging alerts and
    correcting posts always need a login (see `yuqing user add`).

    Example:

        yuqing --config yuqing.toml serve --bind 127.0.0.1:8080
    """
    from yuqing.web.app import parse_bind, serve as run

    try:
        host, port = parse_bind(bind or app.settings.web.bind)
    except ValueError as exc:
        fail(f"--bind: {exc}" if bind else f"config error: web.bind: {exc}", 2)
    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)")
    try:
        run(app.settings, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1)


@click.group()
def user() -> None:
    """Manage the analysts who may log in to the web app.

    Example:

        yuqing --config yuqing.toml user add zhang
    """


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--replace", is_flag=True, help="Set a new password for an existing user.")
@pass_app
def user_add(app: App, name: str, password_stdin: bool, replace: bool) -> None:
    """Add a user (or, with --replace, change a password); prompts for the password.

    Example:

    \b
        yuqing --config yuqing.toml user add zhang
        echo 's3cret-pass' | yuqing --config yuqing.toml user add li --password-stdin
    """
    from yuqing.web.auth import AuthError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(app.store(), name, password, replace=replace)
    except AuthError as exc:
        fail(str(exc), 2)
    click.echo(f"user {name} {'updated' if replace else 'added'}")


@user.command("list")
@pass_app
def user_list(app: App) -> None:
    """List the users and when they were created.

    Example:

        yuqing --config yuqing.toml user list
    """
    for row in app.store().query("SELECT name, created_at FROM users ORDER BY name"):
        click.echo(f"{row['name']:20} {row['created_at']}")


commands: list[click.Command] = [digest, serve, user]
