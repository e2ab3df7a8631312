"""One incident from the first alert to 办结, against a real SMTP server (aiosmtpd) on loopback.

One incident -> one case and one email (not three); an escalation -> one more; assigning notifies
the unit; a passed deadline -> one overdue notice and no second one; a restart in the middle (the
store closed and reopened with messages still queued) loses and repeats nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.alerts.helpers import T0, add_event, background, spike
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.cases import model, workflow
from yuqing.cases.report import describe
from yuqing.delivery import outbox
from yuqing.store import Store
from yuqing.store import cases as db

NOW = T0 + timedelta(weeks=3, hours=10)


def _settings(write_config, smtp) -> settings_mod.Settings:
    unit = smtp.mailto.replace("duty@example.com", "water@example.com")
    boss = smtp.mailto.replace("duty@example.com", "boss@example.com")
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]

        [[units]]
        name = "县水务局"
        notify = [{json.dumps(unit)}]

        [cases]
        escalate_to = [{json.dumps(boss)}]

        [cases.deadlines]
        "黄" = {{respond = "2h", close = "1d"}}
        """))


def _subjects(smtp) -> list[str]:
    return [str(m["Subject"]) for m in smtp.messages]


@pytest.fixture
def incident(write_config, smtp):
    settings = _settings(write_config, smtp)
    store = Store(settings.db_path)
    background(store, T0, 24 * (7 * 3 + 1))
    ev = add_event(store, "城东片区停水三天", NOW, NOW)
    spike(store, NOW + timedelta(minutes=5), 14, title="城东停水三天没人管", topics=["民生"], keywords=["停水"],
          event_id=ev)
    yield settings, store, ev
    store.close()


def test_one_incident_is_one_case_and_one_email_then_escalation_adds_one(incident, smtp):
    settings, store, ev = incident
    changed = detector.detect(settings, store, NOW + timedelta(minutes=50))
    assert {a.kind for a in changed} == {"locality", "topic", "event"}  # three alerts...
    cases = db.listing(store)
    assert len(cases) == 1  # ...one case
    case = cases[0]
    assert case["state"] == model.PENDING and case["events"] == [ev]
    assert sorted(db.alert_ids(store, case["id"])) == sorted(a.id for a in changed)
    assert case["level"] == max((a.level for a in changed), key=["blue", "yellow", "orange", "red"].index)
    assert case["title"].startswith("城东停水三天没人管")  # the representative post, not "芦山县"
    assert outbox.deliver_pending(settings, store) == (1, 0)
    [mail] = smtp.wait_for(1)
    text = mail.get_body(("plain",)).get_content()
    assert f"舆情案件 #{case['id']}" in text and "状态：待研判" in text and "本案共 3 项预警" in text
    assert "/case/1" in text

    # the same spike seen again: nothing new
    detector.detect(settings, store, NOW + timedelta(minutes=55))
    assert outbox.deliver_pending(settings, store) == (0, 0)

    # the incident grows: the level rises -> exactly one more email, still one case
    spike(store, NOW + timedelta(minutes=56), 60, minutes=20, title="停水引发围堵", topics=["民生"], event_id=ev,
          source="weibo")
    detector.detect(settings, store, NOW + timedelta(minutes=80))
    grown = db.get(store, case["id"])
    assert grown is not None and len(db.listing(store)) == 1
    assert ["blue", "yellow", "orange", "red"].index(grown["level"]) > ["blue", "yellow", "orange", "red"].index(case["level"])
    assert outbox.deliver_pending(settings, store) == (1, 0)
    mails = smtp.wait_for(2)
    assert len(mails) == 2
    assert model.level_name(grown["level"]) in str(mails[1]["Subject"])
    actions = [s["action"] for s in db.steps(store, case["id"])]
    assert actions[0] == "open" and actions.count("join") == 2 and "escalate" in actions


