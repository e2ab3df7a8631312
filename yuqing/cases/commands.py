"""`yuqing cases ...`: list, show, assess, assign, respond, close, dismiss, open, check.

A thin layer over yuqing.cases.workflow: every fault a user can cause (unknown case, bad verdict,
bad --due, a step the case's state does not allow) is a sentence and exit status 2 (bad input) or
1 (cannot be done), never a traceback.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from typing import Any

import click

from yuqing.cases import model
from yuqing.localtime import shown
from yuqing.cli import App, fail, pass_app


def _who(by: str | None) -> str:
    return by if by is not None else (getpass.getuser() or "")


def _run(app: App, action: Callable[..., dict[str, Any]], case_id: int, as_json: bool, **kw: Any) -> None:
    from yuqing.cases.report import describe

    store = app.store()
    try:
        case = action(app.settings, store, case_id, **kw)
    except model.CaseError as exc:
        fail(str(exc), exc.code)
    _print(app, store, [describe(app.settings, store, case, with_effect=False)], as_json, brief=True)


def _print(app: App, store: Any, cases: list[dict[str, Any]], as_json: bool, brief: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(cases, ensure_ascii=False, indent=None if brief else 2))
        return
    for c in cases:
        late = " 已超期" if c["overdue"] else ""
        unit = f" {c['unit']}" if c["unit"] else ""
        due = f" 时限 {shown(c['due_at'], app.settings.digest.timezone)}" if c["due_at"] else ""
        click.echo(f"#{c['id']:<4} {c['state']:<4} {c['level_name']:<8}{unit}{due}{late}  {c['title']}")


@click.group()
def cases() -> None:
    """Cases (研判、处置): one per incident, 待研判 -> 已研判 -> 处置中 -> 已回应 -> 办结, or 不予处置.

    Example:

    \b
        yuqing --config yuqing.toml cases list --state 待研判
    """


@cases.command("list")
@click.option("--state", default=None, help=f"Only this state: {' / '.join(model.STATES)}.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of case objects.")
@pass_app
def list_cases(app: App, state: str | None, as_json: bool) -> None:
    """List cases, newest first.

    Example:

    \b
        yuqing --config yuqing.toml cases list --json
    """
    from yuqing.cases.report import describe
    from yuqing.store import cases as db

    if state is not None and state not in model.STATES:
        fail(f"--state: unknown state {state!r} (one of {' / '.join(model.STATES)})", 2)
    store = app.store()
    rows = [describe(app.settings, store, c, with_effect=False) for c in db.listing(store, state)]
    if not rows and not as_json:
        click.echo("no cases")
    _print(app, store, rows, as_json)


@cases.command("show")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="A JSON array with the case object.")
@pass_app
def show_case(app: App, case_id: int, as_json: bool) -> None:
    """Show one case: its alerts, posts, timeline and whether the response worked.

    Example:

    \b
        yuqing --config yuqing.toml cases show 1
    """
    from yuqing.cases.report import describe
    from yuqing.store import cases as db

    store = app.store()
    case = db.get(store, case_id)
    if case is None:
        fail(f"no case #{case_id} (see `yuqing cases list`)", 1)
    data = describe(app.settings, store, case)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps([data], ensure_ascii=False, indent=2))
        return
    _print(app, store, [data], False)
    click.echo(f"预警 {data['alerts']}  事件 {data['events']}  研判 {data['verdict'] or '—'}")
    for p in data["posts"]:
        click.echo(f"  帖子 #{p['id']} {p['title']} {p['url']}")
    if data["response_url"]:
        click.echo(f"回应 {data['response_url']}")
    effect = data["effect"]
    click.echo(f"效果：{effect['words']}（基线 {effect['baseline']}/小时，回应前 {effect['before']}，回应后 {effect['after']}）")
    for step in data["timeline"]:
        click.echo(f"  {shown(step['at'], app.settings.digest.timezone)} {step['who']} {step['action_name']} "
                   f"-> {step['state']} {step['note']}")


by_option = click.option("--by", "by", default=None, help="Who does this (default: your login name).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")


@cases.command("assess")
@click.argument("case_id", type=int)
@click.option("--verdict", required=True, help=f"{' / '.join(model.VERDICTS)}.")
@click.option("--level", default=None, help="Confirm or change the level: 红 / 橙 / 黄 / 蓝.")
@click.option("--note", default="", help="What the 研判 found.")
@by_option
@json_option
@pass_app
def assess_case(app: App, case_id: int, verdict: str, level: str | None, note: str, by: str | None,
                as_json: bool) -> None:
    """Record the 研判: a verdict, the level, a note (待研判 -> 已研判).

    Example:

    \b
        yuqing --config yuqing.toml cases assess 1 --verdict 属实 --level 橙 --note "已核实停水"
    """
    from yuqing.cases.workflow import assess

    _run(app, assess, case_id, as_json, verdict=verdict, level=level, note=note, who=_who(by))


@cases.command("assign")
@click.argument("case_id", type=int)
@click.option("--unit", required=True, help="A unit of [[units]] in the config.")
@click.option("--due", default=None, help="First-response deadline: 6h, 90m or 2026-03-01T18:00 (default: by level).")
@click.option("--close-by", "close_by", default=None, help="办结 deadline, same forms (default: by level).")
@click.option("--note", default="", help="What the unit is asked to do.")
@by_option
@json_option
@pass_app
def assign_case(app: App, case_id: int, unit: str, due: str | None, close_by: str | None, note: str,
                by: str | None, as_json: bool) -> None:
    """Assign the case to a unit with deadlines (-> 处置中); the unit is notified (【舆情交办】).

    Example:

    \b
        yuqing --config yuqing.toml cases assign 1 --unit 县水务局 --due 2h
    """
    from yuqing.cases.workflow import assign

    _run(app, assign, case_id, as_json, unit=unit, due=due, close_by=close_by, note=note, who=_who(by))
    _deliver(app)


@cases.command("respond")
@click.argument("case_id", type=int)
@click.option("--url", required=True, help="Link of the public response (通报、回复).")
@click.option("--note", default="", help="What was said.")
@by_option
@json_option
@pass_app
def respond_case(app: App, case_id: int, url: str, note: str, by: str | None, as_json: bool) -> None:
    """Record the public response (处置中 -> 已回应).

    Example:

    \b
        yuqing --config yuqing.toml cases respond 1 --url https://www.example.gov.cn/tz/1.html --note "发布停水通报"
    """
    from yuqing.cases.workflow import respond

    _run(app, respond, case_id, as_json, url=url, note=note, who=_who(by))


@cases.command("close")
@click.argument("case_id", type=int)
@click.option("--summary", required=True, help="The closing summary.")
@by_option
@json_option
@pass_app
def close_case(app: App, case_id: int, summary: str, by: str | None, as_json: bool) -> None:
    """Close the case (已回应 -> 办结).

    Example:

    \b
        yuqing --config yuqing.toml cases close 1 --summary "已恢复供水，舆情回落"
    """
    from yuqing.cases.workflow import close

    _run(app, close, case_id, as_json, summary=summary, who=_who(by))


@cases.command("dismiss")
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="Why it needs no handling.")
@by_option
@json_option
@pass_app
def dismiss_case(app: App, case_id: int, reason: str, by: str | None, as_json: bool) -> None:
    """Close the case as 不予处置, with a reason (from any state before 办结).

    Example:

    \b
        yuqing --config yuqing.toml cases dismiss 1 --reason "外地同名事件，与本地无关"
    """
    from yuqing.cases.workflow import dismiss

    _run(app, dismiss, case_id, as_json, reason=reason, who=_who(by))


@cases.command("open")
@click.option("--post", "post_id", type=int, default=None, help="Open the case from this post.")
@click.option("--event", "event_id", type=int, default=None, help="...or from this event.")
@click.option("--level", default="黄", show_default=True, help="红 / 橙 / 黄 / 蓝.")
@click.option("--note", default="", help="Why (a key account, a sensitive word...).")
@by_option
@json_option
@pass_app
def open_case(app: App, post_id: int | None, event_id: int | None, level: str, note: str, by: str | None,
              as_json: bool) -> None:
    """Open a 待研判 case by hand from a post or an event, for what statistics cannot see.

    Example:

    \b
        yuqing --config yuqing.toml cases open --post 12 --level 黄 --note "大V转发"
    """
    from yuqing.cases.report import describe
    from yuqing.cases.workflow import open_manual

    store = app.store()
    try:
        case = open_manual(app.settings, store, post_id=post_id, event_id=event_id, level=level, note=note,
                           who=_who(by))
    except model.CaseError as exc:
        fail(str(exc), exc.code)
    _print(app, store, [describe(app.settings, store, case, with_effect=False)], as_json, brief=True)
    _deliver(app)


@cases.command("check")
@pass_app
def check_cases(app: App) -> None:
    """Check the deadlines once: a passed one notifies the unit and [cases] escalate_to (【舆情超期】), once.

    The daemon does this every minute. Exits 1 when a message could not be sent (it is retried).

    Example:

    \b
        yuqing --config yuqing.toml cases check
    """
    from yuqing.cases.workflow import check

    done = check(app.settings, app.store())
    for case_id, which in done:
        click.echo(f"#{case_id} {'首次回应' if which == 'respond' else '办结'}已超期: notice queued")
    if not done:
        click.echo("no deadline passed")
    _deliver(app)


def _deliver(app: App) -> None:
    from yuqing.delivery.outbox import deliver_pending

    sent, failed = deliver_pending(app.settings, app.store())
    click.echo(f"deliveries: {sent} sent, {failed} failed", err=True)
    if failed:
        raise SystemExit(1)


commands: list[click.Command] = [cases]
