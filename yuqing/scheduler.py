"""The daemon (APScheduler) — to be written (issue 6)."""

import click

commands: list[click.Command] = []