def test_assign_notifies_the_unit_and_a_passed_deadline_is_chased_once(incident, smtp):
    settings, store, _ = incident
    detector.detect(settings, store, NOW + timedelta(minutes=50))
    outbox.deliver_pending(settings, store)
    case_id = db.listing(store)[0]["id"]
    assigned_at = NOW + timedelta(hours=1)
    # assigned before it is assessed: allowed
    case = workflow.assign(settings, store, case_id, unit="县水务局", note="请核实并发布通报", who="张三",
                           now=assigned_at)
    assert case["state"] == model.HANDLING
    level = case["level"]
    gap = workflow.deadlines(settings, level)[0]
    assert case["respond_due"] == (assigned_at + gap).isoformat()
    assert outbox.deliver_pending(settings, store) == (1, 0)
    mails = smtp.wait_for(2)
    assign_mail = mails[1]
    assert str(assign_mail["Subject"]).startswith("【舆情交办】县水务局")
    assert "water@example.com" in str(assign_mail["To"])
    assert "状态：处置中" in assign_mail.get_body(("plain",)).get_content()

    # one second before the deadline: nothing; at the deadline: one notice to the unit and escalate_to
    due = assigned_at + gap
    assert workflow.check(settings, store, due - timedelta(seconds=1)) == []
    assert workflow.check(settings, store, due) == [(case_id, "respond")]
    assert outbox.deliver_pending(settings, store) == (2, 0)  # unit + escalate_to
    overdue = [m for m in smtp.wait_for(4) if "【舆情超期】" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in overdue) == ["boss@example.com", "water@example.com"]
    assert describe(settings, store, db.get(store, case_id), due)["overdue"] is True  # type: ignore[arg-type]
    # a restart later, checked again and again: no second notice for the same deadline
    store.close()
    with Store(settings.db_path) as again:
        assert workflow.check(settings, again, due + timedelta(minutes=5)) == []
        assert outbox.deliver_pending(settings, again) == (0, 0)
    assert len(smtp.messages) == 4


def test_full_lifecycle_timeline_and_response_effect(incident, smtp):
    settings, store, _ev = incident
    detector.detect(settings, store, NOW + timedelta(minutes=50))
    case_id = db.listing(store)[0]["id"]
    t = NOW + timedelta(hours=1)
    workflow.assess(settings, store, case_id, verdict="属实", level="橙", note="已核实", who="张三", now=t)
    assert db.get(store, case_id)["state"] == model.ASSESSED  # type: ignore[index]
    workflow.assign(settings, store, case_id, unit="县水务局", due="3h", who="张三", now=t + timedelta(minutes=1))
    case = workflow.respond(settings, store, case_id, url="https://www.example.gov.cn/tz/1.html", note="发布停水通报",
                            who="李四", now=t + timedelta(hours=1))
    assert case["state"] == model.RESPONDED
    # after the response the incident goes quiet: 舆情回落 three hours later
    data = describe(settings, store, case, t + timedelta(hours=5))
    assert data["effect"]["before"] > data["effect"]["baseline"]
    assert data["effect"]["after"] == 0 and data["effect"]["words"] == "舆情回落"
    assert workflow.check(settings, store, t + timedelta(hours=5)) == []  # responded in time: not overdue
    case = workflow.close(settings, store, case_id, summary="已恢复供水", who="张三", now=t + timedelta(hours=6))
    data = describe(settings, store, case)
    assert data["state"] == model.CLOSED and data["overdue"] is False
    assert [s["action"] for s in data["timeline"] if s["who"] != "系统"] == ["assess", "assign", "respond", "close"]
    assert [s["state"] for s in data["timeline"]][-4:] == [model.ASSESSED, model.HANDLING, model.RESPONDED, model.CLOSED]
    audit = store.query("SELECT action FROM audit_log WHERE action LIKE 'case.%' ORDER BY id")
    assert [r["action"] for r in audit] == ["case.assess", "case.assign", "case.respond", "case.close"]
    with pytest.raises(model.CaseError, match="办结"):
        workflow.dismiss(settings, store, case_id, reason="x", who="张三")


