"""The README's first steps: copy the example config to the project root, and `check` it."""

from __future__ import annotations

import logging
import shutil

from click.testing import CliRunner

from tests.conftest import ROOT
from yuqing import settings as s
from yuqing.analysis.analyzer import for_settings
from yuqing.cli import cli


def _readme_layout(tmp_path):
    """cp config/yuqing.example.toml yuqing.toml, in a folder laid out as the project is."""
    (tmp_path / "config").symlink_to(ROOT / "config", target_is_directory=True)
    shutil.copy(ROOT / "config" / "yuqing.example.toml", tmp_path / "yuqing.toml")
    return tmp_path / "yuqing.toml"


def test_example_config_checks_ok_where_the_readme_puts_it(tmp_path, caplog):
    cfg = _readme_layout(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(cfg), "check"])
    assert result.exit_code == 0, result.output
    assert "config ok" in result.output
    assert s.missing_files(s.load(cfg)) == []
    with caplog.at_level(logging.WARNING):
        analyzer = for_settings(s.load(cfg))
    assert not [r for r in caplog.records if "not found" in r.getMessage()], caplog.text
    assert "没人管" in analyzer.analyze("小区停水三天没人管").to_json()["keywords"]  # from config/userdict.txt


def test_check_reports_each_missing_file_with_its_key(tmp_path):
    cfg = tmp_path / "yuqing.toml"
    cfg.write_text(
        '[locality]\nname = "芦山县"\n[analysis]\nuserdict = "nope/userdict.txt"\n'
        'stopwords = "stop.txt"\ntopics = "topics.toml"\n',
        encoding="utf-8",
    )
    (tmp_path / "topics.toml").write_text((ROOT / "config" / "topics.toml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "check"])
    assert result.exit_code == 2
    assert "analysis.userdict" in result.output and str(tmp_path / "nope" / "userdict.txt") in result.output
    assert "analysis.stopwords" in result.output
    assert "analysis.topics" not in result.output
    assert "config ok" not in result.output and "Traceback" not in result.output
