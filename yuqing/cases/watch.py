"""`[alerts] watch_terms`: a post that contains one opens a 待研判 case at once, whatever the counts.

Posts are scanned once each, in id order, after analysis (the last id scanned is kept in `meta`,
written in the same transaction as the cases it opened, so a restart neither misses nor repeats
one). A post whose event already has an open case joins that case instead of opening another.
Only news counts: a post older than the longest alert window (a backlog, the history there was when
the terms were first set) is scanned but opens nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from yuqing.cases import model
from yuqing.cases.workflow import open_rows
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import cases as db

logger = logging.getLogger(__name__)

META_KEY = "cases.watch_last_post"
LEVEL = "yellow"  # a watch term is a reason to look, not a measured spike


def scan(settings: Settings, store: Store, now: datetime | None = None) -> list[int]:
    """Open (or join) cases for new posts that contain a watch term; returns the case ids touched."""
    terms = [t for t in settings.alerts.watch_terms if t.strip()]
    last = int(store.get_meta(META_KEY, "0") or 0)
    if not terms:
        return []
    now = now or utcnow()
    stamp = to_iso(now) or ""
    fresh_from = to_iso(now - timedelta(seconds=max(settings.alerts.windows))) or ""
    touched: list[int] = []
    with store.transaction():
        open_by_event = {ev: int(c["id"]) for c in db.open_cases(store) for ev in c["events"]}
        for post in db.posts_after(store, last):
            last = int(post["id"])
            text = f"{post['title'] or ''}\n{post['text'] or ''}"
            hits = [t for t in terms if t in text]
            if not hits or (post["ts"] or "") < fresh_from:
                continue
            note = f"帖子 #{post['id']} 含关注词：{'、'.join(hits)}"
            joined = open_by_event.get(post["event_id"]) if post["event_id"] is not None else None
            if joined is not None:
                case = db.get(store, joined)
                assert case is not None
                db.add_step(store, joined, at=stamp, who="系统", action="join", state=case["state"], note=note,
                            detail={"post": post["id"], "terms": hits})
                touched.append(joined)
                continue
            case_id = open_rows(settings, store, post_id=int(post["id"]), event_id=None, level=LEVEL, note=note,
                                who="系统", origin="watch", now=now)
            if post["event_id"] is not None:
                open_by_event[int(post["event_id"])] = case_id
            touched.append(case_id)
        db.set_meta_row(store, META_KEY, str(last))
    if touched:
        logger.warning("watch terms: %d case(s) opened or joined (%s)", len(touched), model.PENDING)
    return touched