def test_bad_steps_are_refused_in_words_and_change_nothing(incident):
    settings, store, _ = incident
    detector.detect(settings, store, NOW + timedelta(minutes=50))
    case_id = db.listing(store)[0]["id"]
    before = db.get(store, case_id)
    cases = [
        (lambda: workflow.assess(settings, store, case_id, verdict="真的", who="a"), 2, "verdict"),
        (lambda: workflow.assess(settings, store, case_id, verdict="属实", level="紫", who="a"), 2, "level"),
        (lambda: workflow.assign(settings, store, case_id, unit="县教育局", who="a"), 2, "县水务局"),
        (lambda: workflow.assign(settings, store, case_id, unit="县水务局", due="明天", who="a"), 2, "--due"),
        (lambda: workflow.assign(settings, store, case_id, unit="县水务局", due="2020-01-01T08:00", who="a"), 2, "passed"),
        (lambda: workflow.respond(settings, store, case_id, url="https://x.cn/1", who="a"), 1, "待研判"),
        (lambda: workflow.respond(settings, store, case_id, url="javascript:alert(1)", who="a"), 2, "--url"),
        (lambda: workflow.close(settings, store, case_id, summary="done", who="a"), 1, "cannot close"),
        (lambda: workflow.dismiss(settings, store, case_id, reason="  ", who="a"), 2, "--reason"),
        (lambda: workflow.assess(settings, store, 999, verdict="属实", who="a"), 1, "no case #999"),
        (lambda: workflow.open_manual(settings, store, post_id=10**9, who="a"), 1, "no post"),
        (lambda: workflow.open_manual(settings, store, who="a"), 2, "exactly one"),
    ]
    for call, code, words in cases:
        with pytest.raises(model.CaseError, match=words) as info:
            call()
        assert info.value.code == code, words
    assert db.get(store, case_id) == before
    assert db.steps(store, case_id)[-1]["action"] != "assess"


def test_a_manual_case_and_a_watch_term_open_cases_at_once(write_config, smtp):
    settings = settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]
        watch_terms = ["爆炸"]
        """))
    with Store(settings.db_path) as store:
        background(store, T0, 24 * 7)
        spike(store, NOW - timedelta(days=3), 1, title="三天前的爆炸旧闻")  # history: opens nothing
        quiet = spike(store, NOW, 1, title="化工园区传出爆炸声")  # one post: no statistics would fire
        other = spike(store, NOW, 1, title="某大V转发拆迁视频")
        detector.detect(settings, store, NOW + timedelta(minutes=5))
        [watch] = db.listing(store)
        assert watch["origin"] == "watch" and watch["state"] == model.PENDING and watch["posts"][0]["id"] == quiet[0]
        detector.detect(settings, store, NOW + timedelta(minutes=10))  # scanned once: not opened again
        assert len(db.listing(store)) == 1
        manual = workflow.open_manual(settings, store, post_id=other[0], level="橙", note="大V转发", who="张三")
        assert manual["level"] == "orange" and manual["title"] == "某大V转发拆迁视频0"
        assert outbox.deliver_pending(settings, store) == (2, 0)
    subjects = _subjects(smtp)
    assert any("关注词命中" in s for s in subjects) and any("人工立案" in s for s in subjects)


def test_the_digest_shows_where_every_case_stands(incident):
    from yuqing.digest import builder

    settings, store, _ = incident
    detector.detect(settings, store, NOW + timedelta(minutes=50))
    case_id = db.listing(store)[0]["id"]
    workflow.assign(settings, store, case_id, unit="县水务局", due="1h", who="张三", now=NOW + timedelta(hours=1))
    workflow.check(settings, store, NOW + timedelta(hours=2, seconds=1))
    day = (NOW + timedelta(hours=8)).date()  # Asia/Shanghai: the same local day
    data = builder.collect(settings, store, day)
    assert data["cases"]["opened"] == 1 and data["cases"]["overdue"] == 1
    [row] = data["cases"]["open"]
    assert row["state"] == model.HANDLING and row["unit"] == "县水务局" and row["overdue"] is True
    path = builder.build_digest(settings, store, day, send=False)
    html = path.read_text(encoding="utf-8")
    assert "处置情况" in html and "超期未结" in html and f"/case/{case_id}" in html
    text = store.query("SELECT text FROM digests")[0]["text"]
    assert "【处置情况】" in text and "处置中（已超期）" in text
