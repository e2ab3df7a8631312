"""The command line: every command documents itself with an example; init and status work."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from yuqing.cli import cli


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        if getattr(cmd, "hidden", False):
            continue
        yield f"{prefix}{name}", cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{prefix}{name} ")


def test_stable_commands_exist():
    names = set(cli.commands)
    assert {"init", "check", "status"} <= names


@pytest.mark.parametrize("name, command", list(_commands(cli)))
def test_every_command_has_help_with_an_example(name, command):
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`yuqing {name} --help` has no example"
    example = result.output.split("Example", 1)[1]
    assert "yuqing" in example and name.split()[0] in example


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "yuqing", "--version"], capture_output=True, text=True, check=True)
    assert "yuqing" in out.stdout


def test_init_then_status(write_config):
    cfg = write_config(
        """
        [[sources]]
        name = "news"
        type = "feed"
        url = "http://127.0.0.1:9/feed.xml"
        """
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(cfg), "init"])
    assert result.exit_code == 0, result.output
    assert "store ready" in result.output
    result = runner.invoke(cli, ["--config", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    assert "news" in result.output and "no run yet" in result.output
    assert "0 unanalysed posts" in result.output


def test_unknown_command_is_usage_error():
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2


def test_missing_config_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "status"])
    assert result.exit_code == 2
    assert "config file not found" in result.output
