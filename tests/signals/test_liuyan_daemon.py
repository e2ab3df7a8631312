"""留言 through the daemon itself, stopped and started again in the middle: the overdue message is mailed
once (one 蓝 case), and the reply given while the daemon was down is read on its next run (已回复).
Slow (the daemon is a real subprocess): `pytest -m slow tests/signals`."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from tests.signals.test_liuyan import PERMALINK, Board
from yuqing.daemon.process import DaemonProcess
from yuqing.errors import StoreError
from yuqing.store import Store

pytestmark = pytest.mark.slow
logger = logging.getLogger(__name__)

CONFIG = """
[locality]
name = "芦山县"
aliases = ["芦山", "龙门乡"]

[store]
path = "yuqing.db"

[crawl]
delay = "0s"
autothrottle = false
timeout = "30s"
request_timeout = "5s"
retries = 0

[[sources]]
name = "leader-board"
type = "liuyan"
fid = "539"
url = "{url}"
every = "3s"
refresh = "30d"

[alerts]
notify = ["{mailto}"]
outbox = "outbox"
retry = "5s"
source_silence = 600.0

[daemon]
crawl_workers = 1
pipeline_every = "5s"
deliver_every = "2s"
"""


def _rows(db: Path, sql: str, params: list | None = None) -> list[dict]:
    with Store(db, readonly=True) as store:
        return store.query(sql, params or [])


def _wait(what: str, check, daemon: DaemonProcess, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (sqlite3.Error, StoreError, IndexError) as exc:  # the store may be mid-migration at the very start
            logger.debug("not yet: %s", exc)
        if not daemon.running():
            raise AssertionError(f"the daemon died while waiting for {what}:\n{daemon.output()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{daemon.output()[-3000:]}")


def test_overdue_message_mailed_once_and_reply_read_after_a_daemon_restart(site, smtp, tmp_path: Path) -> None:
    board = Board(site, time.time())
    config = tmp_path / "yuqing.toml"
    config.write_text(CONFIG.format(url=site.url, mailto=smtp.mailto), encoding="utf-8")
    db = tmp_path / "yuqing.db"

    def mails() -> list:
        return [m for m in smtp.messages if "舆情预警" in str(m["Subject"])]  # not the day's digest

    daemon = DaemonProcess(config, db, tmp_path / "daemon.log").start()
    try:
        _wait("the overdue message's alert email", lambda: len(mails()) >= 1, daemon)
        assert daemon.stop() == 0
        board.answer("502")  # answered while the daemon is down
        daemon = DaemonProcess(config, db, tmp_path / "daemon.log").start()
        query = ("SELECT json_extract(extra, '$.state') AS state, json_extract(extra, '$.reply_by') AS by "
                 "FROM posts WHERE url = ?")
        _wait("the reply to be read", lambda: _rows(db, query, [PERMALINK.format(tid=502)]) == [
            {"state": "已回复", "by": "芦山县住房和城乡建设局"}], daemon)
        runs = _rows(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"]
        _wait("three more crawl rounds", lambda: _rows(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] >= runs + 3, daemon)
        _wait("nothing left to send", lambda: _rows(db, "SELECT count(*) AS n FROM deliveries WHERE state != 'sent'")[0]["n"] == 0,
              daemon)
        assert len(mails()) == 1, [str(m["Subject"]) for m in mails()]
        assert "留言逾期未回复" in str(mails()[0]["Subject"]) and "芦山县龙门乡路灯坏了一个月" in str(mails()[0]["Subject"])
        old = _rows(db, "SELECT id FROM posts WHERE url = ?", [PERMALINK.format(tid=501)])[0]["id"]
        assert _rows(db, "SELECT kind, key, level, state FROM alerts") == [
            {"kind": "liuyan", "key": f"post:{old}", "level": "blue", "state": "open"}]
        assert [c["level"] for c in _rows(db, "SELECT level FROM cases")] == ["blue"]
        assert daemon.stop() == 0
    finally:
        if daemon.running():
            daemon.kill()
