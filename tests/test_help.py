"""Every command's help ends with an example, printed line for line as written (click rewraps
paragraphs unless they start with \\b)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from yuqing.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        found.append(((*prefix, name), cmd))
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, (*prefix, name)))
    return found


COMMANDS = _commands(cli)


def _example_lines(doc: str) -> list[str]:
    """The lines of the example block that closes a docstring."""
    lines = [line.strip() for line in doc.strip().splitlines()]
    heads = [i for i, line in enumerate(lines) if line in ("Example:", "Examples:")]
    assert heads, "no Example: block"
    return [line for line in lines[heads[-1] + 1 :] if line and line != "\b"]


def test_commands_were_found():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"check", "crawl", "status", "classify"} <= names


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_ends_with_an_example_kept_verbatim(path, cmd):
    examples = _example_lines(cmd.help or "")
    assert examples, f"{' '.join(path)}: the example block is empty"
    assert all(line.startswith(("yuqing", "echo", "cat", "YUQING_", "python")) for line in examples), examples
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    shown = [line.strip() for line in result.output.splitlines()]
    for line in examples:
        assert line in shown, f"{' '.join(path)} --help rewrapped {line!r}:\n{result.output}"
    # in order, one line each
    positions = [shown.index(line) for line in examples]
    assert positions == sorted(positions)
