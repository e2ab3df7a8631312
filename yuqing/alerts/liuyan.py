"""A 留言 left unanswered past `[liuyan] overdue` raises one blue alert (kind liuyan, key post:<id>).

The alert stays open while the message is unanswered and resolves when a re-visit finds a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yuqing.store.hotlist import open_keys
from yuqing.store.liuyan import answered_ids, overdue

DEFAULT_OVERDUE_S = 7 * 86400.0


@dataclass
class LiuyanFinding:
    kind: str
    key: str
    title: str
    fired: bool
    level: str | None
    quiet: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def detect(conn: Any, now: datetime, overdue_s: float = DEFAULT_OVERDUE_S,
           sources: list[str] | None = None) -> list[LiuyanFinding]:
    findings = [LiuyanFinding(kind="liuyan", key=f"post:{r['id']}", title=f"留言逾期未回复：{r['title'][:40]}",
                              fired=True, level="blue", quiet=False,
                              explanation={"post_id": r["id"], "since": r["ts"], "department": r["department"],
                                           "url": r["url"], "source": r["source"],
                                           "top_posts": [{"id": r["id"], "title": r["title"] or "(无标题)",
                                                          "url": r["url"], "source": r["source"], "ts": r["ts"]}]})
                for r in overdue(conn, now, overdue_s, sources)]
    open_ids = [int(k.removeprefix("post:")) for k in open_keys(conn, "liuyan")]
    for pid in answered_ids(conn, open_ids):
        findings.append(LiuyanFinding(kind="liuyan", key=f"post:{pid}", title="", fired=False, level=None, quiet=True))
    return findings
