"""Collect one day's figures from the store into plain data, then render, store and send the digest.

The digest data is a JSON-able dict (kept in `digests.data`) so the web app can re-render any past
digest with its own links, and so a rebuild replaces the day's row instead of adding one.

Event heat is additive over the day's posts of an event, so every factor the analysts asked for
counts and the figure stays explainable:
    heat = Σ weight(source) × (1 + is_negative) × (1 + log10(1 + reposts + comments + likes))
A negative post counts double; a post with 1,000 interactions counts four times an unseen one.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.digest import sections
from yuqing.models import LEVELS, from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

EXCERPT = 90  # characters of a post shown in a list


def yesterday(settings: Settings, now: datetime | None = None) -> date:
    tz = ZoneInfo(settings.digest.timezone)
    return ((now or utcnow()).astimezone(tz) - timedelta(days=1)).date()


def day_bounds(settings: Settings, day: date) -> tuple[datetime, datetime]:
    """The local day [00:00, next 00:00) as UTC datetimes (DST-safe: both ends from the calendar)."""
    tz = ZoneInfo(settings.digest.timezone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start, end


def source_weight(settings: Settings, name: str) -> float:
    for src in settings.sources:
        if src.name == name:
            return src.weight
    return float(settings.alerts.source_weights.get(name, 1.0))


def excerpt(title: str, text: str, size: int = EXCERPT) -> str:
    body = " ".join(f"{title} {text}".split()) if title not in text else " ".join(text.split())
    return body if len(body) <= size else body[: size - 1] + "…"


def _engagement(row: dict[str, Any]) -> int:
    return int(row.get("reposts") or 0) + int(row.get("comments") or 0) + int(row.get("likes") or 0)


def _share(negative: int, analysed: int) -> float | None:
    return negative / analysed if analysed else None


def _counts(store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    row = store.query(
        "SELECT count(*) AS posts, coalesce(sum(label = 'negative'), 0) AS negative, "
        "coalesce(sum(label IS NOT NULL), 0) AS analysed FROM posts WHERE ts >= ? AND ts < ?",
        [to_iso(start), to_iso(end)],
    )[0]
    row["negative_share"] = _share(row["negative"], row["analysed"])
    return row


def _change(now: float | None, before: float | None) -> float | None:
    """Relative change (0.25 = +25%); None when there is nothing to compare with."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def overview(settings: Settings, store: Store, day: date, rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = Counter(r["label"] for r in rows)
    analysed = len(rows) - labels.get(None, 0)
    current: dict[str, Any] = {
        "posts": len(rows),
        "negative": labels.get("negative", 0),
        "neutral": labels.get("neutral", 0),
        "positive": labels.get("positive", 0),
        "unanalysed": labels.get(None, 0),
        "analysed": analysed,
        "negative_share": _share(labels.get("negative", 0), analysed),
        "sources": len({r["source"] for r in rows}),
        "events": len({r["event_id"] for r in rows if r["event_id"] is not None}),
    }
    prev = _counts(store, *day_bounds(settings, day - timedelta(days=1)))
    week = [_counts(store, *day_bounds(settings, day - timedelta(days=d))) for d in range(1, 8)]
    week_posts = sum(w["posts"] for w in week) / 7
    week_neg = sum(w["negative"] for w in week)
    week_analysed = sum(w["analysed"] for w in week)
    avg7 = {"posts": week_posts, "negative": week_neg / 7, "negative_share": _share(week_neg, week_analysed)}
    current["prev"] = {k: prev[k] for k in ("posts", "negative", "negative_share")}
    current["avg7"] = avg7
    current["change"] = {
        "posts_prev": _change(current["posts"], prev["posts"]),
        "posts_avg7": _change(current["posts"], week_posts),
        "negative_prev": _change(current["negative"], prev["negative"]),
        "negative_avg7": _change(current["negative"], avg7["negative"]),
        # shares change in percentage points, not relative
        "share_prev": None if current["negative_share"] is None or prev["negative_share"] is None
        else current["negative_share"] - prev["negative_share"],
        "share_avg7": None if current["negative_share"] is None or avg7["negative_share"] is None
        else current["negative_share"] - avg7["negative_share"],
    }
    return current


