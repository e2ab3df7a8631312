"""What the PostgreSQL backend does not run yet says so in words, never a traceback or a wrong answer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import BASE_CONFIG
from yuqing.cli import cli
from yuqing.store import Store
from yuqing.store.dialect import NotPorted, translate


@pytest.fixture
def pg_store(pg_url):
    with Store(pg_url) as store:
        yield store


def test_sqlite_only_sql_is_refused_before_it_runs(pg_store):
    from yuqing.store import sessions

    with pytest.raises(NotPorted, match=r"not supported on PostgreSQL yet: json_extract\(\)"):
        pg_store.query("SELECT json_extract(extra, '$.tid') FROM posts")
    with pytest.raises(NotPorted, match="not supported on PostgreSQL yet: PRAGMA"):
        sessions.ensure(pg_store)
    with pytest.raises(NotPorted, match="not supported on PostgreSQL yet: sqlite-utils"):
        pg_store.db["posts"].get(1)
    with pytest.raises(NotPorted, match="json_each"):
        pg_store.query("SELECT 1 FROM posts p, json_each(p.topics)")
    # a statement PostgreSQL itself refuses names the statement and PostgreSQL's reason
    with pytest.raises(NotPorted, match=r"not supported on PostgreSQL yet: .*SELECT nosuch\(1\).*does not exist"):
        pg_store.scalar("SELECT nosuch(1)")
    # the connection is usable afterwards, in and out of a transaction
    with pytest.raises(NotPorted):
        with pg_store.transaction():
            pg_store.set_meta("k", "v")
            pg_store.scalar("SELECT nosuch(1)")
    assert pg_store.get_meta("k") is None  # rolled back with the failed statement
    assert pg_store.count_posts() == 0


def test_a_command_on_unported_code_exits_1_in_words(tmp_path, pg_url):
    cfg = tmp_path / "yuqing.toml"
    cfg.write_text(BASE_CONFIG.replace('path = "yuqing.db"\n', f'path = "yuqing.db"\nurl = "{pg_url}"\n'),
                   encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(cfg), "user", "list"])
    assert result.exit_code == 1
    assert "not supported on PostgreSQL yet" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM t WHERE a = ? AND b LIKE '%?%'", ("SELECT * FROM t WHERE a = %s AND b ILIKE '%%?%%'", False)),
    ("INSERT OR IGNORE INTO sources(name) VALUES (?)", ("INSERT INTO sources(name) VALUES (%s) ON CONFLICT DO NOTHING",
                                                        False)),
    ("INSERT INTO audit_log(at, user) VALUES (?, ?)", ('INSERT INTO audit_log(at, "user") VALUES (%s, %s) RETURNING id',
                                                       True)),
    ("SELECT ifnull(x, 0) FROM t WHERE k = :k", ("SELECT COALESCE(x, 0) FROM t WHERE k = %(k)s", False)),
])
def test_translation(sql, expected):
    assert translate(sql, id_tables=frozenset({"audit_log"})) == expected


def test_literals_and_named_parameters_reach_postgresql_intact(pg_store):
    post = {"url": "http://127.0.0.1/a", "t": "100% 停水?"}
    pg_store.conn.execute("INSERT INTO posts(url, canonical_url, source, title, fetched_at, ts, content_hash) "
                          "VALUES (:url, :url, 'n', :t, '2026', '2026', 'h')", post)
    assert pg_store.query("SELECT title FROM posts WHERE title LIKE '%断电%' OR title LIKE '%?%?'") == []
    assert pg_store.query("SELECT title FROM posts WHERE title LIKE '%停水%'") == [{"title": "100% 停水?"}]
    assert pg_store.scalar("SELECT count(*) FROM posts WHERE title LIKE '100%' AND title LIKE '%?'") == 1
    assert pg_store.scalar("SELECT title FROM posts WHERE title = ?", ["100% 停水?"]) == "100% 停水?"
