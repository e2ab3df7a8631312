"""CLI commands of the digest stage: `digest`, `serve`, `user add|passwd|disable|remove|list` (registered by yuqing.cli)."""

from __future__ import annotations

import errno
import inspect
import logging
import sys
from datetime import date

import click

from yuqing.analysis.card import DEFINITION
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

    \b
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


# The 负面信息 list and the negative share count what the sentiment model calls negative: its
# definition goes in the help above the example (which stays last), word for word as in the card.
_head, _sep, _example = inspect.cleandoc(digest.help or "").rpartition("Example:")
digest.help = f"{_head}What counts as 负面 (the 负面信息 list, the negative share):\n\n\b\n{DEFINITION}\n\n{_sep}{_example}"


@click.command()
@click.option("--bind", metavar="HOST:PORT", help="Address to listen on (default: [web] bind, 127.0.0.1:8080).")
@pass_app
def serve(app: App, bind: str | None) -> None:
    """Serve the digests, events, alerts and search as a web app.

    Browsing is open on localhost when [web] open_read is true; acknowledging alerts and
    correcting posts always need a login (see `yuqing user add`).

    Example:

    \b
        yuqing --config yuqing.toml serve --bind 127.0.0.1:8080
    """
    from yuqing.web.app import make_server, parse_bind

    try:
        host, port = parse_bind(bind or app.settings.web.bind)
    except ValueError as exc:
        fail(f"--bind: {exc}" if bind else f"config error: web.bind: {exc}", 2)
    app.store(readonly=True)  # a mistyped [store] path is an error in words, never a new empty store
    try:  # bind before saying so: a port in use is reported, never preceded by "serving on"
        server = make_server(app.settings, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
             + (" (another program, or another yuqing serve, is using it)" if exc.errno == errno.EADDRINUSE else ""), 1)
    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@click.group()
def user() -> None:
    """Manage the analysts who may log in to the web app.

    Example:

    \b
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

    password = _password(password_stdin)
    try:
        add_user(app.store(), name, password, replace=replace)
    except AuthError as exc:
        fail(str(exc), 2)
    click.echo(f"user {name} {'updated' if replace else 'added'}")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_app
def user_passwd(app: App, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; every open session of NAME ends.

    Example:

    \b
        echo 'n3w-pass-word' | yuqing --config yuqing.toml user passwd zhang --password-stdin
    """
    from yuqing.web.auth import AuthError, add_user

    store = app.store()
    if not store.scalar("SELECT 1 FROM users WHERE name = ?", [name]):
        fail(f"no user {name!r} (see `yuqing user list`)", 2)
    try:
        add_user(store, name, _password(password_stdin), replace=True)
    except AuthError as exc:
        fail(str(exc), 2)
    click.echo(f"password of {name} changed; their sessions have ended")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@pass_app
def user_disable(app: App, name: str, enable: bool) -> None:
    """Disable NAME: no more logins, and every open session ends now.

    Example:

    \b
        yuqing --config yuqing.toml user disable zhang
    """
    from yuqing.web.auth import AuthError, disable_user

    try:
        ended = disable_user(app.store(), name, disabled=not enable)
    except AuthError as exc:
        fail(str(exc), 2)
    click.echo(f"user {name} enabled" if enable else f"user {name} disabled; {ended} session(s) ended")


@user.command("remove")
@click.argument("name")
@pass_app
def user_remove(app: App, name: str) -> None:
    """Remove NAME and end their sessions (their entries in the audit log stay).

    Example:

    \b
        yuqing --config yuqing.toml user remove zhang
    """
    from yuqing.web.auth import AuthError, remove_user

    try:
        ended = remove_user(app.store(), name)
    except AuthError as exc:
        fail(str(exc), 2)
    click.echo(f"user {name} removed; {ended} session(s) ended")


@user.command("list")
@pass_app
def user_list(app: App) -> None:
    """List the users, when they were created and whether they are disabled.

    Example:

    \b
        yuqing --config yuqing.toml user list
    """
    from yuqing.store import sessions

    store = app.store()
    sessions.ensure(store)
    for row in store.query("SELECT name, created_at, disabled_at FROM users ORDER BY name"):
        state = f"  disabled {row['disabled_at']}" if row["disabled_at"] else ""
        click.echo(f"{row['name']:20} {row['created_at']}{state}")


commands: list[click.Command] = [digest, serve, user]
