"""The analysts' steps on a case, and the deadline check: each one transaction with its timeline row,
its audit row and its messages, so a crash leaves a step either done and notified or not done at all.

The CLI (`yuqing cases ...`) and the web app call these same functions.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.cases import model, notices
from yuqing.cases.model import CaseError
from yuqing.errors import ConfigError
from yuqing.models import from_iso, to_iso, utcnow
from yuqing.settings import Settings, parse_duration
from yuqing.store import Store
from yuqing.store import cases as db

logger = logging.getLogger(__name__)

MAX_TEXT = 2000


def _case(store: Store, case_id: int) -> dict[str, Any]:
    case = db.get(store, case_id)
    if case is None:
        raise CaseError(f"no case #{case_id} (see `yuqing cases list`)", 1)
    return case


def _text(value: str, what: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CaseError(f"{what}: give some words, it is required", 2)
    if len(value) > MAX_TEXT:
        raise CaseError(f"{what}: at most {MAX_TEXT} characters, got {len(value)}", 2)
    return value


def _who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise CaseError("give who does this (--by NAME, or log in)", 2)
    return who


def deadlines(settings: Settings, level: str) -> tuple[timedelta, timedelta]:
    """(respond, close) of a level: `[cases.deadlines]` (红 or red) over the defaults."""
    zh = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}[level]
    limits = settings.cases.deadlines.get(zh) or settings.cases.deadlines.get(level)
    if limits is None:
        return model.DEFAULT_DEADLINES[level]
    return timedelta(seconds=limits.respond), timedelta(seconds=limits.close)


def parse_due(value: str, now: datetime, tz: str, option: str) -> datetime:
    """'6h' (from now), '90m', or a time '2026-03-01T18:00' (local unless it says its zone)."""
    text = value.strip()
    try:
        return now + timedelta(seconds=parse_duration(text, option))
    except ConfigError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError(f"{option}: expected a duration like 6h or 90m, or a time like 2026-03-01T18:00,"
                        f" got {value!r}", 2) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when


def _step(store: Store, case: dict[str, Any], *, at: str, who: str, action: str, state: str, note: str,
          detail: dict[str, Any] | None = None) -> None:
    db.add_step(store, case["id"], at=at, who=who, action=action, state=state, note=note, detail=detail)
    db.audit(store, at, who, f"case.{action}", {"case": case["id"], "from": case["state"], "to": state,
                                                 "note": note, **(detail or {})})


def assess(settings: Settings, store: Store, case_id: int, *, verdict: str, level: str | None = None,
           note: str = "", who: str, now: datetime | None = None) -> dict[str, Any]:
    verdict = model.check_verdict(verdict)
    new_level = model.parse_level(level) if level else None
    note, who = _text(note, "--note"), _who(who)
    stamp = to_iso(now or utcnow()) or ""
    with store.transaction():
        case = _case(store, case_id)
        model.check_allowed("assess", case["state"], case_id)
        state = model.ASSESSED if case["state"] == model.PENDING else case["state"]
        values: dict[str, Any] = {"state": state, "verdict": verdict, "updated_at": stamp}
        if new_level:
            values["level"] = new_level
        db.update(store, case_id, **values)
        _step(store, case, at=stamp, who=who, action="assess", state=state, note=note,
              detail={"verdict": verdict, "level": new_level or case["level"], "from_level": case["level"]})
    return _case(store, case_id)


def assign(settings: Settings, store: Store, case_id: int, *, unit: str, due: str | None = None,
           close_by: str | None = None, note: str = "", who: str, now: datetime | None = None) -> dict[str, Any]:
    names = [u.name for u in settings.units]
    if unit not in names:
        known = "、".join(names) or "none: add [[units]] name = ... to the config"
        raise CaseError(f"--unit: no unit named {unit!r} (known: {known})", 2)
    note, who = _text(note, "--note"), _who(who)
    now = now or utcnow()
    stamp = to_iso(now) or ""
    tz = settings.digest.timezone
    with store.transaction():
        case = _case(store, case_id)
        model.check_allowed("assign", case["state"], case_id)
        respond_gap, close_gap = deadlines(settings, case["level"])
        respond_due = parse_due(due, now, tz, "--due") if due else now + respond_gap
        close_due = parse_due(close_by, now, tz, "--close-by") if close_by else max(now + close_gap, respond_due)
        if respond_due <= now:
            raise CaseError(f"--due: {to_iso(respond_due)} has already passed", 2)
        if close_due < respond_due:
            raise CaseError("--close-by: the 办结 deadline cannot come before the first-response one", 2)
        values = {"state": model.HANDLING, "unit": unit, "assigned_at": stamp, "updated_at": stamp,
                  "respond_due": to_iso(respond_due), "close_due": to_iso(close_due),
                  "respond_overdue_at": None, "close_overdue_at": None}
        db.update(store, case_id, **values)
        _step(store, case, at=stamp, who=who, action="assign", state=model.HANDLING, note=note,
              detail={"unit": unit, "respond_due": values["respond_due"], "close_due": values["close_due"]})
        notices.queue_assignment(settings, store, {**case, **values}, note)
    return _case(store, case_id)


def respond(settings: Settings, store: Store, case_id: int, *, url: str, note: str = "", who: str,
            now: datetime | None = None) -> dict[str, Any]:
    url = _text(url, "--url", required=True)
    if not url.startswith(("http://", "https://")):
        raise CaseError(f"--url: expected the http(s) link of the public response, got {url!r}", 2)
    note, who = _text(note, "--note"), _who(who)
    stamp = to_iso(now or utcnow()) or ""
    with store.transaction():
        case = _case(store, case_id)
        model.check_allowed("respond", case["state"], case_id)
        db.update(store, case_id, state=model.RESPONDED, response_url=url, responded_at=case["responded_at"] or stamp,
                  updated_at=stamp)
        _step(store, case, at=stamp, who=who, action="respond", state=model.RESPONDED, note=note, detail={"url": url})
    return _case(store, case_id)


def close(settings: Settings, store: Store, case_id: int, *, summary: str, who: str,
          now: datetime | None = None) -> dict[str, Any]:
    summary, who = _text(summary, "--summary", required=True), _who(who)
    stamp = to_iso(now or utcnow()) or ""
    with store.transaction():
        case = _case(store, case_id)
        model.check_allowed("close", case["state"], case_id)
        db.update(store, case_id, state=model.CLOSED, summary=summary, closed_at=stamp, updated_at=stamp)
        _step(store, case, at=stamp, who=who, action="close", state=model.CLOSED, note=summary)
    return _case(store, case_id)


def dismiss(settings: Settings, store: Store, case_id: int, *, reason: str, who: str,
            now: datetime | None = None) -> dict[str, Any]:
    reason, who = _text(reason, "--reason", required=True), _who(who)
    stamp = to_iso(now or utcnow()) or ""
    with store.transaction():
        case = _case(store, case_id)
        model.check_allowed("dismiss", case["state"], case_id)
        db.update(store, case_id, state=model.DISMISSED, reason=reason, closed_at=stamp, updated_at=stamp)
        _step(store, case, at=stamp, who=who, action="dismiss", state=model.DISMISSED, note=reason)
    return _case(store, case_id)


def open_manual(settings: Settings, store: Store, *, post_id: int | None = None, event_id: int | None = None,
                level: str = "黄", note: str = "", who: str, now: datetime | None = None) -> dict[str, Any]:
    """A case an analyst opens from a post or an event (what statistics cannot see), notified at once."""
    if (post_id is None) == (event_id is None):
        raise CaseError("give exactly one of --post ID or --event ID", 2)
    lvl = model.parse_level(level)
    note, who = _text(note, "--note"), _who(who)
    with store.transaction():
        case_id = open_rows(settings, store, post_id=post_id, event_id=event_id, level=lvl, note=note, who=who,
                            origin="manual", now=now or utcnow())
    return _case(store, case_id)


def open_rows(settings: Settings, store: Store, *, post_id: int | None, event_id: int | None, level: str,
              note: str, who: str, origin: str, now: datetime) -> int:
    """open_manual's rows, inside the caller's transaction (the watch-term scan opens several at once)."""
    stamp = to_iso(now) or ""
    if post_id is not None:
        post = db.event_of_post(store, post_id)
        if post is None:
            raise CaseError(f"no post #{post_id}", 1)
        posts = [{"id": post["id"], "title": post["title"] or "(无标题)", "url": post["url"]}]
        events = [int(post["event_id"])] if post["event_id"] is not None else []
        title = posts[0]["title"]
    else:
        event = db.event_row(store, int(event_id))  # type: ignore[arg-type]
        if event is None:
            raise CaseError(f"no event #{event_id}", 1)
        top = db.top_post_of_event(store, int(event["id"]))
        posts = [{"id": top["id"], "title": top["title"] or event["title"], "url": top["url"]}] if top else []
        events, title = [int(event["id"])], (top["title"] if top and top["title"] else event["title"])
    case_id = db.insert(store, state=model.PENDING, level=level, title=title, origin=origin, at=stamp,
                        posts=posts, events=events)
    case = _case(store, case_id)
    _step(store, {**case, "state": ""}, at=stamp, who=who, action="open", state=model.PENDING, note=note,
          detail={"origin": origin, "post": post_id, "event": event_id, "level": level})
    notices.queue_opened(settings, store, case, note, now)
    return case_id


def check(settings: Settings, store: Store, now: datetime | None = None) -> list[tuple[int, str]]:
    """Mark passed deadlines overdue and queue one notice per deadline; returns (case id, which)."""
    now = now or utcnow()
    stamp = to_iso(now) or ""
    done: list[tuple[int, str]] = []
    with store.transaction():
        for case in db.due_deadlines(store, stamp):
            for which in ("respond", "close"):
                due = case[f"{which}_due"]
                if not due or due > stamp or case[f"{which}_overdue_at"]:
                    continue
                if which == "respond" and case["responded_at"]:
                    continue
                db.update(store, case["id"], **{f"{which}_overdue_at": stamp})
                what = "首次回应" if which == "respond" else "办结"
                db.add_step(store, case["id"], at=stamp, who="系统", action="overdue", state=case["state"],
                            note=f"{what}时限 {notices.local(settings, due)} 已过", detail={"deadline": which, "due": due})
                notices.queue_overdue(settings, store, case, which)
                done.append((int(case["id"]), which))
    for case_id, which in done:
        logger.warning("case %d: the %s deadline passed; overdue notice queued", case_id, which)
    return done


def is_overdue(case: dict[str, Any], now: datetime | None = None) -> bool:
    if case["state"] in (model.CLOSED, model.DISMISSED):
        return False
    stamp = to_iso(now or utcnow()) or ""
    respond_late = bool(case.get("respond_due")) and not case.get("responded_at") and case["respond_due"] <= stamp
    close_late = bool(case.get("close_due")) and case["close_due"] <= stamp
    return respond_late or close_late


def due_at(case: dict[str, Any]) -> str | None:
    """The deadline that matters now: the first response until it is given, then 办结."""
    if case["state"] in (model.CLOSED, model.DISMISSED):
        return None
    return case.get("close_due") if case.get("responded_at") else case.get("respond_due")


def since_opened(case: dict[str, Any], now: datetime | None = None) -> float:
    opened = from_iso(case["opened_at"])
    return ((now or utcnow()) - opened).total_seconds() if opened else 0.0
