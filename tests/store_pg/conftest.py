"""Fixtures for the PostgreSQL store tests: one cluster per session, one schema per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
def backend_url(request, tmp_path) -> str:
    """Each test twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/y.db"
    return request.getfixturevalue("pg_url")
