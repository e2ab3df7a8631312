"""`[store] url`: sqlite:///PATH or postgresql://...; anything else exits 2 naming store.url."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.errors import ConfigError, StoreError
from yuqing.store import Store
from yuqing.store.url import StoreURL, parse


@pytest.fixture
def plain_config(tmp_path):
    """A config with its store at tmp_path/yuqing.db (these tests set the url themselves)."""
    from tests.conftest import BASE_CONFIG

    def _write() -> Path:
        path = tmp_path / "yuqing.toml"
        path.write_text(BASE_CONFIG, encoding="utf-8")
        return path

    return _write


@pytest.mark.parametrize("url, words", [
    ("mysql://u@h/db", "unknown store scheme 'mysql'"),
    ("data/yuqing.db", "expected sqlite:///PATH or postgresql://"),
    ("sqlite://data.db", "three slashes"),
    ("sqlite:///", "three slashes"),
    ("postgresql://", "names its server"),
    ("postgresql://u@127.0.0.1:99999/db", "not a valid PostgreSQL url"),
    ("postgresql://u@127.0.0.1:5432", "names its database"),
    ("postgresql://u@127.0.0.1:abc/db", "not a valid PostgreSQL url"),
])
def test_bad_store_url_exits_2_naming_the_key(plain_config, url, words):
    cfg = plain_config()
    text = cfg.read_text(encoding="utf-8").replace('path = "yuqing.db"\n', f'path = "yuqing.db"\nurl = "{url}"\n', 1)
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        settings_mod.load(cfg)
    assert caught.value.path == "store.url" and words in caught.value.reason
    result = CliRunner().invoke(cli, ["--config", str(cfg), "check"])
    assert result.exit_code == 2
    assert "store.url" in result.output and words in result.output
    assert "Traceback" not in result.output


def test_sqlite_url_is_the_file_relative_to_the_config(plain_config, tmp_path):
    cfg = plain_config()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'path = "yuqing.db"\n', 'path = "yuqing.db"\nurl = "sqlite:///sub/other.db"\n', 1), encoding="utf-8")
    settings = settings_mod.load(cfg)
    assert settings.db_path == tmp_path / "sub" / "other.db"
    with Store(settings.db_path) as store:
        assert store.backend == "sqlite" and store.count_posts() == 0
    assert (tmp_path / "sub" / "other.db").exists()
    assert parse("sqlite:////abs/y.db") == Path("/abs/y.db")


def test_the_password_never_shows(plain_config, monkeypatch):
    monkeypatch.setenv("YUQING_TEST_PG", "postgresql://yuqing:s3cret@127.0.0.1:1/yuqing")
    cfg = plain_config()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'path = "yuqing.db"\n', 'path = "yuqing.db"\nurl = {env = "YUQING_TEST_PG"}\n', 1), encoding="utf-8")
    settings = settings_mod.load(cfg)
    target = settings.db_path
    assert isinstance(target, StoreURL) and "s3cret" in target.url
    assert "s3cret" not in str(target) and "s3cret" not in repr(target) and "***" in str(target)
    result = CliRunner().invoke(cli, ["--config", str(cfg), "check"])
    assert result.exit_code == 0 and "s3cret" not in result.output and "127.0.0.1:1" in result.output


def test_a_server_that_does_not_answer_is_an_error_in_words(plain_config):
    from tests.conftest import free_port

    url = f"postgresql://yuqing@127.0.0.1:{free_port()}/yuqing"
    with pytest.raises(StoreError, match="cannot open store postgresql://yuqing@127.0.0.1"):
        Store(url)
    cfg = plain_config()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'path = "yuqing.db"\n', f'path = "yuqing.db"\nurl = "{url}"\n', 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "init"])
    assert result.exit_code == 1 and "cannot open store" in result.output and "Traceback" not in result.output
