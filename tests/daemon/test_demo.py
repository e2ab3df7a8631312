"""The demo's folder handling and its command line (the full run is in test_end_to_end)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from yuqing.demo.walkthrough import MARKER, prepare_folder


def test_a_new_folder_is_created_and_marked(tmp_path: Path) -> None:
    path = prepare_folder(tmp_path / "new" / "demo")
    assert path.is_dir() and (path / MARKER).exists()


def test_an_earlier_demo_is_cleared_but_nothing_else(tmp_path: Path) -> None:
    path = prepare_folder(tmp_path / "demo")
    (path / "outbox").mkdir()
    (path / "outbox" / "old-alert.eml").write_text("x")
    (path / "yuqing.db").write_text("old")
    (path / "notes.txt").write_text("mine")
    prepare_folder(path)
    assert not (path / "yuqing.db").exists() and not list((path / "outbox").glob("*"))
    assert (path / "notes.txt").read_text() == "mine"


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(click.UsageError, match="not empty"):
        prepare_folder(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_demo_command_refuses_a_foreign_folder_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("1,2")
    proc = subprocess.run([sys.executable, "-m", "yuqing", "demo", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "not empty" in proc.stderr and str(tmp_path) in proc.stderr


def test_demo_minutes_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "yuqing", "demo", "--dir", str(tmp_path / "d"), "--minutes", "0.1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--minutes" in proc.stderr
