"""`yuqing analyze`: analyse stored posts that have not been analysed yet, batch by batch.

Each batch is read, analysed in memory, then written in one transaction (posts' analysis columns
and the events they touched), so a kill loses at most the batch in flight and the next run picks
up exactly there: progress is the `analyzed_at` column itself.
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from datetime import datetime

import click

from yuqing.analysis.analyzer import for_settings
from yuqing.analysis.events import EventIndex, sub_places
from yuqing.models import from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

_SELECT = ("SELECT id, title, text, source, ts FROM posts WHERE analyzed_at IS NULL AND id > ? "
           "ORDER BY id LIMIT ?")


def _pending_since(store: Store) -> datetime | None:
    value = store.scalar("SELECT min(ts) FROM posts WHERE analyzed_at IS NULL")
    return from_iso(value)


def analyze_pending(settings: Settings, store: Store, *, limit: int | None = None, progress: bool = False) -> int:
    """Analyse posts with analyzed_at IS NULL; returns how many were analysed."""
    pending = int(store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL"))
    if limit is not None:
        pending = min(pending, max(limit, 0))
    if pending == 0:
        return 0
    analyzer = for_settings(settings)
    cfg = settings.analysis
    index = EventIndex(cfg.event_window, cfg.event_similarity, sub_places(settings.locality.name, settings.locality.aliases))
    since = _pending_since(store)
    if since is not None:
        index.load(store.conn, since - index.window)
    batch_size = max(1, cfg.batch)
    done = 0
    last_id = 0
    bar = click.progressbar(length=pending, label="analysing posts", file=None) if progress else nullcontext()
    with bar as shown:
        while done < pending:
            analyzer.refresh()  # a model retrained while the daemon runs takes effect at the next batch
            rows = store.conn.execute(_SELECT, (last_id, min(batch_size, pending - done))).fetchall()
            if not rows:
                break
            updates = []
            for post_id, title, text, source, ts in rows:
                result = analyzer.analyze_full(f"{title or ''}\n{text or ''}")
                a = result.analysis
                when = from_iso(ts) or utcnow()
                event = index.assign(weights=result.weights, h=a.simhash, when=when, source=source,
                                     title=title or "", text=text or "", negative=a.label == "negative")
                updates.append((post_id, a, event))
            now = to_iso(utcnow())
            with store.transaction() as conn:
                index.flush(conn)
                store.index_rows((post_id, title, text) for post_id, title, text, _source, _ts in rows)
                conn.executemany(
                    "UPDATE posts SET label=?, negative_prob=?, topics=?, topic_terms=?, keywords=?, simhash=?, "
                    "event_id=?, analyzed_at=? WHERE id=?",
                    [
                        (a.label, round(a.negative_prob, 4),
                         json.dumps([t.name for t in a.topics], ensure_ascii=False),
                         json.dumps({t.name: t.terms for t in a.topics}, ensure_ascii=False),
                         json.dumps(a.keywords, ensure_ascii=False), a.simhash, event.id, now, post_id)
                        for post_id, a, event in updates
                    ],
                )
            last_id = rows[-1][0]
            done += len(rows)
            if progress:
                shown.update(len(rows))  # type: ignore[union-attr]
            logger.debug("analysed %d posts (up to id %d)", done, last_id)
    logger.info("analysed %d posts, %d events in memory", done, len(index.events))
    return done
