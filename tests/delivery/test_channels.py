"""Named channels against a real aiosmtpd: a message survives an edit of its channel's url, and one
whose channel was removed stays visible and can be re-sent elsewhere, never twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from tests.conftest import SMTPSink, free_port
from yuqing import settings as settings_mod
from yuqing.cli import cli
from yuqing.delivery import outbox as delivery
from yuqing.errors import ConfigError
from yuqing.models import utcnow
from yuqing.status import collect, render
from yuqing.store import Store

HTML, TEXT = "<p>芦山县 负面舆情</p>", "芦山县 负面舆情"


def _mailto(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=yuqing@localhost&to=duty@example.com&mode=insecure"


def _config(write_config, channels: dict[str, str], notify: list[str] = ()) -> settings_mod.Settings:
    blocks = "".join(f'\n[[alerts.channels]]\nname = "{name}"\nurl = {json.dumps(url)}\n' for name, url in channels.items())
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{", ".join(json.dumps(u) for u in notify)}]
        retry = "1m"
        max_attempts = 3
        send_timeout = "5s"
        """ + blocks))


def _rows(store: Store) -> list[dict]:
    return store.query("SELECT id, channel, state, attempts, last_error FROM deliveries ORDER BY id")


def test_fixing_a_channels_url_while_a_message_waits_delivers_it_once(write_config, smtp):
    wrong = free_port()  # nothing listens there: the typo in the port
    settings = _config(write_config, {"duty-email": _mailto(wrong)})
    now = utcnow()
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="1:red", subject="红色预警", html=HTML, text=TEXT)
        assert delivery.deliver_pending(settings, store, now=now) == (0, 1)
        [row] = _rows(store)
        assert row["channel"] == "duty-email" and row["state"] == "pending" and "connection refused" in row["last_error"]
    fixed = _config(write_config, {"duty-email": smtp.mailto})  # the url edited, the name kept
    with Store(fixed.db_path) as store:
        assert delivery.deliver_pending(fixed, store, now=now + timedelta(minutes=2)) == (1, 0)
        assert delivery.deliver_pending(fixed, store, now=now + timedelta(hours=3)) == (0, 0)
        [row] = _rows(store)
        report = collect(fixed, store)
    assert row["state"] == "sent" and row["attempts"] == 2
    assert len(smtp.wait_for(1)) == 1 and smtp.messages[0]["Subject"] == "红色预警"
    [channel] = report["channels"]
    assert channel["name"] == "duty-email" and channel["sent"] == 1 and channel["last_error"] is None


def test_named_channels_and_plain_notify_side_by_side(write_config, smtp):
    other = SMTPSink().start()
    try:
        settings = _config(write_config, {"duty-email": smtp.mailto}, notify=[other.mailto])
        with Store(settings.db_path) as store:
            delivery.enqueue(store, settings, kind="alert", ref="2:red", subject="s", html=HTML, text=TEXT)
            assert delivery.deliver_pending(settings, store) == (2, 0)
            names = sorted(r["channel"] for r in _rows(store))
        assert names == sorted(["duty-email", delivery.channel_id(other.mailto)])
        assert len(smtp.wait_for(1)) == 1 and len(other.wait_for(1)) == 1
    finally:
        other.stop()


def test_a_notify_urls_name_is_stable_and_holds_no_password():
    a = delivery.channel_id("mailtos://duty:old-secret@smtp.example.com:465?to=x@example.com")
    b = delivery.channel_id("mailtos://duty:new-secret@smtp.example.com:465?to=x@example.com")
    assert a == b and "secret" not in a and a.startswith("mailtos://smtp.example.com:465#")


