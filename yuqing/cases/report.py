"""What a case looks like to its readers (CLI JSON, web page, digest), and whether the response worked.

Did the response work: the negative posts per hour of the case's events (of its own posts when it
has no event), from a day before it opened until now. Three rates, per hour:

    baseline  the 24 hours that end 6 hours before the case opened (floored at BASELINE_FLOOR)
    before    the 6 hours before the response
    after     the last 3 hours (at most since the response)

舆情回落 when, at least an hour after the response, `after` is back to 1.5 x baseline or less.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from yuqing.cases import model, workflow
from yuqing.models import LEVEL_NAMES, from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import cases as db

BASELINE_FLOOR = 0.5
BACK_RATIO = 1.5
HOUR = timedelta(hours=1)


def effect(settings: Settings, store: Store, case: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    opened = from_iso(case["opened_at"]) or now
    start = (opened - timedelta(hours=30)).replace(minute=0, second=0)
    post_ids = [int(p["id"]) for p in case["posts"] if p.get("id") is not None]
    times = [from_iso(t) for t in db.negative_times(store, case["events"], post_ids, to_iso(start) or "",
                                                    settings.analysis.negative_threshold)]
    stamps = [t for t in times if t is not None and t <= now]
    hours: list[dict[str, Any]] = []
    at = start
    while at <= now and len(hours) < 24 * 14:
        hours.append({"hour": to_iso(at), "negative": sum(at <= t < at + HOUR for t in stamps)})
        at += HOUR

    def rate(lo: datetime, hi: datetime) -> float:
        span = max((hi - lo).total_seconds() / 3600, 1e-9)
        return round(sum(lo <= t < hi for t in stamps) / span, 2)

    baseline = max(BASELINE_FLOOR, rate(opened - timedelta(hours=30), opened - timedelta(hours=6)))
    responded = from_iso(case.get("responded_at"))
    result: dict[str, Any] = {"hours": hours, "baseline": baseline, "before": None, "after": None,
                              "responded_at": case.get("responded_at"), "fallen_back": None, "words": "尚未回应"}
    if responded is None:
        return result
    result["before"] = rate(responded - timedelta(hours=6), responded)
    recent = max(responded, now - timedelta(hours=3))
    result["after"] = rate(recent, now) if now > recent else 0.0
    if now - responded < HOUR:
        result["words"] = "回应不足1小时，尚待观察"
        return result
    result["fallen_back"] = result["after"] <= BACK_RATIO * baseline
    result["words"] = "舆情回落" if result["fallen_back"] else "尚未回落"
    return result


def describe(settings: Settings, store: Store, case: dict[str, Any], now: datetime | None = None,
             with_effect: bool = True) -> dict[str, Any]:
    """The case as every reader sees it: the `--json` object, the web page and the digest row."""
    now = now or utcnow()
    data = {
        "id": case["id"], "state": case["state"], "level": case["level"],
        "level_name": LEVEL_NAMES.get(case["level"], case["level"]), "title": case["title"],
        "origin": case["origin"], "opened_at": case["opened_at"], "updated_at": case["updated_at"],
        "alerts": db.alert_ids(store, case["id"]), "events": case["events"],
        "posts": [{"id": p.get("id"), "title": p.get("title"), "url": p.get("url")} for p in case["posts"]],
        "verdict": case["verdict"], "unit": case["unit"], "assigned_at": case["assigned_at"],
        "due_at": workflow.due_at(case), "respond_due": case["respond_due"], "close_due": case["close_due"],
        "overdue": workflow.is_overdue(case, now),
        "overdue_notified": [w for w in ("respond", "close") if case.get(f"{w}_overdue_at")],
        "response_url": case["response_url"], "responded_at": case["responded_at"], "closed_at": case["closed_at"],
        "summary": case["summary"], "reason": case["reason"],
        "timeline": [{"at": s["at"], "who": s["who"], "action": s["action"],
                      "action_name": model.ACTION_ZH.get(s["action"], s["action"]), "state": s["state"],
                      "note": s["note"]} for s in db.steps(store, case["id"])],
    }
    if with_effect:
        data["effect"] = effect(settings, store, case, now)
    return data


def summary(settings: Settings, store: Store, start: str, end: str) -> dict[str, Any]:
    """The digest's 处置情况 section: counts of the day and every case not finished, with its effect."""
    counts = db.counts_between(store, start, end)
    now = utcnow()
    open_rows = []
    for case in db.open_cases(store):
        worked = effect(settings, store, case, now) if case["responded_at"] else None
        open_rows.append({"before": worked["before"] if worked else None,
                          "after": worked["after"] if worked else None,
                          "effect": worked["words"] if worked else "","id": case["id"], "state": case["state"], "level": case["level"],
                          "level_name": LEVEL_NAMES.get(case["level"], case["level"]), "title": case["title"],
                          "unit": case["unit"], "due_at": workflow.due_at(case),
                          "overdue": workflow.is_overdue(case, now)})
    return {**counts, "open": open_rows}
