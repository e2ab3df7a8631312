"""Events: posts about the same incident, grouped across sources within a time window.

A post joins an event when it is a near-duplicate (SimHash of its TF-IDF-weighted words within
`NEAR_DUPLICATE` bits of the event's first post) or when enough of its keywords are among the
event's top keywords: at least two shared, carrying `similarity` of the post's keyword weight.
Locality names are left out of both (every post mentions them). Otherwise it starts an event.

The index holds the events seen within the window in memory, with an inverted index from
keyword to event and SimHash bands for near-duplicates, so assigning a post costs a few dict
lookups. It is rebuilt from the store at each run, which makes `yuqing analyze` incremental.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from yuqing.models import from_iso, to_iso, utcnow

logger = logging.getLogger(__name__)

NEAR_DUPLICATE = 3  # bits
POST_KEYWORDS = 10  # a post's words compared with an event
EVENT_KEYWORDS = 15  # an event's top words it is compared on
STORED_KEYWORDS = 12
COMMON_WORD = 2000  # a word in more recent events than this is too common to find candidates by
_BITS = np.arange(64, dtype=np.uint64)
_MASK = (1 << 64) - 1


def _hash64(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def simhash(weights: dict[str, float]) -> int:
    """64-bit SimHash of weighted words, as a signed integer (what SQLite's INTEGER holds)."""
    if not weights:
        return 0
    hashes = np.fromiter((_hash64(w) for w in weights), dtype=np.uint64, count=len(weights))
    w = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
    bits = ((hashes[:, None] >> _BITS) & np.uint64(1)).astype(bool)
    votes = np.where(bits, w[:, None], -w[:, None]).sum(axis=0)
    value = int(((votes > 0).astype(np.uint64) << _BITS).sum(dtype=np.uint64))
    return value - (1 << 64) if value >= (1 << 63) else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK).bit_count()


def _bands(h: int) -> list[tuple[int, int]]:
    # 4 bands of 16 bits: two hashes within 3 bits differ in at most 3 bands, so share one
    u = h & _MASK
    return [(i, (u >> (16 * i)) & 0xFFFF) for i in range(4)]