def test_removed_channel_keeps_its_message_visible_and_retry_failed_resends_it_once(write_config, smtp):
    first = _config(write_config, {"old-email": _mailto(free_port())})
    with Store(first.db_path) as store:
        [did] = delivery.enqueue(store, first, kind="alert", ref="3:red", subject="红色预警", html=HTML, text=TEXT)
    settings = _config(write_config, {"duty-email": smtp.mailto})  # old-email removed from the config
    cfg = settings.config_file
    with Store(settings.db_path) as store:
        assert delivery.deliver_pending(settings, store) == (0, 1)
        [row] = _rows(store)
        assert row["state"] == "failed" and "old-email is no longer configured" in row["last_error"]
        report = collect(settings, store)
    text = render(report)
    assert f"#{did} alert 3:red to old-email" in text and "--retry-failed" in text
    assert any(c["name"] == "old-email" and not c["configured"] and c["failed"] == 1 for c in report["channels"])
    runner = CliRunner()
    bad = runner.invoke(cli, ["--config", cfg, "deliver", "--retry-failed", "--to", "nowhere"])
    assert bad.exit_code == 2 and "--to nowhere: no such channel" in bad.output and "duty-email" in bad.output
    lone = runner.invoke(cli, ["--config", cfg, "deliver", "--to", "duty-email"])
    assert lone.exit_code == 2 and "--retry-failed" in lone.output
    result = runner.invoke(cli, ["--config", cfg, "deliver", "--retry-failed", "--to", "duty-email"])
    assert result.exit_code == 0, result.output
    assert "re-queued 1 failed message(s) to duty-email" in result.output and "1 sent" in result.output
    again = runner.invoke(cli, ["--config", cfg, "deliver", "--retry-failed", "--to", "duty-email"])
    assert again.exit_code == 0 and "re-queued 0" in again.output and "0 sent" in again.output
    assert len(smtp.wait_for(1)) == 1
    with Store(settings.db_path) as store:
        [row] = _rows(store)
    assert row["channel"] == "duty-email" and row["state"] == "sent"


def test_retry_failed_skips_a_channel_that_already_has_the_message(write_config, smtp):
    settings = _config(write_config, {"a": _mailto(free_port()), "b": smtp.mailto})
    with Store(settings.db_path) as store:
        delivery.enqueue(store, settings, kind="alert", ref="4:red", subject="s", html=HTML, text=TEXT)
        now = utcnow()
        for step in range(3):  # a gives up after max_attempts; b delivers at once
            delivery.deliver_pending(settings, store, now=now + timedelta(hours=step))
        states = {r["channel"]: r["state"] for r in _rows(store)}
        assert states == {"a": "failed", "b": "sent"}
        requeued, skipped = delivery.retry_failed(settings, store, to="b")
        assert requeued == [] and len(skipped) == 1
        assert delivery.deliver_pending(settings, store, now=now + timedelta(hours=4)) == (0, 0)
        # without --to it goes back to its own channel with fresh attempts
        requeued, _ = delivery.retry_failed(settings, store, channel="a")
        assert len(requeued) == 1
        assert {r["channel"]: (r["state"], r["attempts"]) for r in _rows(store)}["a"] == ("pending", 0)
    assert len(smtp.wait_for(1)) == 1


@pytest.mark.parametrize(("blocks", "key"), [
    ('[[alerts.channels]]\nname = "x"\nurl = "mailto://a"\n[[alerts.channels]]\nname = "x"\nurl = "json://b"\n',
     "alerts.channels[1].name"),
    ('[[alerts.channels]]\nname = "bad name"\nurl = "mailto://a"\n', "alerts.channels[0].name"),
    ('[[alerts.channels]]\nname = "ok"\nurl = "smtp.example.com"\n', "alerts.channels[0].url"),
    ('[[alerts.channels]]\nurl = "mailto://a"\n', "alerts.channels[0].name"),
])
def test_bad_channels_name_the_key(write_config, blocks, key):
    with pytest.raises(ConfigError) as info:
        settings_mod.load(write_config(blocks))
    assert info.value.path == key
    result = CliRunner().invoke(cli, ["--config", str(write_config(blocks)), "check"])
    assert result.exit_code == 2 and key in result.output


def test_a_store_of_schema_5_keeps_its_queued_rows_through_the_v6_migration(write_config, smtp):
    import sqlite3

    import sqlite_utils

    from yuqing.store import MIGRATIONS

    settings = _config(write_config, {}, notify=[smtp.mailto])
    conn = sqlite3.connect(settings.db_path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    for migration in MIGRATIONS[:5]:
        migration(db)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("INSERT INTO deliveries(kind, ref, channel, subject, state, attempts, created_at, html, text)"
                 " VALUES ('alert', '9:red', ?, '旧的预警', 'pending', 1, '2026-03-01T00:00:00+00:00', '', 'x')",
                 (delivery.channel_id(smtp.mailto),))
    conn.close()
    with Store(settings.db_path) as store:
        assert store.version == len(MIGRATIONS)
        assert delivery.deliver_pending(settings, store) == (1, 0)
    assert smtp.wait_for(1)[0]["Subject"] == "旧的预警"
