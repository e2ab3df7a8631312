"""The digest's sections of the early signals (#15): 留言办理, top posts by reach, source coverage,
and the 传播/溯源 of one event that its page and the 专报 show.

Each returns JSON-able data (kept in `digests.data`) or None when it has nothing to say; a store
that cannot answer (a query not ported to the store's backend) leaves its section out, in the log, and the
digest is built all the same.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.models import from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store, engagement
from yuqing.store import liuyan as liuyan_db
from yuqing.store import reports as q
from yuqing.store.dialect import NotPorted

logger = logging.getLogger(__name__)

OVERDUE_SHOWN = 20  # messages listed by name; the rest are counted


def liuyan(settings: Settings, store: Store, start: datetime, end: datetime, now: datetime) -> dict[str, Any] | None:
    """留言办理 of the `liuyan` sources: new, answered, unanswered past `[liuyan] overdue`, per department,
    the overdue oldest first; None when no such source is configured."""
    names = [s.name for s in settings.sources if s.type == "liuyan"]
    if not names:
        return None
    cutoff = min(end, now)
    overdue_s = float(settings.liuyan.overdue)
    try:
        got = liuyan_db.period(store.conn, names, start, end, cutoff, overdue_s)
    except NotPorted as exc:
        logger.warning("digest: 留言办理 left out: %s", exc)
        return None
    late: dict[str, int] = {}
    for r in got["overdue"]:
        late[r["department"]] = late.get(r["department"], 0) + 1
        since = from_iso(r["ts"])
        r["days"] = int((cutoff - since).total_seconds() // 86400) if since else None
    names = sorted(set(got["new"]) | set(got["answered"]) | set(late),
                   key=lambda n: (-late.get(n, 0), -got["new"].get(n, 0), n))
    return {
        "new": sum(got["new"].values()), "answered": sum(got["answered"].values()), "overdue": len(got["overdue"]),
        "overdue_days": round(overdue_s / 86400, 1),
        "departments": [{"name": n, "new": got["new"].get(n, 0), "answered": got["answered"].get(n, 0),
                         "overdue": late.get(n, 0)} for n in names],
        "oldest": got["overdue"][:OVERDUE_SHOWN],
    }


# -- 传播: top posts by reach, an event's reach curve --------------------------------------------
def reach(store: Store, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """The period's posts with the most reposts+comments+likes, as last counted (a re-visit updates them)."""
    from yuqing.digest.builder import excerpt

    out = []
    for p in engagement.top_by_reach(store.conn, start, limit, until=end):
        out.append({"id": p["id"], "source": p["source"], "title": p["title"] or "", "url": p["url"], "ts": p["ts"],
                    "reach": p["reach"], "reposts": p["reposts"] or 0, "comments": p["comments"] or 0,
                    "likes": p["likes"] or 0, "event_id": p["event_id"],
                    "excerpt": excerpt(p["title"] or "", p["text"] or p["title"] or "", 60)})
    return out


def reach_curve(store: Store, event_id: int, start: datetime, end: datetime, tz: str) -> list[dict[str, Any]]:
    """An event's reach per local hour (per day past four days): each post's last observation by the
    bucket's end, summed over the event's posts. Empty when none of its posts was ever counted again.

    A post's counts carry forward between re-visits, so the curve shows how far the event has
    reached at each moment, not how often it was looked at.
    """
    rows = engagement.event_observations(store.conn, event_id, end)
    if not rows:
        return []
    zone = ZoneInfo(tz)
    first = max(from_iso(rows[0][1]) or start, start).astimezone(zone)
    last_seen = min(from_iso(rows[-1][1]) or end, end)
    daily = last_seen - first > timedelta(hours=96)
    step = timedelta(days=1) if daily else timedelta(hours=1)
    t = first.replace(minute=0, second=0, microsecond=0)
    if daily:
        t = t.replace(hour=0)
    latest: dict[int, int] = {}
    points, i = [], 0
    while t < end and t <= last_seen:
        edge = to_iso(t + step) or ""
        while i < len(rows) and rows[i][1] < edge:
            latest[rows[i][0]] = rows[i][2]
            i += 1
        points.append({"label": t.strftime("%m-%d") if daily else t.strftime("%d日%H时"), "reach": sum(latest.values())})
        t = (t + step).astimezone(zone)
    return points