def day_alerts(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Alerts open at any moment of the day, the highest level first."""
    rows = store.query(
        "SELECT * FROM alerts WHERE opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?) "
        "ORDER BY opened_at",
        [to_iso(end), to_iso(start)],
    )
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    out = []
    for r in rows:
        out.append({
            "id": r["id"], "kind": r["kind"], "key": r["key"], "level": r["level"], "state": r["state"],
            "title": r["title"] or f"{r['kind']}:{r['key']}", "opened_at": r["opened_at"],
            "resolved_at": r["resolved_at"], "acknowledged_by": r["acknowledged_by"], "ack_note": r["ack_note"],
        })
    out.sort(key=lambda a: (-rank.get(a["level"], -1), a["opened_at"]))
    return out


def hot_events(settings: Settings, store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The day's events by heat (see the module doc), with a summary and a representative post."""
    per: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["event_id"] is None:
            continue
        e = per.setdefault(r["event_id"], {"posts": 0, "negative": 0, "engagement": 0, "heat": 0.0,
                                           "sources": Counter(), "best": None, "best_eng": -1})
        eng = _engagement(r)
        neg = r["label"] == "negative"
        e["posts"] += 1
        e["negative"] += int(neg)
        e["engagement"] += eng
        e["sources"][r["source"]] += 1
        e["heat"] += source_weight(settings, r["source"]) * (1 + int(neg)) * (1 + math.log10(1 + eng))
        if eng > e["best_eng"]:
            e["best"], e["best_eng"] = r["id"], eng
    top = sorted(per.items(), key=lambda kv: -kv[1]["heat"])[: settings.digest.top]
    out = []
    for event_id, e in top:
        ev = store.query("SELECT * FROM events WHERE id = ?", [event_id])
        ev_row = ev[0] if ev else {}
        best = store.get_post_row(e["best"]) or {}
        keywords = json.loads(ev_row.get("keywords") or "[]")
        out.append({
            "id": event_id,
            "title": ev_row.get("title") or excerpt(best.get("title", ""), best.get("text", ""), 30),
            "heat": round(e["heat"], 1),
            "posts": e["posts"],
            "negative": e["negative"],
            "negative_share": _share(e["negative"], e["posts"]),
            "engagement": e["engagement"],
            "size": ev_row.get("size") or e["posts"],
            "first_seen": ev_row.get("first_seen"),
            "last_seen": ev_row.get("last_seen"),
            "sources": [name for name, _ in e["sources"].most_common()],
            "source_weight": round(sum(source_weight(settings, s) * n for s, n in e["sources"].items()) / e["posts"], 2),
            "keywords": keywords[:6],
            "summary": excerpt(best.get("title", ""), best.get("text", "")),
            "post_id": best.get("id"),
            "url": best.get("url"),
        })
    return out


def top_negatives(settings: Settings, store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The day's negative posts that matter most: probability × source weight × reach."""
    scored = []
    for r in rows:
        if r["label"] != "negative":
            continue
        score = (r["negative_prob"] or 0.5) * source_weight(settings, r["source"]) * (1 + math.log10(1 + _engagement(r)))
        scored.append((score, r["id"]))
    scored.sort(reverse=True)
    out = []
    for score, post_id in scored[: settings.digest.top]:
        p = store.get_post_row(post_id)
        if not p:
            continue
        out.append({
            "id": p["id"], "source": p["source"], "ts": p["ts"], "url": p["url"],
            "title": p["title"], "excerpt": excerpt("", p["text"] or p["title"]),
            "negative_prob": p["negative_prob"], "engagement": _engagement(p), "event_id": p["event_id"],
            "topics": json.loads(p["topics"] or "[]"), "score": round(score, 3),
        })
    return out


def splits(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(topics, sources): posts and negatives per topic and per source, largest first."""
    topics: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sources: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        neg = int(r["label"] == "negative")
        names = json.loads(r["topics"]) if r["topics"] else []
        for name in names or (["未归类"] if r["label"] is not None else []):
            topics[name][0] += 1
            topics[name][1] += neg
        sources[r["source"]][0] += 1
        sources[r["source"]][1] += neg

    def listed(d: dict[str, list[int]]) -> list[dict[str, Any]]:
        return [{"name": k, "posts": v[0], "negative": v[1]} for k, v in sorted(d.items(), key=lambda kv: -kv[1][0])]

    return listed(topics), listed(sources)


def hourly(settings: Settings, rows: list[dict[str, Any]]) -> list[dict[str, int]]:
    tz = ZoneInfo(settings.digest.timezone)
    hours = [{"hour": h, "posts": 0, "negative": 0} for h in range(24)]
    for r in rows:
        h = datetime.fromisoformat(r["ts"]).astimezone(tz).hour
        hours[h]["posts"] += 1
        hours[h]["negative"] += int(r["label"] == "negative")
    return hours


def source_health(settings: Settings, store: Store, end: datetime, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Failing sources (last run errored) and silent ones (enabled, nothing new for a day)."""
    today = Counter(r["source"] for r in rows)
    enabled = {s.name for s in settings.sources if s.enabled}
    problems, ok = [], 0
    for s in store.sources_health():
        configured = s["name"] in enabled
        if s["last_error"]:
            state = "failing"
        elif configured and not today.get(s["name"]) and (
            not s["last_new_at"] or from_iso(s["last_new_at"]) < end - timedelta(days=1)  # type: ignore[operator]
        ):
            state = "silent"
        else:
            ok += 1
            continue
        problems.append({
            "name": s["name"], "state": state, "failures": s["failures"], "last_error": s["last_error"],
            "last_ok_at": s["last_ok_at"], "last_new_at": s["last_new_at"], "posts_today": today.get(s["name"], 0),
        })
    day = (end - timedelta(hours=12)).astimezone(ZoneInfo(settings.digest.timezone)).date()
    before = [sections.source_counts(store, *day_bounds(settings, day - timedelta(days=k))) for k in range(1, 8)]
    return {"problems": problems, "ok": ok, "coverage": sections.coverage(settings, dict(today), before)}


def collect(settings: Settings, store: Store, day: date) -> dict[str, Any]:
    """Everything the digest shows for `day`, as JSON-able data."""
    start, end = day_bounds(settings, day)
    # One pass over the day's slim rows; details are fetched only for the few listed items.
    rows = store.query(
        "SELECT id, source, ts, label, negative_prob, topics, event_id, reposts, comments, likes "
        "FROM posts WHERE ts >= ? AND ts < ?",
        [to_iso(start), to_iso(end)],
    )
    topics, sources = splits(rows)
    events = hot_events(settings, store, rows)
    for e in events:  # how far each event reached, hour by hour (its posts' re-visits)
        e["reach_curve"] = sections.reach_curve(store, e["id"], start, end, settings.digest.timezone)
    return _titled(settings, {
        "date": day.isoformat(),
        "locality": settings.locality.name,
        "timezone": settings.digest.timezone,
        "built_at": to_iso(utcnow()),
        "overview": overview(settings, store, day, rows),
        "alerts": day_alerts(store, start, end),
        "events": events,
        "negatives": top_negatives(settings, store, rows),
        "reach": sections.reach(store, start, end, settings.digest.top),
        "topics": topics,
        "sources": sources,
        "trend": hourly(settings, rows),
        "health": source_health(settings, store, end, rows),
        "cases": _cases(settings, store, start, end),
        "liuyan": sections.liuyan(settings, store, start, end, utcnow()),
    })


def _titled(settings: Settings, data: dict[str, Any]) -> dict[str, Any]:
    """Sources by their `title` (清溪问政), as people know them, not their config names."""
    title = settings.source_title
    for post in data["negatives"] + data["reach"]:
        post["source"] = title(post["source"])
    for event in data["events"]:
        event["sources"] = [title(name) for name in event["sources"]]
    for row in data["sources"] + data["health"]["problems"] + data["health"]["coverage"]["rows"]:
        row["name"] = title(row["name"])
    for alert in data["alerts"]:
        if alert["kind"] == "source":
            alert["key"] = title(alert["key"])
    return data


def _cases(settings: Settings, store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    from yuqing.cases.report import summary  # 处置情况: where every case stands

    return summary(settings, store, to_iso(start) or "", to_iso(end) or "")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_digest(settings: Settings, store: Store, day: date | None = None, *, send: bool = True) -> Path:
    """Build `day`'s digest (default: yesterday, local time), store it, write its page, queue the email.

    Idempotent: a rebuild replaces the stored digest and the page; the email is queued once per
    (kind, ref, channel) by the delivery stage. Returns the page path.
    """
    from yuqing.digest import render

    day = day or yesterday(settings)
    data = collect(settings, store, day)
    base = settings.alerts.base_url.rstrip("/")
    page = render.page(data, base=base)
    subject = render.subject(data)
    mail_html = render.email_html(data, base=base)
    text = render.text(data, base=base)
    with store.transaction():
        store.conn.execute(
            "INSERT OR REPLACE INTO digests(date, built_at, data, html, text) VALUES (?, ?, ?, ?, ?)",
            (data["date"], data["built_at"], json.dumps(data, ensure_ascii=False), page, text),
        )
    path = settings.path(settings.digest.pages) / f"{data['date']}.html"
    _write_atomic(path, page)
    logger.info("digest %s built: %d posts, %d alerts, page %s", data["date"], data["overview"]["posts"],
                len(data["alerts"]), path)
    if send:
        from yuqing.delivery.outbox import enqueue

        enqueue(store, settings, kind="digest", ref=data["date"], subject=subject, html=mail_html, text=text,
                recipients=list(settings.digest.to))
    return path
