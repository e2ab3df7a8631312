"""Delivery against a real aiosmtpd, the outbox, a loopback webhook, and a real process killed mid-send."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from yuqing import settings as settings_mod
from yuqing.delivery import outbox as delivery
from yuqing.models import utcnow
from yuqing.store import Store

HTML = "<html><body><p>芦山县 负面舆情 <b>上升</b></p></body></html>"
TEXT = "芦山县 负面舆情上升"


def _config(write_config, notify: list[str]) -> settings_mod.Settings:
    urls = ", ".join(json.dumps(u) for u in notify)
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{urls}]
        retry = "1m"
        max_attempts = 3
        outbox = "outbox"
        """))


def _row(store: Store, delivery_id: int) -> dict:
    return store.query("SELECT * FROM deliveries WHERE id = ?", [delivery_id])[0]


def test_no_channel_writes_one_eml_to_the_outbox(write_config, tmp_path):
    settings = _config(write_config, [])
    with Store(settings.db_path) as store:
        ids = delivery.enqueue(store, settings, kind="digest", ref="2026-03-01", subject="舆情日报 3月1日",
                               html=HTML, text=TEXT, recipients=["leader@example.com"])
        again = delivery.enqueue(store, settings, kind="digest", ref="2026-03-01", subject="another",
                                 html="x", text="x")
        assert ids == again and len(ids) == 1
        assert delivery.deliver_pending(settings, store) == (1, 0)
        assert delivery.deliver_pending(settings, store) == (0, 0)
        assert _row(store, ids[0])["state"] == "sent"
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "舆情日报 3月1日"
    assert msg["To"] == "leader@example.com"
    assert msg.get_body(("plain",)).get_content().strip() == TEXT
    assert "<b>上升</b>" in msg.get_body(("html",)).get_content()


def test_email_arrives_as_html_and_text_with_a_stable_message_id(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="1:yellow", subject="【黄色预警】芦山县",
                                 html=HTML, text=TEXT)
        assert delivery.deliver_pending(settings, store) == (1, 0)
        row = _row(store, did)
    [msg] = smtp.wait_for(1)
    assert msg["Subject"] == "【黄色预警】芦山县"
    assert msg["To"] == "duty@example.com"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().strip() == TEXT
    assert msg["Message-ID"] == delivery.message_id(did, "alert", "1:yellow")
    assert row["state"] == "sent" and row["attempts"] == 1 and row["sent_at"] and row["last_error"] is None
    assert "127.0.0.1" in row["channel"] and "duty" not in row["channel"]


