"""Backtest: replay detection over stored history window by window, as if it had run then.

Posts count from their `ts` on (as if crawled and analysed at once); the lifecycle (cooldown,
escalation, resolve) runs in memory, so nothing is written to the alerts table and nothing is sent.
Source-health alerts are not replayed (the store keeps no history of a source's past state).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from yuqing.alerts import baseline as bl
from yuqing.alerts.detector import Detector, event_titles
from yuqing.alerts.lifecycle import Book
from yuqing.settings import Settings
from yuqing.store import Store

DEFAULT_STEP = timedelta(minutes=15)


def steps(since: datetime, until: datetime, step: timedelta) -> Iterator[datetime]:
    t = since
    while t <= until:
        yield t
        t += step


def backtest(settings: Settings, store: Store, since: datetime, until: datetime,
             step: timedelta = DEFAULT_STEP) -> list[dict[str, Any]]:
    """The alerts detection would have raised between `since` and `until`, oldest first.

    Each record: kind, key, scope (its title), level (highest reached), first_level, opened,
    resolved (None while still open at `until`), escalations, peak_negative.
    """
    if until <= since:
        raise ValueError("--until must be later than --since")
    start, _ = bl.iso_range(since, settings.alerts.baseline_weeks, max(settings.alerts.windows))
    history = bl.load_history(store, start, until)
    titles = event_titles(store, {int(e) for e in history.events.tolist() if e >= 0})
    detector = Detector(settings, history, titles)
    book = Book(settings)
    for t in steps(since, until, step):
        book.step(detector.run(t.timestamp(), set(book.current)), t)
    return book.records()
