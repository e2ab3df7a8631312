"""Alert lifecycle: open -> escalated -> resolved, kept in the `alerts` table (or in memory for a backtest).

* a scope that fires with no open alert opens one (and is notified), unless it was resolved less
  than `cooldown` ago at the same or a higher level (a bigger spike during the cooldown does open);
* an open alert whose level rises is escalated (notified again); at the same or a lower level it
  is only refreshed (no repeat), its level never drops while open;
* an open alert resolves when its scope is quiet again (see the detector), without a message.

Everything that changes in one detection run is written in one transaction together with one
message (every new or escalated alert of the run, so one spike seen as locality + topic + event is
one email), so a crash can neither lose the message nor send it for an alert that was not saved.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yuqing.alerts.levels import rank
from yuqing.models import Alert, from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store, inserted_id

logger = logging.getLogger(__name__)

Scope = tuple[str, str]


@dataclass
class Tracked:
    """What the lifecycle needs to know about a scope's current or last alert."""

    kind: str
    key: str
    level: str
    state: str
    opened_at: datetime
    resolved_at: datetime | None = None
    id: int | None = None
    title: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)
    peak: int = 0  # highest negative count seen (backtest report)


def decide(current: Tracked | None, last: Tracked | None, finding: Any, now: datetime, settings: Settings) -> str:
    """open | escalate | refresh | resolve | suppress | none."""
    if current is not None:
        if finding.fired and rank(finding.level) > rank(current.level):
            return "escalate"
        if finding.fired:
            return "refresh"
        return "resolve" if finding.quiet else "none"
    if not finding.fired:
        return "none"
    if last is not None and last.resolved_at is not None:
        cooling = now - last.resolved_at < timedelta(seconds=settings.alerts.cooldown)
        if cooling and rank(finding.level) <= rank(last.level):
            return "suppress"
    return "open"


def open_scopes(store: Store) -> set[Scope]:
    return {(r["kind"], r["key"]) for r in store.query("SELECT kind, key FROM alerts WHERE state != 'resolved'")}


def _tracked(row: dict[str, Any]) -> Tracked:
    explanation = json.loads(row.get("explanation") or "{}")
    return Tracked(kind=row["kind"], key=row["key"], level=row["level"], state=row["state"],
                   opened_at=from_iso(row["opened_at"]), resolved_at=from_iso(row.get("resolved_at")),  # type: ignore[arg-type]
                   id=row["id"], title=row.get("title") or "", timeline=explanation.get("timeline", []))


def to_alert(row: dict[str, Any]) -> Alert:
    return Alert(kind=row["kind"], key=row["key"], level=row["level"], state=row["state"],
                 opened_at=from_iso(row["opened_at"]), updated_at=from_iso(row["updated_at"]),  # type: ignore[arg-type]
                 resolved_at=from_iso(row.get("resolved_at")), title=row.get("title") or "",
                 explanation=json.loads(row.get("explanation") or "{}"),
                 acknowledged_by=row.get("acknowledged_by"), ack_note=row.get("ack_note"), id=row["id"])