@dataclass
class EventState:
    key: int
    title: str
    first_seen: datetime
    last_seen: datetime
    simhash: int
    size: int = 0
    negative: int = 0
    sources: list[str] = field(default_factory=list)
    words: dict[str, float] = field(default_factory=dict)
    id: int | None = None
    dirty: bool = True
    _top: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def top(self, n: int = EVENT_KEYWORDS) -> list[str]:
        return [w for w, _ in sorted(self.words.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    def top_set(self) -> frozenset[str]:
        """The words a post is compared on, cached until the event changes."""
        if self._top is None:
            self._top = frozenset(self.top())
        return self._top


def title_of(title: str, text: str, limit: int = 60) -> str:
    """A representative title: the post's own, else its first sentence."""
    title = " ".join(title.split())
    if not title:
        text = " ".join(text.split())
        for stop in "。！？!?\n":
            if stop in text:
                text = text.split(stop, 1)[0]
        title = text
    return title[:limit] + ("…" if len(title) > limit else "")


class EventIndex:
    """Recent events in memory; `assign` places a post, `flush` writes what changed."""

    def __init__(self, window: float, similarity: float) -> None:
        self.window = timedelta(seconds=window)
        self.similarity = similarity
        self.events: dict[int, EventState] = {}
        self.by_word: dict[str, set[int]] = {}
        self.by_band: dict[tuple[int, int], set[int]] = {}
        self._serial = 0

    def _add(self, state: EventState, words: list[str]) -> None:
        self.events[state.key] = state
        for w in words:
            self.by_word.setdefault(w, set()).add(state.key)
        if state.simhash:
            for band in _bands(state.simhash):
                self.by_band.setdefault(band, set()).add(state.key)

    def load(self, conn: sqlite3.Connection, since: datetime) -> int:
        """Events last seen at or after `since`; returns how many."""
        rows = conn.execute(
            "SELECT id, title, size, negative, first_seen, last_seen, sources, keywords, simhash "
            "FROM events WHERE last_seen >= ?", (to_iso(since),),
        ).fetchall()
        for row in rows:
            words = json.loads(row[7] or "[]")
            self._serial += 1
            state = EventState(
                key=self._serial, id=row[0], title=row[1], size=row[2], negative=row[3],
                first_seen=from_iso(row[4]) or utcnow(), last_seen=from_iso(row[5]) or utcnow(),
                sources=json.loads(row[6] or "[]"), simhash=int(row[8] or 0),
                words={w: float(len(words) - i) for i, w in enumerate(words)}, dirty=False,
            )
            self._add(state, words)
        return len(rows)

    def _near(self, h: int) -> set[int]:
        found: set[int] = set()
        if h:
            for band in _bands(h):
                found |= self.by_band.get(band, set())
        return found

    def match(self, weights: dict[str, float], h: int, when: datetime) -> tuple[EventState | None, float]:
        """The best event for a post (or None) and its similarity."""
        post = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:POST_KEYWORDS]
        total = sum(v for _, v in post) or 1.0
        near = self._near(h)
        # a candidate needs two shared words (or a near-duplicate SimHash): count before scoring
        shared_count: dict[int, int] = {}
        for w, _ in post:
            keys = self.by_word.get(w)
            if keys and len(keys) <= COMMON_WORD:
                for key in keys:
                    shared_count[key] = shared_count.get(key, 0) + 1
        candidates = near | {k for k, c in shared_count.items() if c >= 2}
        best, best_sim = None, 0.0
        for key in candidates:
            ev = self.events[key]
            if when < ev.first_seen - self.window or when > ev.last_seen + self.window:
                continue
            if key in near and hamming(h, ev.simhash) <= NEAR_DUPLICATE:
                sim = 1.0
            else:
                top = ev.top_set()
                shared = [v for w, v in post if w in top]
                sim = sum(shared) / total if len(shared) >= 2 else 0.0
            if sim > best_sim or (sim == best_sim and best is not None and ev.last_seen > best.last_seen):
                best, best_sim = ev, sim
        if best is not None and best_sim >= self.similarity:
            return best, best_sim
        return None, best_sim

    def assign(self, *, weights: dict[str, float], h: int, when: datetime, source: str, title: str,
               text: str = "", negative: bool = False) -> EventState:
        """Put a post into its event (an existing one or a new one) and update the event."""
        ev, _ = self.match(weights, h, when)
        post_top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:POST_KEYWORDS]
        if ev is None:
            self._serial += 1
            ev = EventState(key=self._serial, title=title_of(title, text), first_seen=when, last_seen=when, simhash=h)
            self._add(ev, [w for w, _ in post_top])
        else:
            for w, _ in post_top:
                self.by_word.setdefault(w, set()).add(ev.key)
        ev.size += 1
        ev.negative += int(negative)
        ev.first_seen = min(ev.first_seen, when)
        ev.last_seen = max(ev.last_seen, when)
        if source and source not in ev.sources:
            ev.sources.append(source)
        for w, v in post_top:
            ev.words[w] = ev.words.get(w, 0.0) + v
        ev._top = None
        ev.dirty = True
        return ev

    def flush(self, conn: sqlite3.Connection) -> int:
        """Write new and changed events (inside the caller's transaction); returns how many."""
        now = to_iso(utcnow())
        written = 0
        for ev in self.events.values():
            if not ev.dirty:
                continue
            values = (ev.title, ev.size, ev.negative, to_iso(ev.first_seen), to_iso(ev.last_seen),
                      json.dumps(ev.sources, ensure_ascii=False),
                      json.dumps(ev.top(STORED_KEYWORDS), ensure_ascii=False), ev.simhash, now)
            if ev.id is None:
                cur = conn.execute(
                    "INSERT INTO events (title, size, negative, first_seen, last_seen, sources, keywords, simhash, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values,
                )
                ev.id = int(cur.lastrowid)
            else:
                conn.execute(
                    "UPDATE events SET title=?, size=?, negative=?, first_seen=?, last_seen=?, sources=?, keywords=?, "
                    "simhash=?, updated_at=? WHERE id=?", (*values, ev.id),
                )
            ev.dirty = False
            written += 1
        return written

    def forget_before(self, when: datetime) -> None:
        """Drop events that no post at or after `when` can join (keeps memory bounded)."""
        old = [k for k, ev in self.events.items() if ev.last_seen + self.window < when and not ev.dirty]
        for key in old:
            del self.events[key]
        if old:
            gone = set(old)
            for keys in self.by_word.values():
                keys -= gone
            for keys in self.by_band.values():
                keys -= gone
