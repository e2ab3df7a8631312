"""Hot-list entries (热搜/热榜) from a JSON API read by field paths, named as the `json` type names them.

`list_path` is the path to the list; `fields` maps title/rank/heat/url to paths inside one entry.
A missing rank is the entry's position in the list (from 1). Heat is read as counts are
("1.2万" -> 12000). Not yet wired as a crawl type: the poll loop that stores a snapshot and runs
yuqing.alerts.hotlist.detect is still to come (see the issue 15 report).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from yuqing.crawlers.spiders.json_api import MISSING, get_path, to_int
from yuqing.errors import SourceError


def parse_entries(data: Any, list_path: str, fields: dict[str, str], base_url: str = "") -> list[dict[str, Any]]:
    """Ranked entries {title, rank, heat, url}; entries without a title are skipped."""
    found = get_path(data, list_path) if list_path else data
    if found is MISSING:
        raise SourceError(f"no list at {list_path!r} in the hot-list JSON")
    if not isinstance(found, list):
        raise SourceError(f"{list_path!r} in the hot-list JSON is not a list but {type(found).__name__}")
    entries: list[dict[str, Any]] = []
    for position, record in enumerate(found, start=1):
        title = get_path(record, fields.get("title", "title"))
        if title is MISSING or not str(title).strip():
            continue
        rank = to_int(get_path(record, fields["rank"])) if "rank" in fields else None
        heat = to_int(get_path(record, fields["heat"])) if "heat" in fields else None
        url = get_path(record, fields["url"]) if "url" in fields else MISSING
        entries.append({"title": str(title).strip(), "rank": rank if rank is not None else position,
                        "heat": heat, "url": urljoin(base_url, str(url)) if url is not MISSING and url else ""})
    return entries
