"""Times shown to people: in `[digest] timezone`, one format everywhere (CLI, alert emails, notices).

Stored times stay UTC ISO stamps (and `--json` output keeps them so, for programs); only what a
person reads goes through `shown`, so a status line, an alert and a case show 2024-06-14 10:30 alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from yuqing.models import from_iso

logger = logging.getLogger(__name__)

FORMAT = "%Y-%m-%d %H:%M"


def shown(value: str | datetime | None, timezone: str, empty: str = "—") -> str:
    """A stored time (ISO text or an aware datetime) as people read it, in `timezone`."""
    if value is None or value == "":
        return empty
    try:
        when = from_iso(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)  # not a time we wrote: show it as it is rather than fail
    if when is None:
        return empty
    local = when.astimezone(ZoneInfo(timezone))
    # isoformat is FORMAT (2024-06-14 10:30) at a fifth of strftime's cost, a month's 帖子 sheet
    # calling it for each of its 1.5 million posts; strftime writes a year before 1000 unpadded
    return local.isoformat(" ", "minutes")[:16] if local.year >= 1000 else local.strftime(FORMAT)


def formatter(timezone: str) -> Callable[..., str]:
    """`shown` bound to a zone, for templates and renderers: `local(value)` -> 2024-06-14 10:30."""

    def local(value: str | datetime | None, empty: str = "—") -> str:
        return shown(value, timezone, empty)

    return local


def minutes(timezone: str, empty: str = "—") -> Callable[[str | datetime | None], str]:
    """`shown` in `timezone` for many stamps at once (a month's 帖子 sheet): what it shows is computed
    once per stored minute. A stamp as `to_iso` writes it (2024-06-14T02:30:59+00:00) shows the same
    as its minute's first second, unless the zone's offset then had seconds (local mean time before
    1900), which is computed each time."""
    zone = _zone(timezone)
    cache: dict[str, str] = {}

    def local(value: str | datetime | None) -> str:
        if type(value) is not str or len(value) != 25 or value[16] != ":":
            return shown(value, timezone, empty)
        key = value[:16] + value[19:]
        found = cache.get(key)
        if found is None:
            found = shown(value, timezone, empty)
            when = from_iso(value)
            offset = when.astimezone(zone).utcoffset() if when is not None else None
            if offset is not None and offset.seconds % 60 == 0 and not offset.microseconds:
                if len(cache) > 1_000_000:  # years of minutes: start again rather than grow
                    cache.clear()
                cache[key] = found
        return found

    return local


@lru_cache(maxsize=32)
def _zone(timezone: str) -> ZoneInfo:
    return ZoneInfo(timezone)
