"""Store integrity in the daemon: damage found (by housekeeping's daily check, or by a job meeting it)
stops every write, and a health alert goes out without the queue that lives in the damaged store."""

from __future__ import annotations

import email
import email.policy
import sqlite3
import time

import pytest

from tests.test_no_traceback import damaged_store
from yuqing import settings as settings_mod
from yuqing.daemon.housekeeping import housekeep
from yuqing.scheduler import Daemon
from yuqing.store import Store, StoreDamaged


def test_quick_check_passes_on_a_sound_store_and_names_the_damage(write_config, tmp_path):
    settings = settings_mod.load(write_config())
    with Store(settings.db_path) as store:
        assert store.check_integrity() == []
        store.verify()
    damaged_store(settings.db_path)
    with Store(settings.db_path) as store:
        assert store.check_integrity()
        with pytest.raises(StoreDamaged, match="is damaged .*quick_check.*backup"):
            store.verify()


def test_daily_housekeeping_finds_the_damage_before_writing(write_config):
    settings = settings_mod.load(write_config())
    damaged_store(settings.db_path)
    with Store(settings.db_path) as store:
        with pytest.raises(StoreDamaged):
            housekeep(settings, store)
        assert store.get_meta("housekeeping") is None  # nothing written


def test_a_job_meeting_damage_stops_the_daemon_writing_and_raises_a_health_alert(write_config, tmp_path):
    settings = settings_mod.load(write_config('[alerts]\noutbox = "outbox"\n'))
    damaged_store(settings.db_path)
    daemon = Daemon(settings)
    daemon._failed("analysis", sqlite3.DatabaseError("database disk image is malformed"))
    assert daemon.damaged and "quick_check" in daemon.damaged
    daemon.request_pipeline("after damage")
    daemon.request_delivery()
    daemon.request_digest()
    assert daemon.pipeline.pending() == [] and daemon.delivery.pending() == []
    daemon.write_status()  # would write store meta: skipped
    until = time.monotonic() + 10
    while time.monotonic() < until and not list((tmp_path / "outbox").glob("*.eml")):
        time.sleep(0.1)
    [eml] = (tmp_path / "outbox").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "数据库损坏" in str(msg["Subject"])


def test_a_lock_timeout_is_not_taken_for_damage(write_config):
    settings = settings_mod.load(write_config())
    Store(settings.db_path).close()
    daemon = Daemon(settings)
    daemon._failed("analysis", sqlite3.OperationalError("database is locked"))
    assert daemon.damaged is None
