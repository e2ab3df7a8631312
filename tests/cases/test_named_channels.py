"""`[[units]] notify` and `[cases] escalate_to` may name a `[[alerts.channels]]` channel (#10), as well as
give an apprise URL. Against a real SMTP server (aiosmtpd) on loopback: the assignment and the overdue
notice reach the named channels through the delivery outbox, rows are addressed to the channel's name,
and a message queued while a channel's url is wrong goes out once after the url is fixed. A name that
no channel has stops the config with the key path (exit 2)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.alerts.helpers import T0, add_event, background, spike
from tests.conftest import free_port
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.cases import workflow
from yuqing.cli import cli
from yuqing.delivery import outbox
from yuqing.errors import ConfigError
from yuqing.store import Store
from yuqing.store import cases as db

NOW = T0 + timedelta(weeks=3, hours=10)


def _config(smtp, boss_url: str) -> str:
    water = smtp.mailto.replace("duty@example.com", "water@example.com")
    return f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]

        [[alerts.channels]]
        name = "water-email"
        url = {json.dumps(water)}
        broadcast = false

        [[alerts.channels]]
        name = "boss-email"
        url = {json.dumps(boss_url)}
        broadcast = false

        [[units]]
        name = "县水务局"
        notify = ["water-email"]

        [cases]
        escalate_to = ["boss-email"]

        [cases.deadlines]
        "黄" = {{respond = "2h", close = "1d"}}
        """


def _boss(smtp, port: int | None = None) -> str:
    url = smtp.mailto.replace("duty@example.com", "boss@example.com")
    return url if port is None else url.replace(f":{smtp.port}?", f":{port}?")


@pytest.fixture
def named(write_config, smtp):
    dead = free_port()  # nothing listens here: the boss channel's url is wrong at first
    settings = settings_mod.load(write_config(_config(smtp, _boss(smtp, dead))))
    store = Store(settings.db_path)
    background(store, T0, 24 * (7 * 3 + 1))
    ev = add_event(store, "城东片区停水三天", NOW, NOW)
    spike(store, NOW + timedelta(minutes=5), 14, title="城东停水三天没人管", topics=["民生"], keywords=["停水"],
          event_id=ev)
    yield settings, store, write_config
    store.close()


def _channels(store: Store, kind: str) -> dict[str, str]:
    return {r["channel"]: r["state"] for r in outbox.deliveries(store, kind=kind)}


def test_assignment_and_overdue_reach_named_channels_and_survive_a_url_fix(named, smtp):
    settings, store, write_config = named
    detector.detect(settings, store, NOW + timedelta(minutes=50))
    # the case alert goes to [alerts] notify only: the unit's and the boss's channels are not broadcast
    assert outbox.deliver_pending(settings, store) == (1, 0)
    assert [str(m["To"]) for m in smtp.wait_for(1)] == ["duty@example.com"]
    case_id = db.listing(store)[0]["id"]
    assigned_at = NOW + timedelta(hours=1)
    case = workflow.assign(settings, store, case_id, unit="县水务局", note="请核实", who="张三", now=assigned_at)
    assert outbox.deliver_pending(settings, store) == (1, 0)
    mails = smtp.wait_for(2)
    assert str(mails[1]["Subject"]).startswith("【舆情交办】县水务局") and "water@example.com" in str(mails[1]["To"])

    due = assigned_at + workflow.deadlines(settings, case["level"])[0]
    assert workflow.check(settings, store, due) == [(case_id, "respond")]
    sent, failed = outbox.deliver_pending(settings, store)
    assert (sent, failed) == (1, 1)  # the unit's channel took it; the boss's url points nowhere
    assert _channels(store, "case") == {"water-email": "sent", "boss-email": "pending"}  # by name, not URL hash
    overdue = [m for m in smtp.wait_for(3) if "【舆情超期】" in str(m["Subject"])]
    assert [str(m["To"]) for m in overdue] == ["water@example.com"]

    # the operator fixes boss-email's url while the notice waits: it goes there, once
    fixed = settings_mod.load(write_config(_config(smtp, _boss(smtp))))
    later = outbox.utcnow() + timedelta(minutes=5)
    assert outbox.deliver_pending(fixed, store, now=later) == (1, 0)
    overdue = [m for m in smtp.wait_for(4) if "【舆情超期】" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in overdue) == ["boss@example.com", "water@example.com"]
    assert _channels(store, "case") == {"water-email": "sent", "boss-email": "sent"}
    assert workflow.check(fixed, store, due + timedelta(minutes=5)) == []
    assert outbox.deliver_pending(fixed, store, now=later + timedelta(hours=1)) == (0, 0)
    assert len(smtp.messages) == 4


def test_escalate_to_empty_tells_every_alerts_channel(write_config, smtp):
    """With no escalate_to, an overdue case goes to the unit and to every broadcast [alerts] channel,
    named ones too; a channel with broadcast = false only where it is named."""
    from yuqing.cases.notices import queue_overdue

    duty2 = smtp.mailto.replace("duty@example.com", "duty2@example.com")
    settings = settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]

        [[alerts.channels]]
        name = "duty2"
        url = {json.dumps(duty2)}

        [[alerts.channels]]
        name = "water"
        url = {json.dumps(smtp.mailto.replace("duty@", "water@"))}
        broadcast = false

        [[units]]
        name = "县水务局"
        notify = ["water"]
        """))
    case = {"id": 7, "title": "城东停水", "level": "yellow", "state": "处置中", "unit": "县水务局", "verdict": None,
            "posts": [], "respond_due": "2024-05-01T02:00:00+00:00", "close_due": "2024-05-02T00:00:00+00:00"}
    with Store(settings.db_path) as store:
        with store.transaction():
            queue_overdue(settings, store, case, "respond")
        channels = sorted(_channels(store, "case"))
        assert len(channels) == 3 and channels[0] == "duty2" and channels[2] == "water"
        assert channels[1].startswith("mailto://127.0.0.1:")  # [alerts] notify, named after its URL
        assert outbox.deliver_pending(settings, store) == (3, 0)
    assert sorted(str(m["To"]) for m in smtp.wait_for(3)) == ["duty2@example.com", "duty@example.com",
                                                              "water@example.com"]


@pytest.mark.parametrize("units, cases, words", [
    ('notify = ["water-email", "x"]', "", 'units[0].notify[1]: no channel named "x" in [[alerts.channels]]'),
    ('notify = ["mailto://127.0.0.1:25?to=a@b.c"]', 'escalate_to = ["bos"]',
     'cases.escalate_to[0]: no channel named "bos" in [[alerts.channels]] (known: water-email)'),
    ('notify = ["县 水务局 邮箱"]', "",
     "units[0].notify[0]: expected an apprise URL like mailto://... or a channel name, got '县 水务局 邮箱'"),
])
def test_a_name_no_channel_has_stops_the_config_with_the_key_path(write_config, units, cases, words):
    config = write_config(f"""
        [[alerts.channels]]
        name = "water-email"
        url = "mailto://127.0.0.1:25?to=water@example.com"

        [[units]]
        name = "县水务局"
        {units}

        [cases]
        {cases}
        """)
    with pytest.raises(ConfigError) as caught:
        settings_mod.load(config)
    assert str(caught.value).startswith(words)
    res = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output


def test_the_example_config_documents_channel_names():
    text = (Path(__file__).resolve().parents[2] / "config" / "yuqing.example.toml").read_text(encoding="utf-8")
    units = text.split("[[units]]", 1)[1].split("[cases.deadlines]", 1)[0]
    assert "[[alerts.channels]] names" in units and units.count("duty-email") >= 1
