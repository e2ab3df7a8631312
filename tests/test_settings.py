"""Config: TOML -> frozen dataclasses; every mistake names its key path and exits 2."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from yuqing import settings as s
from yuqing.cli import cli
from yuqing.errors import ConfigError

FEED = """
[[sources]]
name = "news"
type = "feed"
url = "http://127.0.0.1:9/feed.xml"
every = "15m"
"""


def test_example_config_is_valid_and_documents_every_key(monkeypatch):
    from tests.conftest import ROOT

    example = ROOT / "config" / "yuqing.example.toml"
    loaded = s.load(example)
    assert loaded.locality.name == "芦山县"
    text = example.read_text(encoding="utf-8")
    for key, _default, _help in s.describe():
        leaf = key.split(".")[-1]
        if key.startswith("sources[]."):
            continue  # documented once in the sources comment block
        assert f"{leaf} =" in text or f"{leaf}=" in text, f"{key} is not documented in the example config"


def test_values_are_typed_and_frozen(write_config):
    cfg = s.load(write_config(FEED))
    src = cfg.source("news")
    assert src.every == 900.0
    assert cfg.crawl.delay == 0.0
    assert cfg.locality.terms == ("芦山县", "芦山", "龙门乡", "飞仙关")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.locality.name = "x"  # type: ignore[misc]
    assert cfg.db_path == cfg.path("yuqing.db")
    assert cfg.db_path.is_absolute()


@pytest.mark.parametrize(
    "extra, path, words",
    [
        ("[web]\nbnd = 'x'\n", "web.bnd", "unknown key"),
        ("[store]\npath = 3\n", "store.path", "expected a string"),
        ("[[sources]]\nname='a'\ntype='feed'\nurl='http://x/'\nevery='15 minutes'\n", "sources[0].every", "duration"),
        ("[[sources]]\ntype='feed'\nurl='http://x/'\n", "sources[0].name", "required value is missing"),
        ("[[sources]]\nname='a'\ntype='ftp'\nurl='http://x/'\n", "sources[0].type", "unknown source type"),
        ("[[sources]]\nname='a'\ntype='feed'\n", "sources[0].url", "required"),
        ("[[sources]]\nname='a'\ntype='feed'\nurl='http://x/'\nitem='li'\n", "sources[0].item", "not used by a 'feed'"),
        ("[[sources]]\nname='a'\ntype='html'\nurl='http://x/'\n", "sources[0].item", "required for an html source"),
        ("[digest]\nat = '25:00'\n", "digest.at", "HH:MM"),
        ("[digest]\ntimezone = 'Mars/Base'\n", "digest.timezone", "unknown timezone"),
        ("[crawl]\nmax_body = 'lots'\n", "crawl.max_body", "size"),
        ("[crawl]\nobey_robots = 'yes'\n", "crawl.obey_robots", "true or false"),
    ],
)
def test_bad_values_name_the_key(write_config, extra, path, words):
    with pytest.raises(ConfigError) as err:
        s.load(write_config("[locality]\nname = '芦山县'\n" + extra, base=False))
    assert err.value.path == path
    assert words in str(err.value)


def test_missing_locality_is_reported(write_config):
    with pytest.raises(ConfigError) as err:
        s.load(write_config("[store]\npath='x.db'\n", base=False))
    assert err.value.path == "locality"


def test_env_indirection_for_secrets(write_config, monkeypatch):
    extra = FEED + 'cookies = { env = "YQ_TEST_COOKIE" }\n'
    monkeypatch.setenv("YQ_TEST_COOKIE", "SUB=abc")
    assert s.load(write_config(extra)).source("news").cookies == "SUB=abc"
    monkeypatch.delenv("YQ_TEST_COOKIE")
    with pytest.raises(ConfigError) as err:
        s.load(write_config(extra))
    assert err.value.path == "sources[0].cookies"
    assert "YQ_TEST_COOKIE" in str(err.value)


def test_duplicate_source_names(write_config):
    with pytest.raises(ConfigError) as err:
        s.load(write_config(FEED + FEED))
    assert err.value.path == "sources[1].name"


def test_durations():
    assert s.parse_duration("90s") == 90
    assert s.parse_duration("2h") == 7200
    assert s.parse_duration("7d") == 7 * 86400
    assert s.parse_duration(30) == 30
    for bad in ("15 minutes", "-3m", "", True, "m"):
        with pytest.raises(ConfigError):
            s.parse_duration(bad, "x")


def test_not_toml_and_not_found(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[locality\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        s.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        s.load(tmp_path / "none.toml")


def test_cli_exits_2_with_key_path(write_config):
    path = write_config("[alerts]\nwindows = ['1 hour']\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check"])
    assert result.exit_code == 2
    assert "alerts.windows[0]" in result.output


def test_check_lists_sources(write_config):
    path = write_config(FEED)
    result = CliRunner().invoke(cli, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    assert "news" in result.output and "every 15m" in result.output


def test_bare_number_every_is_an_error_naming_units() -> None:
    import pytest as _pytest

    from yuqing.errors import ConfigError
    from yuqing.settings import parse_duration

    with _pytest.raises(ConfigError) as info:
        parse_duration(15, "sources[0].every")
    assert "15m" in str(info.value) and "sources[0].every" in str(info.value)
    assert parse_duration("15m", "sources[0].every") == 900.0
    assert parse_duration(0, "sources[0].every") == 0.0
    assert parse_duration(2, "crawl.delay") == 2.0
