"""The digest's sections of the early signals (#15): 留言办理, top posts by reach, source coverage.

Each returns JSON-able data (kept in `digests.data`) or None when it has nothing to say; a store
that cannot answer (PostgreSQL has no json_extract yet) leaves its section out, in the log, and the
digest is built all the same.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from yuqing.models import from_iso
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import liuyan as liuyan_db
from yuqing.store.dialect import NotPorted

logger = logging.getLogger(__name__)

OVERDUE_SHOWN = 20  # messages listed by name; the rest are counted


def liuyan(settings: Settings, store: Store, start: datetime, end: datetime, now: datetime) -> dict[str, Any] | None:
    """留言办理: new, answered, unanswered past `[liuyan] overdue`, per department; overdue oldest first."""
    cutoff = min(end, now)
    overdue_s = float(settings.liuyan.overdue)
    try:
        got = liuyan_db.period(store.conn, start, end, cutoff, overdue_s)
    except NotPorted as exc:
        logger.warning("digest: 留言办理 left out: %s", exc)
        return None
    configured = any(s.type == "liuyan" for s in settings.sources)
    if not configured and not (got["new"] or got["answered"] or got["overdue"]):
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
