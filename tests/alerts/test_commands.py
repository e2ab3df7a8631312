"""`yuqing detect`, `yuqing alerts`, `yuqing backtest`, `yuqing deliver` through the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner

from tests.alerts.helpers import T0, background, spike
from tests.conftest import store_of
from yuqing.cli import cli
from yuqing.models import to_iso

NOW = T0 + timedelta(weeks=3, hours=10)


def _prepare(write_config, smtp=None):
    notify = f"notify = [{json.dumps(smtp.mailto)}]" if smtp else 'outbox = "outbox"'
    cfg = write_config(f"""
        [alerts]
        {notify}
        """)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    with store_of(cfg) as store:
        background(store, T0, 24 * 22)
        spike(store, NOW + timedelta(minutes=5), 12, minutes=20, topics=["交通"], title="国道断路")
    return cfg, runner


def test_detect_sends_and_lists_then_ack(write_config, smtp):
    cfg, runner = _prepare(write_config, smtp)
    at = to_iso(NOW + timedelta(minutes=40))
    result = runner.invoke(cli, ["--config", str(cfg), "detect", "--at", at])
    assert result.exit_code == 0, result.output
    assert "未解除" in result.output and "deliveries: 1 sent, 0 failed" in result.output
    assert len(smtp.wait_for(1)) == 1
    again = runner.invoke(cli, ["--config", str(cfg), "detect", "--at", at])
    assert "no alert changed" in again.output and "deliveries: 0 sent" in again.output
    listed = runner.invoke(cli, ["--config", str(cfg), "alerts"])
    assert listed.exit_code == 0 and "芦山县" in listed.output and "话题「交通」" in listed.output
    rows = [json.loads(line) for line in runner.invoke(cli, ["--config", str(cfg), "alerts", "list", "--json"]).output.splitlines()]
    alert_id = next(r["id"] for r in rows if r["kind"] == "locality")
    shown = runner.invoke(cli, ["--config", str(cfg), "alerts", "show", str(alert_id)])
    assert shown.exit_code == 0, shown.output
    assert "常态基线" in shown.output and "国道断路" in shown.output and "sent" in shown.output
    acked = runner.invoke(cli, ["--config", str(cfg), "alerts", "ack", str(alert_id), "--by", "张三",
                                "--note", "已转交交通局"])
    assert acked.exit_code == 0, acked.output
    with store_of(cfg) as store:
        row = store.query("SELECT * FROM alerts WHERE id = ?", [alert_id])[0]
        audit = store.query("SELECT * FROM audit_log")
    assert row["acknowledged_by"] == "张三" and row["ack_note"] == "已转交交通局" and row["acknowledged_at"]
    assert audit[0]["action"] == "alert.ack" and audit[0]["user"] == "张三"
    assert "确认 张三" in runner.invoke(cli, ["--config", str(cfg), "alerts", "show", str(alert_id)]).output


def test_unknown_alert_is_an_error_in_words(write_config):
    cfg, runner = _prepare(write_config)
    result = runner.invoke(cli, ["--config", str(cfg), "alerts", "show", "999"])
    assert result.exit_code == 1 and "no alert #999" in result.output
    result = runner.invoke(cli, ["--config", str(cfg), "alerts", "ack", "999", "--by", "x"])
    assert result.exit_code == 1


def test_backtest_prints_json_lines_and_sends_nothing(write_config, tmp_path):
    cfg, runner = _prepare(write_config)
    result = runner.invoke(cli, ["--config", str(cfg), "backtest", "--since", to_iso(NOW - timedelta(days=1)),
                                 "--until", to_iso(NOW + timedelta(hours=12))])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert {(r["kind"], r["key"]) for r in records} == {("locality", "芦山县"), ("topic", "交通")}
    for r in records:
        assert set(r) >= {"scope", "level", "opened", "resolved"}
        assert r["opened"] >= to_iso(NOW)
    with store_of(cfg) as store:
        assert store.scalar("SELECT count(*) FROM alerts") == 0
    assert not (tmp_path / "outbox").exists()


def test_backtest_bad_dates_exit_2(write_config):
    cfg, runner = _prepare(write_config)
    bad = runner.invoke(cli, ["--config", str(cfg), "backtest", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since" in bad.output
    backwards = runner.invoke(cli, ["--config", str(cfg), "backtest", "--since", "2026-03-10", "--until", "2026-03-01"])
    assert backwards.exit_code == 2 and "later" in backwards.output
    step = runner.invoke(cli, ["--config", str(cfg), "backtest", "--since", "2026-03-01", "--step", "often"])
    assert step.exit_code == 2 and "--step" in step.output


def test_deliver_writes_the_outbox_when_no_channel(write_config, tmp_path):
    cfg, runner = _prepare(write_config)
    result = runner.invoke(cli, ["--config", str(cfg), "detect", "--at", to_iso(NOW + timedelta(minutes=40)), "--no-send"])
    assert result.exit_code == 0 and "deliveries" not in result.output
    assert not (tmp_path / "outbox").exists()
    sent = runner.invoke(cli, ["--config", str(cfg), "deliver"])
    assert sent.exit_code == 0 and "1 sent" in sent.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_bad_alert_settings_exit_2_with_the_key(write_config):
    runner = CliRunner()
    for extra, key in (("p_value = 2.0", "alerts.p_value"), ("level_scores = [5, 4, 3]", "alerts.level_scores"),
                       ('notify = ["not a url"]', "alerts.notify"), ("windows = []", "alerts.windows")):
        cfg = write_config(f"[alerts]\n{extra}\n")
        result = runner.invoke(cli, ["--config", str(cfg), "detect"])
        assert result.exit_code == 2 and key in result.output, (extra, result.output)
