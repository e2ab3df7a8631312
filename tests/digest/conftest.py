"""Fixtures of the digest tests: a config with sources, a populated store, a running web app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.digest.populate import SOURCES_TOML, Populated, populate_day
from yuqing import settings as settings_mod
from yuqing.settings import Settings
from yuqing.store import Store


@pytest.fixture
def dconfig(write_config, tmp_path: Path):
    """write_config with the digest tests' sources; extra TOML is appended."""

    def _make(extra: str = "", alerts: str = "") -> Settings:
        path = write_config(SOURCES_TOML + f'\n[alerts]\noutbox = "{tmp_path / "outbox"}"\n'
                            'base_url = "http://127.0.0.1:8080"\n' + alerts + "\n" + extra)
        return settings_mod.load(path)

    return _make


@pytest.fixture
def dsettings(dconfig) -> Settings:
    return dconfig()


@pytest.fixture
def dstore(dsettings: Settings) -> Iterator[Store]:
    st = Store(dsettings.db_path)
    yield st
    st.close()


@pytest.fixture
def populated(dstore: Store) -> Populated:
    return populate_day(dstore)


def start_web(settings: Settings):
    from yuqing.web.app import make_server

    server = make_server(settings, "127.0.0.1", 0)
    server.start()
    return server


@pytest.fixture
def web(dsettings: Settings, populated: Populated, dstore: Store):
    """The web app on a free loopback port, over a populated store with its digest built and a user."""
    from yuqing.web.auth import add_user
    from yuqing.digest.builder import build_digest

    build_digest(dsettings, dstore, populated.day, send=False)
    add_user(dstore, "zhang", "correct-horse")
    server = start_web(dsettings)
    server.populated = populated  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()
