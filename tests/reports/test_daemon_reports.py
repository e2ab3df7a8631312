"""The daemon itself builds last week's 周报 and mails it to `[reports] to` once: started, stopped
and started again, it neither builds nor mails the week a second time (the real Daemon, in process,
on today's clock; the store holds a week of posts collected before this Monday's [digest] at)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.digest.populate import SOURCES_TOML, populate_day
from yuqing import settings as settings_mod
from yuqing.digest.publish import due_periods
from yuqing.scheduler import Daemon
from yuqing.store import Store


def _week_mails(outbox: Path) -> list:
    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    return [m for m in mails if "周报" in str(m["Subject"])]


def _run_until(daemon: Daemon, done: threading.Event, timeout: float = 90) -> None:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(daemon.run()))
    thread.start()
    try:
        assert done.wait(timeout), "the daemon did not get to its reports"
    finally:
        daemon.request_stop("test")
        thread.join(60)
    assert not thread.is_alive() and codes == [0]


def _spy_reports(daemon: Daemon) -> threading.Event:
    """An event set once the daemon's reports task has run (the task itself is the real one)."""
    ran = threading.Event()
    real = daemon._reports

    def reports() -> None:
        real()
        ran.set()

    daemon._reports = reports  # type: ignore[method-assign]
    return ran


def test_daemon_mails_last_weeks_report_once_across_a_restart(write_config, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    config = write_config(SOURCES_TOML + '\n[reports]\nto = ["leader@example.com"]\nformats = ["xlsx"]\n'
                          f'monthly = false\n\n[daemon]\ndeliver_every = "1s"\n\n[alerts]\noutbox = "{outbox}"\n')
    settings = settings_mod.load(config)
    (week, due_at), = due_periods(settings, datetime.now(ZoneInfo(settings.digest.timezone)))
    with Store(settings.db_path) as store:
        populate_day(store, day=week.last - timedelta(days=2))  # collected before the report fell due

    first = Daemon(settings)
    _run_until(first, _spy_reports(first))
    deadline = time.time() + 30
    while time.time() < deadline and not _week_mails(outbox):
        time.sleep(0.2)
    mails = _week_mails(outbox)
    assert len(mails) == 1, [str(m["Subject"]) for m in mails]
    assert week.first.isoformat() in str(mails[0]["Subject"]) and mails[0]["To"] == "leader@example.com"
    assert [Path(p.get_filename()).suffix for p in mails[0].walk() if p.get_filename()] == [".xlsx"]

    again = Daemon(settings)  # restarted the same week
    _run_until(again, _spy_reports(again))
    time.sleep(2)  # a second mail, were one queued, would be delivered within deliver_every
    assert len(_week_mails(outbox)) == 1
    with Store(settings.db_path, readonly=True) as store:
        assert store.scalar("SELECT count(*) FROM deliveries WHERE kind = 'report-week'") == 1
