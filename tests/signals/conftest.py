"""Helpers for the signal tests: a config around a loopback site, and one poll = crawl + detect.

Each step opens its own Store and closes it again, as the daemon's crawl child and pipeline do, so
every step is also a restart: nothing is carried between them but the store.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from yuqing import settings as settings_mod
from yuqing.models import Alert, CrawlStats
from yuqing.store import Store

CONFIG = """
[locality]
name = "芦山县"
aliases = ["芦山", "龙门乡"]
exclude = ["庐山"]

[store]
path = "yuqing.db"

[crawl]
delay = "0s"
autothrottle = false
obey_robots = true
timeout = "60s"
request_timeout = "5s"
retries = 0

[alerts]
outbox = "outbox"
cooldown = "2h"
"""


@pytest.fixture
def configure(tmp_path: Path):
    def _configure(sources: str, extra: str = "") -> settings_mod.Settings:
        path = tmp_path / "yuqing.toml"
        path.write_text(CONFIG + textwrap.dedent(extra) + textwrap.dedent(sources), encoding="utf-8")
        return settings_mod.load(path)

    return _configure


def crawl(settings: settings_mod.Settings, name: str) -> CrawlStats:
    """One real crawl: a child process, as the daemon runs it."""
    from yuqing.crawlers.runner import crawl_one

    stats = crawl_one(settings, name, timeout=60)
    assert stats.error is None, stats.error
    return stats


def detect(settings: settings_mod.Settings, now: datetime | None = None) -> list[Alert]:
    from yuqing.alerts.detector import detect as run

    with Store(settings.db_path) as store:
        return run(settings, store, now)


def rows(settings: settings_mod.Settings, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    with Store(settings.db_path) as store:
        return store.query(sql, params)
