"""What is usual: analysed posts loaded once into sorted arrays, and a time-of-week baseline per scope.

A scope is the whole locality, one topic or one event. For a window (t - w, t] the baseline of a
count is, in order of preference:

* weekly: the same window shifted back k = 1..`baseline_weeks` weeks (the same hour of the same
  weekday), each smoothed over the neighbouring hours (weights 1/4, 1/2, 1/4 at -1 h, 0, +1 h);
  with three or more weeks the highest week is dropped, so one past incident does not hide the
  next; the mean of the remaining weeks is blended with the daily estimate below, which counts
  as one more week (a prior that steadies a baseline built from one or two weeks);
* daily, while less than a week of history exists: the same hour on each of the past 7 days,
  smoothed and trimmed the same way;
* trailing, while less than a day exists: the mean count per window since history began;
* none, for a scope with no history at all (a new event has no usual level).

Only posts with analyzed_at set count; a post counts at posts.ts (published_at, else fetched_at).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from yuqing.models import from_iso, to_iso
from yuqing.store import Store

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
SMOOTH = ((-HOUR, 0.25), (0.0, 0.5), (HOUR, 0.25))
TRAILING_DAY = DAY  # events: their own rate over the day before the window


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean), accurate for tiny tails (summed from the tail upwards)."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_pmf = -mean + count * math.log(mean) - math.lgamma(count + 1)
    if count > mean + 1:
        total, term, k = 0.0, math.exp(log_pmf), count
        while term > 0 and (k < count + 2 or term > total * 1e-16):
            total += term
            k += 1
            term *= mean / k
        return min(1.0, total)
    below, term = 0.0, math.exp(-mean)
    for k in range(count):
        below += term
        term *= mean / (k + 1)
    return max(0.0, 1.0 - below)


def epoch(value: datetime) -> float:
    return value.timestamp()


@dataclass
class Series:
    """One scope's posts as sorted epoch arrays: negatives (with row indexes and weights) and the rest."""

    neg_ts: np.ndarray
    neg_rows: np.ndarray
    other_ts: np.ndarray

    def count(self, starts: np.ndarray | float, ends: np.ndarray | float, negative: bool = True) -> np.ndarray:
        arr = self.neg_ts if negative else self.other_ts
        return np.searchsorted(arr, ends, side="right") - np.searchsorted(arr, starts, side="right")


@dataclass
class History:
    """Analysed posts in [since, until], indexed by scope. Rows are sorted by time."""

    start: float | None  # the first analysed post ever: where history begins
    ts: np.ndarray
    ids: np.ndarray
    sources: list[str]
    negative: np.ndarray
    topics: list[list[str]]
    events: np.ndarray  # -1 when none
    locality: Series = field(init=False)
    by_topic: dict[str, Series] = field(init=False)
    by_event: dict[int, Series] = field(init=False)

    def __post_init__(self) -> None:
        self.locality = self._series(np.arange(len(self.ts)))
        topic_rows: dict[str, list[int]] = defaultdict(list)
        for i, names in enumerate(self.topics):
            for name in names:
                topic_rows[name].append(i)
        self.by_topic = {name: self._series(np.array(rows, dtype=np.int64)) for name, rows in topic_rows.items()}
        event_rows: dict[int, list[int]] = defaultdict(list)
        for i, ev in enumerate(self.events.tolist()):
            if ev >= 0:
                event_rows[ev].append(i)
        self.by_event = {ev: self._series(np.array(rows, dtype=np.int64)) for ev, rows in event_rows.items()}

    def _series(self, rows: np.ndarray) -> Series:
        neg = rows[self.negative[rows]] if len(rows) else rows
        other = rows[~self.negative[rows]] if len(rows) else rows
        return Series(neg_ts=self.ts[neg], neg_rows=neg, other_ts=self.ts[other])

    def series(self, kind: str, key: str) -> Series:
        empty = Series(np.empty(0), np.empty(0, dtype=np.int64), np.empty(0))
        if kind == "locality":
            return self.locality
        if kind == "topic":
            return self.by_topic.get(key, empty)
        if kind == "event":
            return self.by_event.get(int(key), empty)
        raise ValueError(f"unknown scope kind {kind!r}")

    def active(self, start: float, end: float) -> tuple[set[str], set[int]]:
        """Topics and events with a negative post in (start, end]."""
        lo, hi = np.searchsorted(self.locality.neg_ts, [start, end], side="right")
        rows = self.locality.neg_rows[lo:hi]
        topics = {name for r in rows.tolist() for name in self.topics[r]}
        events = {int(self.events[r]) for r in rows.tolist() if self.events[r] >= 0}
        return topics, events


