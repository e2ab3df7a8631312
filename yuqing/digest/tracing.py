"""传播/溯源 of one event: its first post, the order in which sources picked it up, the posts that
reached furthest, and its reach curve. The web's event page and the 专报 show the same data.

Every string here comes from posts: the templates escape it, and links pass safe_url.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from yuqing.digest import sections
from yuqing.digest.builder import excerpt
from yuqing.models import from_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import reports as q

logger = logging.getLogger(__name__)

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
    span = q.event_span(store, event_id)
    last = from_iso(span["last"]) or first
    assert first is not None and last is not None
    end = last + timedelta(seconds=1)
    top = []
    for p in q.event_posts(store, event_id, first, end, TOP):
        p["reach"] = int(p["reposts"] or 0) + int(p["comments"] or 0) + int(p["likes"] or 0)
        if p["reach"]:
            top.append(_item(settings, p, first))
    # re-visits go on after the last post: the curve runs to the last observation
    curve = sections.reach_curve(store, event_id, first, utcnow(), settings.digest.timezone)
    steps = [_item(settings, p, first) for p in pickup]
    return {"first": steps[0], "pickup": steps, "top": top, "curve": curve,
            "sources": len(steps), "span": after(first, last)}
