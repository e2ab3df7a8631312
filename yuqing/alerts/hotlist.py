"""Hot-list signal: an entry naming the locality opens an alert at once, scoped `hotlist:<title>`.

The alert stays open while the entry is listed and while it is absent for less than the cooldown,
so an entry that drops out and comes back is one alert (the case layer groups on the stable key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yuqing.models import from_iso
from yuqing.store.hotlist import last_listed, open_keys, trajectory

TOP_RANK = 10  # in the top ten the alert is red (红) whatever [alerts] hotlist_level says


@dataclass
class HotlistFinding:
    kind: str
    key: str
    title: str
    fired: bool
    level: str | None
    quiet: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def detect(conn: Any, source: str, entries: list[dict[str, Any]], matches: Callable[[str], bool],
           now: datetime, cooldown_s: float, level: str = "orange") -> list[HotlistFinding]:
    """Findings for this poll (stored already): fired for matching entries, quiet for long-gone ones."""
    findings: list[HotlistFinding] = []
    listed: set[str] = set()
    for entry in entries:
        title = str(entry["title"])
        if not matches(title):
            continue
        listed.add(title)
        rank_now = int(entry["rank"])
        findings.append(HotlistFinding(
            kind="hotlist", key=f"hotlist:{title}", title=f"{source} 热榜第{rank_now}位：{title}", fired=True,
            level="red" if rank_now <= TOP_RANK else level, quiet=False,
            explanation={"source": source, "rank": rank_now, "heat": entry.get("heat"),
                         "url": entry.get("url") or "", "trajectory": trajectory(conn, source, title)}))
    for key in open_keys(conn, "hotlist"):
        title = key.removeprefix("hotlist:")
        if title in listed:
            continue
        last = last_listed(conn, source, title)
        if last is None:
            continue  # listed by another source
        gone = now - from_iso(last) >= timedelta(seconds=cooldown_s)  # type: ignore[operator]
        findings.append(HotlistFinding(kind="hotlist", key=key, title=title, fired=False, level=None, quiet=gone))
    return findings
