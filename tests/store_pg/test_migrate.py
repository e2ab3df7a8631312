"""`yuqing store migrate --to`: a SQLite store copied into PostgreSQL, resumably, counts checked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from tests.alerts.helpers import T0, add_post, background, spike
from tests.conftest import BASE_CONFIG
from yuqing.cli import cli
from yuqing.delivery import outbox
from yuqing.models import CrawlStats, Post
from yuqing.store import Store


@pytest.fixture
def sqlite_config(tmp_path) -> Path:
    path = tmp_path / "yuqing.toml"
    path.write_text(BASE_CONFIG + '\n[alerts]\noutbox = "outbox"\n', encoding="utf-8")
    return path


def _fill(db: Path, settings) -> dict[str, int]:
    with Store(db) as store:
        store.sync_sources(settings.sources)
        store.finish_run(store.start_run("news"), CrawlStats(source="news", fetched=3, new=2))
        background(store, T0, 24 * 3)
        spike(store, T0 + timedelta(days=3), 5, minutes=20, topics=["交通"], title="国道断路")
        with store.transaction():
            ids = [add_post(store, T0, title=f"芦山县飞仙关停水{i}", text="居民反映停水") for i in range(3)]
            store.index_rows((i, f"芦山县飞仙关停水{i}", "居民反映停水") for i in ids)
            store.conn.execute("INSERT INTO audit_log(at, user, action) VALUES ('2026-01-01', 'ana', 'x')")
        outbox.enqueue(store, settings, kind="alert", ref="7", subject="测试", html="<p>x</p>", text="x")
        store.set_meta("web_secret", "k")
        return {t: store.scalar(f"SELECT count(*) FROM {t}") for t in
                ("posts", "posts_fts", "sources", "crawl_runs", "deliveries", "audit_log", "meta")}


def test_copy_then_use_the_postgresql_store(sqlite_config, pg_url):
    from yuqing import settings as settings_mod

    settings = settings_mod.load(sqlite_config)
    before = _fill(settings.db_path, settings)
    result = CliRunner().invoke(cli, ["--config", str(sqlite_config), "store", "migrate", "--to", pg_url])
    assert result.exit_code == 0, result.output
    assert "counts match" in result.output and f"posts: {before['posts']} rows" in result.output
    with Store(pg_url) as pg:
        assert pg.backend == "postgresql"
        for table, n in before.items():
            assert pg.scalar(f"SELECT count(*) FROM {table}") == n, table
        assert len(pg.search("飞仙关")) == 3 and len(pg.search("停水")) == 3  # the index came along
        assert pg.get_meta("web_secret") == "k"
        (row,) = pg.sources_health()
        assert row["runs"] == 1 and row["last_new"] == 2
        # new rows get ids after the copied ones
        new = Post(url="http://127.0.0.1/new/1", source="news", title="芦山 新帖")
        assert pg.add_posts([new]) == (1, 0) and new.id == pg.scalar("SELECT max(id) FROM posts")
        assert new.id > before["posts"]
    # a second copy into a store with data is refused, in words
    again = CliRunner().invoke(cli, ["--config", str(sqlite_config), "store", "migrate", "--to", pg_url])
    assert again.exit_code == 1 and "already holds data" in again.output and "Traceback" not in again.output


def test_killed_copy_resumes_without_doubles(sqlite_config, pg_url):
    from yuqing import settings as settings_mod

    settings = settings_mod.load(sqlite_config)
    with Store(settings.db_path) as store:
        store.add_posts([Post(url=f"http://127.0.0.1/p/{i}", source="news", title=f"芦山 帖子{i}",
                              text=f"第{i}条") for i in range(3000)])
    cmd = [sys.executable, "-m", "yuqing", "--config", str(sqlite_config), "store", "migrate", "--to", pg_url,
           "--chunk", "5"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    copied = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                row = conn.execute("SELECT last_rowid FROM yuqing_copy WHERE tab = 'posts'").fetchone()
                copied = row[0] if row else 0
        except psycopg.Error:
            copied = 0
        if copied >= 100:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the copy finished before it could be killed"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        partial = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        last = conn.execute("SELECT last_rowid FROM yuqing_copy WHERE tab = 'posts'").fetchone()[0]
    assert 100 <= partial < 3000 and partial == last  # rows and progress committed together
    done = subprocess.run(cmd[:-2], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(resumed)" in done.stdout and "posts: 3000 rows" in done.stdout
    with Store(pg_url) as pg:
        assert pg.scalar("SELECT count(DISTINCT canonical_url) FROM posts") == 3000
        assert pg.scalar("SELECT to_regclass('yuqing_copy') IS NULL")


def test_bad_targets_are_refused_in_words(sqlite_config, tmp_path, pg_url):
    runner = CliRunner()
    bad = runner.invoke(cli, ["--config", str(sqlite_config), "store", "migrate", "--to", "mysql://x@h/db"])
    assert bad.exit_code == 2 and "--to" in bad.output and "unknown store scheme" in bad.output
    lite = runner.invoke(cli, ["--config", str(sqlite_config), "store", "migrate", "--to", f"sqlite:///{tmp_path}/b.db"])
    assert lite.exit_code == 2 and "postgresql://" in lite.output
    absent = runner.invoke(cli, ["--config", str(sqlite_config), "store", "migrate", "--to", pg_url,
                                 "--from", str(tmp_path / "none.db")])
    assert absent.exit_code == 2 and "no SQLite store" in absent.output
