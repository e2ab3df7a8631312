"""Times shown to people are in `[digest] timezone`, one format everywhere: `status`, `alerts`,
`alerts show` (检测时间 = when the alert was raised), `cases`, alert emails."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from yuqing.cli import cli
from yuqing.localtime import FORMAT, minutes, shown
from yuqing.models import CrawlStats, to_iso
from yuqing.store import Store

STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(\+00:00|Z)?")


@pytest.mark.parametrize("value, tz, expected", [
    ("2024-06-14T02:30:00+00:00", "Asia/Shanghai", "2024-06-14 10:30"),
    ("2024-06-14T02:30:00", "Asia/Shanghai", "2024-06-14 10:30"),  # a stored stamp without zone is UTC
    (datetime(2024, 1, 1, 12, tzinfo=timezone.utc), "America/New_York", "2024-01-01 07:00"),
    (None, "Asia/Shanghai", "—"),
    ("", "Asia/Shanghai", "—"),
    ("not a time", "Asia/Shanghai", "not a time"),
])
def test_shown(value, tz, expected):
    assert shown(value, tz) == expected


def _only_local_stamps(text: str, *expected: str) -> None:
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), f"an ISO/UTC stamp is shown:\n{text}"
    assert not re.search(r"\+00:00", text), text
    for value in expected:
        assert value in text, f"{value} not in\n{text}"


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Asia/Kolkata"])
def test_the_minute_formatter_shows_what_shown_shows(tz):
    # minutes() reuses what a stored minute shows; every second of it, across a DST change and
    # before 1900 (offsets with seconds), other stamp forms and empties must show as shown() does
    local = minutes(tz)
    start = datetime(2024, 3, 10, 6, 58, tzinfo=timezone.utc)  # New York springs forward at 07:00 UTC
    stamps = [to_iso(start + timedelta(seconds=s)) for s in range(0, 300, 7)]
    stamps += ["1890-01-01T00:00:13+00:00", "1890-01-01T00:00:47+00:00", "2024-06-14T02:30:00",
               "2024-06-14T02:30:59.5+00:00", "not a time", "", None]
    for value in stamps + stamps:  # the second time from the cache
        assert local(value) == shown(value, tz), value
    assert minutes(tz, empty="")(None) == ""


def test_status_shows_runs_and_next_runs_in_the_digest_timezone(write_config):
    cfg = write_config('\n[[sources]]\nname = "a"\ntype = "feed"\nurl = "http://127.0.0.1:9/f.xml"\n')
    at = datetime(2024, 6, 14, 2, 30, tzinfo=timezone.utc)
    with Store(cfg.parent / "yuqing.db") as store:
        store.finish_run(None, CrawlStats(source="a", fetched=3, new=1, pages=1, started_at=at, finished_at=at))
        store.set_meta("daemon", json.dumps({"running": False, "pid": 1, "updated_at": to_iso(at),
                                             "jobs": [{"id": "digest", "next_run": "2024-06-15T00:00:00+00:00"}]}))
    out = CliRunner().invoke(cli, ["--config", str(cfg), "status"]).output
    _only_local_stamps(out, "last run 2024-06-14 10:30", "next run 2024-06-15 08:00", "times in Asia/Shanghai")
    as_json = json.loads(CliRunner().invoke(cli, ["--config", str(cfg), "status", "--json"]).output)
    assert as_json["sources"][0]["last_run_at"].startswith("2024-06-14T02:30")  # programs keep UTC ISO


def test_alerts_list_and_show_use_local_time_and_show_when_the_alert_was_raised(write_config):
    from tests.alerts.helpers import T0, background, spike

    cfg = write_config('\n[alerts]\noutbox = "outbox"\n')
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    now = T0 + timedelta(weeks=3, hours=10)
    with Store(cfg.parent / "yuqing.db") as store:
        background(store, T0, 24 * 22)
        spike(store, now + timedelta(minutes=5), 12, minutes=20, topics=["交通"], title="国道断路")
    at = now + timedelta(minutes=40)
    assert runner.invoke(cli, ["--config", str(cfg), "detect", "--at", to_iso(at), "--no-send"]).exit_code == 0
    with Store(cfg.parent / "yuqing.db") as store:
        row = store.query("SELECT * FROM alerts WHERE kind = 'locality'")[0]
    raised = shown(row["opened_at"], "Asia/Shanghai")
    listed = runner.invoke(cli, ["--config", str(cfg), "alerts"]).output
    _only_local_stamps(listed, raised)
    out = runner.invoke(cli, ["--config", str(cfg), "alerts", "show", str(row["id"])]).output
    _only_local_stamps(out, f"开始 {raised}", f"检测时间：{raised}")
    assert shown(datetime.now(timezone.utc), "Asia/Shanghai") not in out or raised == shown(datetime.now(timezone.utc), "Asia/Shanghai")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", raised) and FORMAT == "%Y-%m-%d %H:%M"


def test_cases_list_and_show_use_local_time(write_config):
    from tests.alerts.helpers import T0, background, spike
    from yuqing import settings as settings_mod
    from yuqing.alerts import detector

    cfg = write_config('\n[alerts]\noutbox = "outbox"\n\n[[units]]\nname = "县水务局"\n')
    settings = settings_mod.load(cfg)
    now = T0 + timedelta(weeks=3, hours=10)
    with Store(settings.db_path) as store:
        background(store, T0, 24 * 22)
        spike(store, now + timedelta(minutes=5), 14, title="城东停水三天", topics=["民生"])
        detector.detect(settings, store, now + timedelta(minutes=50))
    runner = CliRunner()
    [case] = json.loads(runner.invoke(cli, ["--config", str(cfg), "cases", "list", "--json"]).output)
    cid = str(case["id"])
    assigned = runner.invoke(cli, ["--config", str(cfg), "cases", "assign", cid, "--unit", "县水务局", "--due", "6h",
                                   "--by", "张三"])
    assert assigned.exit_code == 0, assigned.output
    [data] = json.loads(runner.invoke(cli, ["--config", str(cfg), "cases", "show", cid, "--json"]).output)
    listed = runner.invoke(cli, ["--config", str(cfg), "cases", "list"]).output
    _only_local_stamps(listed, f"时限 {shown(data['due_at'], 'Asia/Shanghai')}")
    out = runner.invoke(cli, ["--config", str(cfg), "cases", "show", cid]).output
    _only_local_stamps(out, *(shown(step["at"], "Asia/Shanghai") for step in data["timeline"]))
