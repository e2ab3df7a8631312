"""CLI commands of this stage (registered by yuqing.cli)."""

import click

commands: list[click.Command] = []
