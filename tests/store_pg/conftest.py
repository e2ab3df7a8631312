"""Fixtures for the PostgreSQL store tests: one cluster per session, one schema per test.

`write_config` (and so `settings` and `store`) is parametrised here over both backends: a test of
another folder imported into tests/store_pg runs once on a SQLite file and once on PostgreSQL.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG
from tests.store_pg.cluster import Cluster, why_not


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """The url of an empty PostgreSQL store (a schema of its own)."""
    return pg_cluster.schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """Each test twice: on a SQLite file and on PostgreSQL ('' for SQLite, else the store url)."""
    return "" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def write_config(tmp_path: Path, backend: str) -> Callable[..., Path]:
    def _write(extra: str = "", base: bool = True, name: str = "yuqing.toml") -> Path:
        head = BASE_CONFIG
        if backend:
            head = head.replace('path = "yuqing.db"\n', f'path = "yuqing.db"\nurl = "{backend}"\n')
        path = tmp_path / name
        path.write_text((head if base else "") + textwrap.dedent(extra), encoding="utf-8")
        return path

    return _write
