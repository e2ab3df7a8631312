"""The signals offices act on before the negative count moves: hot lists, spread, unanswered 留言.

`check` runs the three detectors of yuqing.alerts.{hotlist,spread,liuyan} over what the crawls
stored and returns their findings for the lifecycle, each quoting its post in `top_posts` so the
case layer opens an incident (a case) for it:

* hot lists: each `hotlist` source's last poll, unless it is older than `[alerts] cooldown` (a
  source that stopped polling says nothing about today's list). An entry names the locality when
  the crawl kept it as a post (or found it the same as one it kept: the same title under another
  link or on another list): the same matcher, aliases and exclusions as every other post.
* spread: the engagement observations of the last hour against `[alerts] spread_*`.
* 留言: messages unanswered past `[liuyan] overdue`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from yuqing.alerts import hotlist, liuyan, spread
from yuqing.alerts.levels import rank
from yuqing.models import from_iso
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import hotlist as hot_db

logger = logging.getLogger(__name__)


def hotlist_findings(settings: Settings, store: Store, now: datetime) -> list[Any]:
    cooldown = float(settings.alerts.cooldown)
    names = [s.name for s in settings.sources if s.type == "hotlist"]
    names += [n for n in hot_db.sources(store.conn) if n not in names]  # a source since removed: let its alerts end
    found: list[Any] = []
    for name in names:
        stamp, entries = hot_db.latest(store.conn, name)
        polled = from_iso(stamp)
        if polled is None or now - polled >= timedelta(seconds=cooldown):
            entries = []  # stale: nothing fires on it, and what it listed goes quiet
        by_title = hot_db.entry_posts(store.conn, entries)
        for finding in hotlist.detect(store.conn, name, entries, by_title.__contains__, now, cooldown,
                                      settings.alerts.hotlist_level):
            post = by_title.get(finding.key.removeprefix("hotlist:"))
            if finding.fired and post is not None:
                finding.explanation["top_posts"] = [{k: post[k] for k in ("id", "title", "url", "source", "ts")}]
                finding.explanation["post_id"] = post["id"]
            found.append(finding)
    return found


def merge(findings: list[Any]) -> list[Any]:
    """One finding per scope: a title on two hot lists is one alert, at the higher level."""
    best: dict[tuple[str, str], Any] = {}
    for f in findings:
        scope = (f.kind, f.key)
        have = best.get(scope)
        if have is None or (f.fired, rank(f.level) if f.level else -1) > (have.fired, rank(have.level) if have.level else -1):
            if have is not None and not f.fired and not have.fired:
                f.quiet = f.quiet and have.quiet
            best[scope] = f
        elif not f.fired and not have.fired:
            have.quiet = have.quiet and f.quiet
    return list(best.values())


def titled(settings: Settings, findings: list[Any]) -> list[Any]:
    """People read a source's `title` (微博热搜), not its config name: in the alert's title and as
    `source_title` in its explanation, which keeps the name in `source`."""
    for f in findings:
        name = f.explanation.get("source")
        if not f.fired or not name:
            continue
        shown = settings.source_title(name)
        f.explanation["source_title"] = shown
        if f.title.startswith(f"{name} "):
            f.title = shown + f.title[len(name):]
    return findings


def check(settings: Settings, store: Store, now: datetime) -> list[Any]:
    """Findings of the three signals at `now` (nothing written)."""
    cfg = settings.alerts
    found = hotlist_findings(settings, store, now)
    found += spread.detect(store.conn, now, cfg.spread_new, cfg.spread_factor, cfg.spread_base)
    boards = [s.name for s in settings.sources if s.type == "liuyan"]  # only their posts are read
    found += liuyan.detect(store.conn, now, float(settings.liuyan.overdue), boards)
    merged = merge(titled(settings, found))
    logger.debug("signals at %s: %d findings, %d fired", now, len(merged), sum(f.fired for f in merged))
    return merged
