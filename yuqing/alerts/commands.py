"""CLI commands of this stage (registered by yuqing.cli): detect, alerts, backtest."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import click

from yuqing.cli import App, fail, pass_app
from yuqing.localtime import shown
from yuqing.models import LEVEL_NAMES, from_iso, utcnow
from yuqing.settings import parse_duration

STATE_ZH = {"open": "未解除", "escalated": "已升级", "resolved": "已解除"}  # as on the web


def _parse_when(value: str, tz: str, option: str) -> datetime:
    """'2026-03-01' (midnight in the digest timezone) or an ISO time; naive times are local."""
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0))
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date like 2026-03-01 or a time like 2026-03-01T08:00, got {value!r}", 2)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return parsed.astimezone(timezone.utc)


@click.command()
@click.option("--at", "at", default=None, help="Detect as of this time (ISO) instead of now.")
@click.option("--no-send", is_flag=True, help="Queue the messages but do not send them now.")
@pass_app
def detect(app: App, at: str | None, no_send: bool) -> None:
    """Run spike detection and source-health checks now, then send what is due.

    Prints each alert that opened, escalated or resolved. Messages go to every
    channel in [alerts] notify, or to the outbox folder when none is set.

    Example:

    \b
        yuqing --config yuqing.toml detect
    """
    from yuqing.delivery.outbox import deliver_pending
    from yuqing.alerts.detector import detect as run_detect

    settings = app.settings
    store = app.store()
    now = _parse_when(at, settings.digest.timezone, "--at") if at else utcnow()
    changed = run_detect(settings, store, now)
    for alert in changed:
        click.echo(f"#{alert.id} {STATE_ZH.get(alert.state, alert.state)} {LEVEL_NAMES.get(alert.level)} "
                   f"{alert.kind} {alert.title}")
    if not changed:
        click.echo("no alert changed")
    if not no_send:
        sent, failed = deliver_pending(settings, store)
        click.echo(f"deliveries: {sent} sent, {failed} failed")
        if failed:
            raise SystemExit(1)


@click.group(invoke_without_command=True)
@click.pass_context
def alerts(ctx: click.Context) -> None:
    """List, show and acknowledge alerts (without a subcommand: list the open ones).

    Example:

    \b
        yuqing --config yuqing.toml alerts list --all
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_alerts)


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@click.option("--limit", default=50, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@pass_app
def list_alerts(app: App, show_all: bool = False, limit: int = 50, as_json: bool = False) -> None:
    """List alerts, newest first (open and escalated ones unless --all).

    Example:

    \b
        yuqing --config yuqing.toml alerts list --all --limit 20
    """
    store = app.store(readonly=True) if app.settings.db_path.exists() else app.store()
    sql = "SELECT * FROM alerts" + ("" if show_all else " WHERE state != 'resolved'") + " ORDER BY id DESC LIMIT ?"
    rows = store.query(sql, [limit])
    tz = app.settings.digest.timezone
    if not rows and not as_json:
        click.echo("no alerts" if show_all else "no open alerts")
    for row in rows:
        if as_json:
            row = {**row, "explanation": json.loads(row["explanation"] or "{}")}
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        ack = f" 已确认({row['acknowledged_by']})" if row["acknowledged_by"] else ""
        click.echo(f"#{row['id']:<5} {LEVEL_NAMES.get(row['level'], row['level']):10} "
                   f"{STATE_ZH.get(row['state'], row['state'])} {shown(row['opened_at'], tz)} {row['kind']:8} {row['title']}{ack}")


def _alert_row(app: App, alert_id: int, readonly: bool) -> tuple[Any, dict[str, Any]]:
    store = app.store(readonly=readonly) if readonly and app.settings.db_path.exists() else app.store()
    rows = store.query("SELECT * FROM alerts WHERE id = ?", [alert_id])
    if not rows:
        fail(f"no alert #{alert_id}", 1)
    return store, rows[0]


@alerts.command("show")
@click.argument("alert_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the alert and its deliveries as JSON.")
@pass_app
def show_alert(app: App, alert_id: int, as_json: bool) -> None:
    """Show one alert: its explanation (counts vs baseline, top posts, terms) and deliveries.

    Example:

    \b
        yuqing --config yuqing.toml alerts show 12
    """
    from yuqing.delivery.outbox import deliveries
    from yuqing.alerts.lifecycle import to_alert
    from yuqing.alerts.message import render_alerts

    store, row = _alert_row(app, alert_id, readonly=True)
    sent = deliveries(store, kind="alert", ref=str(alert_id))
    if as_json:
        data = {**row, "explanation": json.loads(row["explanation"] or "{}"), "deliveries": sent}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    alert = to_alert(row)
    # 检测时间 is when detection raised it, not the moment someone looks
    raised = from_iso(row["opened_at"]) or utcnow()
    _, _, text = render_alerts(app.settings, [alert], raised)
    tz = app.settings.digest.timezone
    click.echo(f"预警 #{alert.id}  {LEVEL_NAMES.get(alert.level)}  {STATE_ZH.get(alert.state, alert.state)}")
    click.echo(f"开始 {shown(row['opened_at'], tz)}  更新 {shown(row['updated_at'], tz)}  "
               f"解除 {shown(row['resolved_at'], tz, empty='-')}")
    if row["acknowledged_by"]:
        click.echo(f"确认 {row['acknowledged_by']} {shown(row['acknowledged_at'], tz)}：{row['ack_note'] or ''}")
    click.echo(text)
    for d in sent:
        click.echo(f"delivery #{d['id']} {d['channel']} {d['state']} attempts={d['attempts']}"
                   + (f" error: {d['last_error']}" if d["last_error"] else ""))


@alerts.command("ack")
@click.argument("alert_id", type=int)
@click.option("--note", default="", help="What was done (研判、处置).")
@click.option("--by", "by", required=True, help="Who acknowledges it.")
@pass_app
def ack_alert(app: App, alert_id: int, note: str, by: str) -> None:
    """Acknowledge an alert with a note (recorded in the audit log).

    Example:

    \b
        yuqing --config yuqing.toml alerts ack 12 --by 张三 --note "已转交县信访局处置"
    """
    if not by.strip():
        fail("--by: give the name of who acknowledges", 2)
    from yuqing.alerts.lifecycle import acknowledge

    store, _ = _alert_row(app, alert_id, readonly=False)
    acknowledge(store, alert_id, by, note)
    click.echo(f"alert #{alert_id} acknowledged by {by}")


@click.command()
@click.option("--since", required=True, help="Start (date or ISO time, in the digest timezone).")
@click.option("--until", default=None, help="End (default: now).")
@click.option("--step", default="15m", show_default=True, help="How often detection would have run.")
@pass_app
def backtest(app: App, since: str, until: str | None, step: str) -> None:
    """Replay detection over stored posts as if it had run then; print what it would have raised.

    One JSON object a line: kind, key, scope, level, opened, resolved (null if
    still open), escalations. Nothing is stored and nothing is sent: use it to
    tune [alerts] thresholds on your own past.

    Example:

    \b
        yuqing --config yuqing.toml backtest --since 2026-03-01 --until 2026-03-31
    """
    from yuqing.alerts.backtest import backtest as run_backtest
    from yuqing.errors import ConfigError

    settings = app.settings
    start = _parse_when(since, settings.digest.timezone, "--since")
    end = _parse_when(until, settings.digest.timezone, "--until") if until else utcnow()
    try:
        seconds = parse_duration(step, "--step")
    except ConfigError as exc:
        fail(str(exc), 2)
    if seconds <= 0:
        fail("--step: must be more than zero", 2)
    if end <= start:
        fail("--until must be later than --since", 2)
    store = app.store(readonly=True) if settings.db_path.exists() else app.store()
    for record in run_backtest(settings, store, start, end, timedelta(seconds=seconds)):
        click.echo(json.dumps(record, ensure_ascii=False))


commands: list[click.Command] = [detect, alerts, backtest]  # `deliver`: yuqing.delivery.commands
