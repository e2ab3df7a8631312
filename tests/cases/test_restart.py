"""Killed (SIGKILL) in the middle of the case steps, then run again: nothing lost, nothing repeated.

Real processes (`python -m yuqing ...`), a real SMTP server; the delivery's fault injection kills the
process after the step committed and before its message went out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from tests.alerts.helpers import T0, add_event, background, spike
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.delivery.outbox import CRASH_ENV
from yuqing.store import Store

NOW = T0 + timedelta(weeks=3, hours=10)


def _run(config, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, CRASH_ENV: crash} if crash else {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    return subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)


def test_killed_between_a_step_and_its_message_then_rerun(write_config, smtp):
    unit = smtp.mailto.replace("duty@example.com", "water@example.com")
    config = write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]

        [[units]]
        name = "县水务局"
        notify = [{json.dumps(unit)}]
        """)
    settings = settings_mod.load(config)
    with Store(settings.db_path) as store:
        background(store, T0, 24 * (7 * 3 + 1))
        ev = add_event(store, "城东片区停水三天", NOW, NOW)
        spike(store, NOW + timedelta(minutes=5), 14, title="城东停水三天没人管", topics=["民生"], event_id=ev)
        detector.detect(settings, store, NOW + timedelta(minutes=50))  # queued, not sent: "the daemon died"

    # killed while sending the case's alert, then again while sending the assignment
    killed = _run(config, "deliver", crash="before-send")
    assert killed.returncode == -9
    killed = _run(config, "cases", "assign", "1", "--unit", "县水务局", "--due", "2s", "--by", "张三", crash="before-send")
    assert killed.returncode == -9
    # the deadline passes; the check is killed before its notice goes out
    time.sleep(2.5)
    killed = _run(config, "cases", "check", crash="before-send")
    assert killed.returncode == -9
    again = _run(config, "cases", "check")
    assert again.returncode == 0, again.stderr
    assert "no deadline passed" in again.stdout  # marked overdue once: not queued a second time
    # the case alert + the assignment + the overdue notice to the unit and to [alerts] notify
    assert "4 sent, 0 failed" in again.stderr
    third = _run(config, "cases", "check")
    assert "no deadline passed" in third.stdout and "0 sent" in third.stderr
    subjects = [str(m["Subject"]) for m in smtp.wait_for(4)]
    assert len(subjects) == 4, subjects
    assert sum("舆情预警" in s for s in subjects) == 1
    assert sum("【舆情交办】" in s for s in subjects) == 1
    overdue = [m for m in smtp.messages if "【舆情超期】" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in overdue) == ["duty@example.com", "water@example.com"]
    shown = json.loads(_run(config, "cases", "show", "1", "--json").stdout)[0]
    assert shown["state"] == "处置中" and shown["overdue"] is True
    assert [s["action"] for s in shown["timeline"]].count("overdue") == 1
    assert [s["action"] for s in shown["timeline"]].count("assign") == 1
