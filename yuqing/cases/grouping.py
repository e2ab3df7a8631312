"""Alerts into cases: one incident seen as locality + topic + event (+ any later kind) is one case.

An alert joins an open case, touched within `[analysis] event_window`, when it names one of the
case's events (an event alert's own event, or the event most of its posts belong to) or when at
least half of its quoted posts are the case's posts. Otherwise it opens a case of its own (待研判).
The case's level is the highest of its alerts; the case is notified once per level it reaches
(ref `case<N>:<level>,...`), with every alert of the case in the message.

Any alert kind with posts or an event groups this way; an alert without either (a failing source)
is not an incident and keeps its own alert message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from yuqing.alerts.levels import rank
from yuqing.cases import model, notices
from yuqing.models import Alert, from_iso, to_iso
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import cases as db

logger = logging.getLogger(__name__)

SYSTEM = "系统"
SAME_POSTS = 0.5  # share of an alert's quoted posts already in the case


def signature(alert: Alert) -> tuple[set[int], set[int]]:
    """(post ids, event ids) an alert is about."""
    ex = alert.explanation or {}
    posts = {int(p["id"]) for p in ex.get("top_posts") or [] if isinstance(p, dict) and p.get("id") is not None}
    events: set[int] = set()
    if alert.kind == "event" and str(alert.key).isdigit():
        events.add(int(alert.key))
    event = ex.get("event")
    if isinstance(event, dict) and event.get("id") is not None:
        events.add(int(event["id"]))
    return posts, events


def representative(alert: Alert) -> list[dict[str, Any]]:
    return [{"id": p.get("id"), "title": p.get("title") or "(无标题)", "url": p.get("url") or ""}
            for p in (alert.explanation or {}).get("top_posts") or [] if isinstance(p, dict)][:3]


def _case_posts(store: Store, case: dict[str, Any]) -> set[int]:
    from yuqing.alerts.lifecycle import to_alert

    found = {int(p["id"]) for p in case["posts"] if p.get("id") is not None}
    for row in db.alert_rows(store, case["id"]):
        found |= signature(to_alert(row))[0]
    return found


def match(store: Store, cases: list[dict[str, Any]], alert: Alert, since: datetime) -> int | None:
    posts, events = signature(alert)
    for case in sorted(cases, key=lambda c: c["id"], reverse=True):
        touched = from_iso(case["updated_at"])
        if touched is not None and touched < since:
            continue
        if events & set(case["events"]):
            return int(case["id"])
        if posts:
            shared = len(posts & _case_posts(store, case))
            if shared and shared >= SAME_POSTS * len(posts):
                return int(case["id"])
    return None


def attach(settings: Settings, store: Store, alerts: list[Alert], now: datetime) -> list[Alert]:
    """Put new or escalated alerts into cases and queue one message per case level reached.

    Runs inside the detection transaction. Returns the alerts that are not an incident (no posts,
    no event) or whose case is already finished: those keep the plain alert message.
    """
    from yuqing.alerts.lifecycle import to_alert

    stamp = to_iso(now) or ""
    since = now - timedelta(seconds=settings.analysis.event_window)
    opened = db.open_cases(store)
    notify: set[int] = set()
    rest: list[Alert] = []
    for alert in sorted(alerts, key=lambda a: (-rank(a.level), a.id or 0)):
        posts, events = signature(alert)
        if not posts and not events:
            rest.append(alert)
            continue
        case_id = db.case_of_alert(store, alert.id or 0)
        if case_id is None:
            case_id = match(store, opened, alert, since)
            if case_id is None:
                reps = representative(alert)
                title = reps[0]["title"] if reps else alert.title
                case_id = db.insert(store, state=model.PENDING, level=alert.level, title=title, origin="alert",
                                    at=stamp, posts=reps, events=sorted(events))
                db.add_step(store, case_id, at=stamp, who=SYSTEM, action="open", state=model.PENDING,
                            note=f"由预警 #{alert.id}（{alert.title}）立案", detail={"alert": alert.id, "level": alert.level})
                notify.add(case_id)
                opened.append(db.get(store, case_id))  # type: ignore[arg-type]
            else:
                case = db.get(store, case_id)
                assert case is not None
                merged = sorted(set(case["events"]) | events)
                db.update(store, case_id, events=merged, updated_at=stamp)
                db.add_step(store, case_id, at=stamp, who=SYSTEM, action="join", state=case["state"],
                            note=f"预警 #{alert.id}（{alert.title}）并入本案", detail={"alert": alert.id, "level": alert.level})
                opened = [db.get(store, int(c["id"])) or c for c in opened]
            db.link_alert(store, case_id, alert.id or 0, stamp)
        case = db.get(store, case_id)
        assert case is not None
        if case["state"] in (model.CLOSED, model.DISMISSED):
            rest.append(alert)
            continue
        if rank(alert.level) > rank(case["level"]):
            db.update(store, case_id, level=alert.level, updated_at=stamp)
            db.add_step(store, case_id, at=stamp, who=SYSTEM, action="escalate", state=case["state"],
                        note=f"预警 #{alert.id} 升级至{model.level_name(alert.level)}",
                        detail={"alert": alert.id, "level": alert.level, "from": case["level"]})
            notify.add(case_id)
            opened = [db.get(store, int(c["id"])) or c for c in opened]
    for case_id in sorted(notify):
        case = db.get(store, case_id)
        assert case is not None
        rows = [to_alert(r) for r in db.alert_rows(store, case_id)]
        notices.queue_alert(settings, store, case, rows, now)
        logger.info("case %d at %s: queued its message (%d alerts)", case_id, case["level"], len(rows))
    return rest
