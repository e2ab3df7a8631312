"""[crawl] engine and [crawl] scrapyd: checked before anything starts; what a job is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import BASE_CONFIG, ROOT
from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.crawlers.engines import payload
from yuqing.crawlers.engines.project import PACKAGE, build_egg, egg_version
from yuqing.errors import ConfigError

SOURCE = '\n[[sources]]\nname = "a"\ntype = "feed"\nurl = "http://127.0.0.1:9/f.xml"\n'


def check(tmp_path: Path, crawl_keys: str) -> tuple[int, str]:
    config = tmp_path / "yuqing.toml"
    config.write_text(BASE_CONFIG + crawl_keys + SOURCE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    return result.exit_code, result.output


@pytest.mark.parametrize("keys, words", [
    ('engine = "celery"\n', "crawl.engine: local or scrapyd, got 'celery'"),
    ('engine = "scrapyd"\n', 'crawl.scrapyd: engine = "scrapyd" needs at least one node'),
    ('engine = "scrapyd"\nscrapyd = []\n', 'crawl.scrapyd: engine = "scrapyd" needs at least one node'),
    ('scrapyd = ["127.0.0.1:6800"]\n', "crawl.scrapyd[0]: expected a scrapyd node like 'http://127.0.0.1:6800', got '127.0.0.1:6800'"),
    ('scrapyd = ["http://127.0.0.1:6800", "ftp://x"]\n', "crawl.scrapyd[1]: expected a scrapyd node like"),
    ('scrapyd = ["http://127.0.0.1:6800/jobs"]\n', "crawl.scrapyd[0]: expected a scrapyd node like"),
    ('scrapyd = ["http://127.0.0.1:port"]\n', "crawl.scrapyd[0]: bad port in 'http://127.0.0.1:port'"),
    ('scrapyd = ["http://a:6800", "http://a:6800"]\n', "crawl.scrapyd: a node is listed twice"),
    ('scrapyd = "http://127.0.0.1:6800"\n', "crawl.scrapyd: expected a list"),
    ('engine = 1\n', "crawl.engine: expected a string, got 1"),
])
def test_bad_engine_keys_exit_2_naming_the_key(tmp_path, keys, words):
    code, output = check(tmp_path, keys)
    assert code == 2, output
    assert words in output and "Traceback" not in output


def test_good_engine_keys_and_the_defaults(tmp_path, monkeypatch):
    code, output = check(tmp_path, 'engine = "scrapyd"\nscrapyd = ["http://127.0.0.1:6800", "https://user:pw@10.0.0.2:6800/"]\n')
    assert code == 0, output
    monkeypatch.setenv("NODE", "http://10.0.0.3:6800")
    config = tmp_path / "env.toml"
    config.write_text(BASE_CONFIG + 'engine = "scrapyd"\nscrapyd = [{env = "NODE"}]\n' + SOURCE, encoding="utf-8")
    assert settings_mod.load(config).crawl.scrapyd == ("http://10.0.0.3:6800",)
    assert settings_mod.from_dict({"locality": {"name": "芦山县"}}).crawl.engine == "local"


def test_every_example_source_travels_to_a_job_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIBO_COOKIE", "SUB=x")
    settings = settings_mod.load(ROOT / "config" / "yuqing.example.toml")
    assert settings.sources
    url = payload.store_url(settings)
    assert url == f"sqlite:///{settings.db_path.resolve()}"
    for source in settings.sources:
        sent = payload.encode(settings, source)
        job = payload.decode(sent, url)
        assert job.sources == (source,)
        assert job.locality == settings.locality
        assert job.crawl == settings.crawl.__class__(**{**settings.crawl.__dict__, "engine": "local", "scrapyd": ()})
        assert job.db_path == settings.db_path.resolve()
        # a job is told nothing a crawl does not need (no mail, web or alert settings)
        assert set(json.loads(sent)) <= {"locality", "sources", "crawl"}


def test_a_postgresql_password_is_not_sent_to_the_nodes():
    class Target:  # what [store] url gives on the PostgreSQL backend: an object carrying .url
        url = "postgresql://yuqing:s3cret@db.example:5432/yuqing"

    class Settings:
        db_path = Target()

    assert payload.store_url(Settings()) == "postgresql://yuqing@db.example:5432/yuqing"  # type: ignore[arg-type]


@pytest.mark.parametrize("config, store, words", [
    ("not json", "sqlite:////tmp/x.db", "the job's config is not JSON"),
    ('{"locality": {"name": "x"}, "sources": []}', "sqlite:////tmp/x.db", "sources: a job crawls exactly one source"),
    ('{"locality": {"name": "x"}, "sources": [{"name": "a", "type": "feed"}]}', "sqlite:////tmp/x.db",
     "sources[0].url: required for a feed source"),
    ('{"locality": {"name": "x"}, "sources": [{"name": "a", "type": "feed", "url": "http://h/"}]}', "sqlite:///",
     "store.url: no file in 'sqlite:///'"),
])
def test_a_job_refuses_what_it_cannot_crawl_in_words(config, store, words):
    with pytest.raises(ConfigError) as info:
        payload.decode(config, store)
    assert words in str(info.value)


def test_the_egg_is_a_scrapy_project_scrapyd_can_activate(tmp_path):
    import zipfile

    version = egg_version(now=1.5)
    assert version == "1500"
    path = tmp_path / "yuqing.egg"
    path.write_bytes(build_egg(version))
    with zipfile.ZipFile(path) as egg:
        names = set(egg.namelist())
        assert {"EGG-INFO/PKG-INFO", "EGG-INFO/entry_points.txt", f"{PACKAGE}/settings.py", f"{PACKAGE}/spiders.py"} <= names
        assert f"settings = {PACKAGE}.settings" in egg.read("EGG-INFO/entry_points.txt").decode()
    pkg_resources = pytest.importorskip("pkg_resources")
    dist = next(pkg_resources.find_distributions(str(path)))
    assert dist.version == version
    assert dist.get_entry_info("scrapy", "settings").module_name == f"{PACKAGE}.settings"
