"""Housekeeping: what keeps a store healthy over months — retention, statistics, the odd VACUUM.

Runs daily at `[daemon] housekeeping_at` through the pipeline worker (never beside analysis), and
starts with `PRAGMA quick_check`: a damaged store stops the daemon's writing (yuqing.scheduler).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from yuqing.models import from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

META_KEY = "housekeeping"


def housekeep(settings: Settings, store: Store, now: datetime | None = None, *, force_vacuum: bool = False) -> dict[str, Any]:
    """Check the store (quick_check), apply retention, refresh the planner's statistics, VACUUM when due.

    Returns what was done; raises StoreDamaged, before writing anything, when the check fails.
    """
    now = now or utcnow()
    store.verify()  # daily: damage found early is damage a backup can still undo
    state = json.loads(store.get_meta(META_KEY, "{}") or "{}")
    report: dict[str, Any] = {"at": to_iso(now), "deleted_posts": 0, "vacuumed": False}
    retention = settings.store.retention
    if retention > 0:
        cutoff = now - timedelta(seconds=retention)
        report["deleted_posts"] = store.delete_posts_before(cutoff)
        if report["deleted_posts"]:
            logger.info("housekeeping: deleted %d posts counted before %s (retention)", report["deleted_posts"], to_iso(cutoff))
    store.conn.execute("PRAGMA optimize")
    last_vacuum = from_iso(state.get("last_vacuum"))
    every = settings.daemon.vacuum_every
    page_count = int(store.scalar("PRAGMA page_count") or 0)
    free_pages = int(store.scalar("PRAGMA freelist_count") or 0)
    # VACUUM rewrites the whole file: only when asked, or when due and there is space to win back
    due = every > 0 and (last_vacuum is None or (now - last_vacuum).total_seconds() >= every)
    worth_it = page_count > 0 and free_pages / page_count >= 0.1
    if force_vacuum or (due and (worth_it or report["deleted_posts"])):
        store.conn.execute("VACUUM")
        report["vacuumed"] = True
        state["last_vacuum"] = report["at"]
        logger.info("housekeeping: VACUUM done (%d of %d pages were free)", free_pages, page_count)
    elif due:
        state["last_vacuum_check"] = report["at"]
    # fold the WAL back into the database so it does not grow between busy periods
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    state["last_run"] = report["at"]
    state["deleted_posts"] = report["deleted_posts"]
    store.set_meta(META_KEY, json.dumps(state))
    return report