def acknowledge(store: Store, alert_id: int, by: str, note: str) -> bool:
    """An analyst's acknowledgement, with its audit row, in one transaction; False if no such alert.

    The one way to acknowledge: `yuqing alerts ack` and the web app both call it.
    """
    with store.transaction():
        found = store.conn.execute("SELECT state FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if not found:
            return False
        now = to_iso(utcnow())
        store.conn.execute("UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ?, ack_note = ? WHERE id = ?",
                           (by, now, note, alert_id))
        store.conn.execute("INSERT INTO audit_log(at, user, action, detail) VALUES (?, ?, 'alert.ack', ?)",
                           (now, by, json.dumps({"alert": alert_id, "note": note, "state": found[0]},
                                                ensure_ascii=False)))
    return True


def apply(settings: Settings, store: Store, findings: list[Any], now: datetime) -> list[Alert]:
    """Turn findings into alert changes and queue one message for what was opened or escalated."""
    from yuqing.alerts import message
    from yuqing.delivery import outbox as delivery

    current = {(r["kind"], r["key"]): _tracked(r)
               for r in store.query("SELECT * FROM alerts WHERE state != 'resolved'")}
    last = {(r["kind"], r["key"]): _tracked(r) for r in store.query(
        "SELECT a.* FROM alerts a WHERE state = 'resolved' AND id = (SELECT max(id) FROM alerts b"
        " WHERE b.kind = a.kind AND b.key = a.key AND b.state = 'resolved')")}
    stamp = to_iso(now)
    changed_ids: list[int] = []
    notify: list[int] = []
    with store.transaction():
        for finding in findings:
            scope = (finding.kind, finding.key)
            action = decide(current.get(scope), last.get(scope), finding, now, settings)
            if action == "open":
                explanation = {**finding.explanation, "timeline": [{"at": stamp, "event": "opened", "level": finding.level}]}
                cur = store.conn.execute(
                    "INSERT INTO alerts(kind, key, level, state, opened_at, updated_at, title, explanation)"
                    " VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
                    (finding.kind, finding.key, finding.level, stamp, stamp, finding.title,
                     json.dumps(explanation, ensure_ascii=False)))
                changed_ids.append(inserted_id(cur))
                notify.append(inserted_id(cur))
            elif action in ("escalate", "refresh"):
                tracked = current[scope]
                timeline = tracked.timeline + ([{"at": stamp, "event": "escalated", "level": finding.level,
                                                 "from": tracked.level}] if action == "escalate" else [])
                explanation = {**finding.explanation, "timeline": timeline}
                level = finding.level if action == "escalate" else tracked.level
                state = "escalated" if action == "escalate" else tracked.state
                store.conn.execute(
                    "UPDATE alerts SET level = ?, state = ?, updated_at = ?, explanation = ? WHERE id = ?",
                    (level, state, stamp, json.dumps(explanation, ensure_ascii=False), tracked.id))
                if action == "escalate":
                    changed_ids.append(int(tracked.id))  # type: ignore[arg-type]
                    notify.append(int(tracked.id))  # type: ignore[arg-type]
            elif action == "resolve":
                tracked = current[scope]
                row = store.query("SELECT explanation FROM alerts WHERE id = ?", [tracked.id])[0]
                explanation = json.loads(row["explanation"] or "{}")
                explanation["timeline"] = tracked.timeline + [{"at": stamp, "event": "resolved"}]
                store.conn.execute(
                    "UPDATE alerts SET state = 'resolved', resolved_at = ?, updated_at = ?, explanation = ? WHERE id = ?",
                    (stamp, stamp, json.dumps(explanation, ensure_ascii=False), tracked.id))
                changed_ids.append(int(tracked.id))  # type: ignore[arg-type]
            elif action == "suppress":
                logger.info("%s %s fired at %s during its cooldown: not reopened", finding.kind, finding.key, finding.level)
        if notify:
            from yuqing.cases.grouping import attach  # an incident's alerts become one case, one message

            rows = [to_alert(r) for r in store.query(
                f"SELECT * FROM alerts WHERE id IN ({','.join('?' * len(notify))}) ORDER BY id", notify)]
            rows = attach(settings, store, rows, now)
        if notify and rows:
            subject, html, text = message.render_alerts(settings, rows, now)
            ref = ",".join(f"{a.id}:{a.level}" for a in rows)
            delivery.enqueue_rows(store, settings, kind="alert", ref=ref, subject=subject, html=html, text=text)
    if not changed_ids:
        return []
    changed = store.query(f"SELECT * FROM alerts WHERE id IN ({','.join('?' * len(changed_ids))}) ORDER BY id",
                          changed_ids)
    return [to_alert(r) for r in changed]


class Book:
    """The same lifecycle in memory, for the backtest: nothing is written, nothing is sent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: dict[Scope, Tracked] = {}
        self.last: dict[Scope, Tracked] = {}
        self.closed: list[Tracked] = []

    def step(self, findings: list[Any], now: datetime) -> None:
        for finding in findings:
            scope = (finding.kind, finding.key)
            tracked = self.current.get(scope)
            action = decide(tracked, self.last.get(scope), finding, now, self.settings)
            negative = max((c.negative for c in finding.checks), default=0)
            if action == "open":
                self.current[scope] = Tracked(kind=finding.kind, key=finding.key, level=finding.level, state="open",
                                              opened_at=now, title=finding.title, peak=negative,
                                              timeline=[{"at": to_iso(now), "event": "opened", "level": finding.level}])
            elif tracked is not None and action in ("escalate", "refresh", "none"):
                tracked.peak = max(tracked.peak, negative)
                if action == "escalate":
                    tracked.timeline.append({"at": to_iso(now), "event": "escalated", "level": finding.level,
                                             "from": tracked.level})
                    tracked.level, tracked.state = finding.level, "escalated"
            elif tracked is not None and action == "resolve":
                tracked.state, tracked.resolved_at = "resolved", now
                self.closed.append(tracked)
                self.last[scope] = self.current.pop(scope)

    def records(self) -> list[dict[str, Any]]:
        items = self.closed + list(self.current.values())
        items.sort(key=lambda t: (t.opened_at, t.kind, t.key))
        return [{"kind": t.kind, "key": t.key, "scope": t.title, "level": t.level,
                 "first_level": t.timeline[0]["level"] if t.timeline else t.level,
                 "opened": to_iso(t.opened_at), "resolved": to_iso(t.resolved_at),
                 "escalations": [e for e in t.timeline if e["event"] == "escalated"], "peak_negative": t.peak}
                for t in items]