def reach_svg(points: list[dict[str, Any]], title: str) -> Any:
    """The reach curve as an inline SVG line (report_charts.lines, counts)."""
    from yuqing.digest.report_charts import lines

    return lines([p["label"] for p in points], [("转评赞合计", [float(p["reach"]) for p in points])], title=title,
                 percent=False, height=200)


# -- coverage: posts per source against its usual ------------------------------------------------
LOW_SHARE = 0.25  # at most a quarter of the usual count is "far below"
MIN_USUAL = 3.0  # a source that usually gives fewer says too little to judge


def source_counts(store: Store, start: datetime, end: datetime) -> dict[str, int]:
    return q.posts_per_source(store, start, end)


def coverage(settings: Settings, current: dict[str, int], before: list[dict[str, int]]) -> dict[str, Any]:
    """Posts each source gave in the period against its usual: the median of the previous periods
    (7 of the same length). Far below (≤ a quarter of a usual of at least 3) is flagged, so a source
    that went quiet shows the day it did, before a day without posts makes its health alert.

    Hot lists are left out: they keep only the entries naming the locality, which is no measure of
    whether they work (their polls are).
    """
    hot = {s.name for s in settings.sources if s.type == "hotlist"}
    names = [s.name for s in settings.sources if s.enabled and s.name not in hot]
    names += sorted(n for n in current if n not in names and n not in hot)
    rows: list[dict[str, Any]] = []
    for name in names:
        usual = float(median([b.get(name, 0) for b in before])) if before else None
        posts = current.get(name, 0)
        judged = usual is not None and usual >= MIN_USUAL
        low = usual is not None and judged and posts <= usual * LOW_SHARE
        rows.append({"name": name, "posts": posts, "usual": usual, "low": low, "judged": judged,
                     "share": posts / usual if usual else None})
    rows.sort(key=lambda r: (not r["low"], -(r["usual"] or 0.0), r["name"]))
    return {"rows": rows, "low": sum(1 for r in rows if r["low"]), "periods": len(before)}


# -- 传播/溯源 of one event (the web's event page and the 专报) ---------------------------------------
# Its first post, the order in which sources picked it up, the posts that reached furthest, and its
# reach curve. Every string here comes from posts: the templates escape it, links pass safe_url.
TOP = 5  # posts listed by reach


def after(first: datetime | None, at: datetime | None) -> str:
    """How long after the first post: 首发, +40分钟, +3小时5分, +2天4小时."""
    if first is None or at is None:
        return ""
    minutes = int((at - first).total_seconds() // 60)
    if minutes <= 0:
        return "首发" if at == first else "同时"
    if minutes < 60:
        return f"+{minutes}分钟"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"+{hours}小时" + (f"{mins}分" if mins else "")
    days, hours = divmod(hours, 24)
    return f"+{days}天" + (f"{hours}小时" if hours else "")


def _item(settings: Settings, p: dict[str, Any], first: datetime | None) -> dict[str, Any]:
    from yuqing.digest.builder import excerpt

    return {"id": p["id"], "source": settings.source_title(p["source"]), "title": p["title"] or "",
            "url": p["url"], "ts": p["ts"], "reach": int(p.get("reach") or 0),
            "excerpt": excerpt(p["title"] or "", p["text"] or p["title"] or "", 60),
            "after": after(first, from_iso(p["ts"]))}


def trace(settings: Settings, store: Store, event_id: int) -> dict[str, Any] | None:
    """The event's spread and origin; None for an event without posts."""
    pickup = q.event_pickup(store, event_id)
    if not pickup:
        return None
    first = from_iso(pickup[0]["ts"])
    last = from_iso(engagement.event_last(store.conn, event_id)) or first
    assert first is not None and last is not None
    top = [_item(settings, p, first) for p in engagement.event_reach(store.conn, event_id, TOP)]
    # re-visits go on after the last post: the curve runs to the last observation
    curve = reach_curve(store, event_id, first, utcnow(), settings.digest.timezone)
    steps = [_item(settings, p, first) for p in pickup]
    return {"first": steps[0], "pickup": steps, "top": top, "curve": curve,
            "sources": len(steps), "span": after(first, last)}