def test_recipients_replace_the_url_to(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    with Store(settings.db_path) as store:
        delivery.enqueue(store, settings, kind="digest", ref="2026-03-01", subject="日报", html=HTML, text=TEXT,
                         recipients=["a@example.com", "b@example.com"])
        delivery.deliver_pending(settings, store)
    [msg] = smtp.wait_for(1)
    assert msg["To"] == "a@example.com, b@example.com"


def test_smtp_down_then_back_delivers_exactly_once(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    smtp.stop()
    now = utcnow()
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="7:orange", subject="橙色预警", html=HTML, text=TEXT)
        assert delivery.deliver_pending(settings, store, now=now) == (0, 1)
        row = _row(store, did)
        assert row["state"] == "pending" and row["attempts"] == 1
        assert "connection refused" in row["last_error"] and str(smtp.port) in row["last_error"]
        # not due yet: the backoff is respected
        assert delivery.deliver_pending(settings, store, now=now + timedelta(seconds=30)) == (0, 0)
        smtp.start()
        assert delivery.deliver_pending(settings, store, now=now + timedelta(minutes=2)) == (1, 0)
        assert delivery.deliver_pending(settings, store, now=now + timedelta(hours=2)) == (0, 0)
        assert _row(store, did)["state"] == "sent"
    assert len(smtp.wait_for(1)) == 1
    assert smtp.messages[0]["Subject"] == "橙色预警"


def test_backoff_doubles_and_then_gives_up_in_words(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    smtp.stop()
    now = utcnow()
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="8:blue", subject="s", html=HTML, text=TEXT)
        delivery.deliver_pending(settings, store, now=now)
        first = _row(store, did)["next_attempt_at"]
        delivery.deliver_pending(settings, store, now=now + timedelta(minutes=1))
        second = _row(store, did)["next_attempt_at"]
        from yuqing.models import from_iso

        assert from_iso(first) - now == timedelta(minutes=1)
        assert from_iso(second) - (now + timedelta(minutes=1)) == timedelta(minutes=2)
        delivery.deliver_pending(settings, store, now=now + timedelta(minutes=3))
        row = _row(store, did)
        assert row["state"] == "failed" and row["attempts"] == 3
        assert row["last_error"].startswith("gave up after 3 attempts: cannot reach SMTP server")
        assert delivery.deliver_pending(settings, store, now=now + timedelta(days=1)) == (0, 0)


def test_rejected_recipient_is_recorded_in_words_and_not_retried(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    smtp.reject.add("duty@example.com")
    now = utcnow()
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="9:red", subject="s", html=HTML, text=TEXT)
        assert delivery.deliver_pending(settings, store, now=now) == (0, 1)
        row = _row(store, did)
        assert row["state"] == "failed"
        assert "refused every recipient" in row["last_error"]
        assert "duty@example.com: 550" in row["last_error"]
        assert delivery.deliver_pending(settings, store, now=now + timedelta(days=1)) == (0, 0)
    assert smtp.messages == []


def test_partly_refused_recipients_are_sent_and_noted(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    smtp.reject.add("gone@example.com")
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="digest", ref="d", subject="s", html=HTML, text=TEXT,
                                 recipients=["ok@example.com", "gone@example.com"])
        assert delivery.deliver_pending(settings, store) == (1, 0)
        row = _row(store, did)
    assert row["state"] == "sent" and "gone@example.com: 550" in row["last_error"]
    assert len(smtp.wait_for(1)) == 1


def test_webhook_channel_through_apprise(write_config, site):
    from tests.conftest import Response

    got: list[dict] = []

    def hook(path, headers, body):
        got.append(json.loads(body))
        return Response("{}", content_type="application/json")

    site.routes["/hook"] = hook
    site.routes["/broken"] = Response("<h1>oops</h1>", status=500)
    ok_url = f"json://127.0.0.1:{site.port}/hook"
    bad_url = f"json://127.0.0.1:{site.port}/broken"
    settings = _config(write_config, [ok_url, bad_url])
    with Store(settings.db_path) as store:
        ids = delivery.enqueue(store, settings, kind="alert", ref="3:yellow", subject="黄色预警", html=HTML, text=TEXT)
        assert len(ids) == 2
        assert delivery.deliver_pending(settings, store) == (1, 1)
        good, bad = (_row(store, i) for i in ids)
    assert got and got[0]["title"] == "黄色预警" and got[0]["message"] == TEXT
    assert good["state"] == "sent"
    assert bad["state"] == "pending" and "500" in bad["last_error"]


def test_channel_removed_from_config_fails_in_words(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="1:blue", subject="s", html=HTML, text=TEXT)
    other = _config(write_config, ["json://127.0.0.1:9/x"])
    with Store(other.db_path) as store:
        delivery.deliver_pending(other, store)
        row = _row(store, did)
    assert row["state"] == "failed" and "no longer configured" in row["last_error"] and "--retry-failed" in row["last_error"]


_CHILD = """
import sys
from yuqing import settings
from yuqing.delivery.outbox import deliver_pending
from yuqing.store import Store
s = settings.load(sys.argv[1])
with Store(s.db_path) as st:
    print(deliver_pending(s, st))
"""


def _child(config, crash: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(delivery.CRASH_ENV, None)
    if crash:
        env[delivery.CRASH_ENV] = crash
    return subprocess.run([sys.executable, "-c", _CHILD, str(config)], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("point", ["before-send", "after-send"])
def test_kill_during_delivery_then_restart_loses_nothing(write_config, smtp, point):
    settings = _config(write_config, [smtp.mailto])
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="5:red", subject="红色预警", html=HTML, text=TEXT)
    killed = _child(settings.config_file, crash=point)
    assert killed.returncode == -9, killed.stderr
    with Store(settings.db_path) as store:
        assert _row(store, did)["state"] == "sending"
    again = _child(settings.config_file)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "(1, 0)"
    assert _child(settings.config_file).stdout.strip() == "(0, 0)"  # a further restart sends nothing
    with Store(settings.db_path) as store:
        row = _row(store, did)
    assert row["state"] == "sent" and row["attempts"] == 2
    msgs = smtp.wait_for(1)
    ids = {m["Message-ID"] for m in msgs}
    assert ids == {delivery.message_id(did, "alert", "5:red")}
    if point == "before-send":
        assert len(msgs) == 1  # killed before the SMTP transaction: exactly one mail
    else:
        # killed after the server took it, before we recorded it: the resend is the same Message-ID,
        # which mail clients show once (the documented at-least-once trade-off)
        assert len(msgs) == 2


def test_a_claim_held_by_a_live_process_is_not_stolen(write_config, smtp):
    settings = _config(write_config, [smtp.mailto])
    with Store(settings.db_path) as store:
        [did] = delivery.enqueue(store, settings, kind="alert", ref="6:blue", subject="s", html=HTML, text=TEXT)
        live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            import socket

            with store.transaction():
                store.conn.execute("UPDATE deliveries SET state='sending', claimed_by=?, next_attempt_at=? WHERE id=?",
                                   (f"{socket.gethostname()}:{live.pid}", "2999-01-01T00:00:00+00:00", did))
            assert delivery.deliver_pending(settings, store) == (0, 0)
        finally:
            live.kill()
            live.wait()
        assert delivery.deliver_pending(settings, store) == (1, 0)