def load_history(store: Store, since: datetime, until: datetime) -> History:
    """Analysed posts with since < ts <= until (one query; a month of a busy county is ~100k rows)."""
    start = store.scalar("SELECT min(ts) FROM posts WHERE analyzed_at IS NOT NULL")
    rows = store.conn.execute(
        "SELECT id, ts, source, label, topics, event_id FROM posts"
        " WHERE analyzed_at IS NOT NULL AND ts > ? AND ts <= ? ORDER BY ts, id",
        (to_iso(since), to_iso(until)),
    ).fetchall()
    ts = np.array([from_iso(r[1]).timestamp() for r in rows], dtype=np.float64)  # type: ignore[union-attr]
    topics: list[list[str]] = []
    for r in rows:
        try:
            value = json.loads(r[4] or "[]")
        except ValueError:
            value = []
        topics.append([str(v) for v in value] if isinstance(value, list) else [])
    return History(
        start=from_iso(start).timestamp() if start else None,  # type: ignore[union-attr]
        ts=ts,
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        sources=[r[2] for r in rows],
        negative=np.array([r[3] == "negative" for r in rows], dtype=bool),
        topics=topics,
        events=np.array([r[5] if r[5] is not None else -1 for r in rows], dtype=np.int64),
    )


@dataclass
class Baseline:
    value: float | None  # expected count in the window; None: no history at all
    method: str  # weekly | daily | trailing | none
    periods: int  # how many past weeks/days it rests on


def _trimmed_mean(values: list[float]) -> float:
    if len(values) >= 3:
        values = sorted(values)[:-1]
    return sum(values) / len(values)


def _shifted(series: Series, t: float, window: float, shift: float, negative: bool) -> float:
    ends = np.array([t - shift + d for d, _ in SMOOTH])
    counts = series.count(ends - window, ends, negative)
    return float(sum(c * w for c, (_, w) in zip(counts.tolist(), SMOOTH, strict=True)))


def seasonal(series: Series, t: float, window: float, weeks: int, history_start: float | None,
             negative: bool = True) -> Baseline:
    """The time-of-week baseline described in the module docstring."""
    if history_start is None:
        return Baseline(None, "none", 0)

    def covered(shift: float) -> bool:
        return t - shift - window - HOUR >= history_start

    weekly = [_shifted(series, t, window, k * WEEK, negative) for k in range(1, weeks + 1) if covered(k * WEEK)]
    daily = [_shifted(series, t, window, d * DAY, negative) for d in range(1, 8) if covered(d * DAY)]
    if weekly:
        kept = sorted(weekly)[:-1] if len(weekly) >= 3 else weekly
        prior = [_trimmed_mean(daily)] if daily else []
        return Baseline(sum(kept + prior) / (len(kept) + len(prior)), "weekly", len(weekly))
    if daily:
        return Baseline(_trimmed_mean(daily), "daily", len(daily))
    span = t - window - history_start
    if span >= window:
        past = float(series.count(history_start - 1, t - window, negative))
        return Baseline(past * window / span, "trailing", 0)
    return Baseline(None, "none", 0)


def trailing(series: Series, t: float, window: float, span: float = TRAILING_DAY) -> Baseline:
    """An event's own rate over the day before the window (events have no weekly rhythm)."""
    past = float(series.count(t - window - span, t - window))
    return Baseline(past * window / span, "trailing", 0)


def iso_range(t: datetime, weeks: int, longest: float) -> tuple[datetime, datetime]:
    """The span of posts detection at `t` needs: the baseline weeks plus a window and the smoothing."""
    back = weeks * WEEK + longest + 2 * HOUR + TRAILING_DAY
    return t - timedelta(seconds=back), t
