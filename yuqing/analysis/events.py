"""Events: posts about the same incident, grouped across sources within a time window.

Residents describe one water outage in different words, so grouping cannot rest on near-duplicates
alone. A post becomes a unit vector of its best TF-IDF words (the analyzer's weights, the locality's
names already left out: every post carries them) plus the kind of incident they name: 停水, 断水
and 没水 all add the feature "#停水" at twice the post's best word, 供水 or 来水 at their own
weight (`INCIDENT_KINDS`). Apart from the vector, a post has its sub-places (溪口镇, 青龙场村: the locality's aliases
below the county, found in the text since the analyzer drops them, and words shaped like one).
An event keeps the capped sum of its members' vectors (its centroid) and how often each sub-place
was named. A post joins, in this order:

1. an open event whose first post is a near-duplicate (SimHash within `NEAR_DUPLICATE` bits), unless
   they name different sub-places (the same complaint about another town);
2. else the open event most similar to it, if at least `similarity`: the cosine to the centroid,
   plus up to `PLACE_BONUS` when the post names the event's sub-place. Never an event whose
   sub-places the post does not name while naming others (停水 in another town is another
   incident), nor on thin evidence: two shared words are needed, or the same kind of incident
   with one shared word or the same place (one shared word -- 医院 -- is a topic, not an incident);
3. else it starts an event.

An event is open to posts within the window of its first and last post. Candidates come from an
inverted index (word, kind or place -> events, most recently touched first; `MAX_POSTINGS` read
per word, at most `MAX_CANDIDATES` scored), so a post costs a bounded number of dict lookups
however many events are open.

The index is rebuilt from the store at each run (`load`): events seen within the window, their
centroids from their members' stored keywords weighted by IDF (what a post's TF-IDF weight mostly
is) and sub-places from their text. That makes `yuqing analyze` incremental and resumable without
storing vectors.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import numpy as np

from yuqing.analysis.keywords import idf_table
from yuqing.models import from_iso, to_iso, utcnow
from yuqing.store import inserted_id

logger = logging.getLogger(__name__)

NEAR_DUPLICATE = 3  # bits
POST_KEYWORDS = 12  # a post's words in its vector
CENTROID_WORDS = 40  # an event keeps its best words; pruned back to this when twice as many
STORED_KEYWORDS = 12
MAX_POSTINGS = 200  # events read per word when looking for candidates (most recent first)
MAX_CANDIDATES = 60  # events scored per post, those sharing the most words first
KIND_WEIGHT = 2.0  # a post's incident kind weighs this much times its best word
PLACE_BONUS = 0.2  # added to the cosine when the post names the event's sub-place
TITLE_MARGIN = 0.05  # a member takes over the title when this much closer to the centroid

# What happened, by kind: residents name one outage 停水, 断水 or 没水, so the words of a kind share
# one feature ("#停水") besides their own. Words before the bar name the incident and make the kind
# weigh `KIND_WEIGHT` times the post's best word; words after it only go with it (供水 is in a
# notice about pipe works too) and lend the kind their own weight.
_KINDS = """
停水: 停水 断水 没水 停水通知 | 来水 供水 恢复供水 自来水 水管 爆管 水压 水质 水质浑浊 黄水 送水车 桶装水
停电: 停电 断电 | 来电 供电 跳闸 电压
停气: 停气 断气 停暖 | 燃气 天然气 漏气 供暖 暖气
塌方: 塌方 滑坡 山体滑坡 泥石流 坍塌 垮塌 地陷 塌陷 | 倒塌 落石
火灾: 火灾 起火 失火 着火 山火 森林火灾 爆炸 燃爆 | 浓烟 烧毁 消防
水灾: 洪水 洪涝 内涝 被淹 山洪 | 淹没 暴雨 受灾 灾情
地震: 地震 余震 | 震级 震感
事故: 车祸 交通事故 追尾 翻车 侧翻 相撞 撞人 | 肇事
污染: 偷排 排污 死鱼 恶臭 黑臭 | 污染 臭气 刺鼻 污水 废水 废气 粉尘 扬尘
中毒: 中毒 食物中毒 | 腹泻 呕吐 拉肚子
欠薪: 欠薪 讨薪 | 拖欠 欠款 工钱 农民工
拆迁: 强拆 | 拆迁 征地 补偿款
治安: 打架 斗殴 持刀 砍人 抢劫 行凶 | 嫌疑人
伤亡: 溺水 坠楼 跳楼 踩踏 遇难 | 落水 伤亡 失踪 死亡
"""


def _kinds(table: str) -> dict[str, tuple[str, bool]]:
    kinds: dict[str, tuple[str, bool]] = {}
    for line in table.strip().splitlines():
        kind, _, words = line.partition(":")
        core, _, related = words.partition("|")
        kinds.update({w: ("#" + kind.strip(), True) for w in core.split()})
        kinds.update({w: ("#" + kind.strip(), False) for w in related.split()})
    return kinds


INCIDENT_KINDS = _kinds(_KINDS)  # word -> (kind feature, whether the word names the incident)
INCIDENT_WORDS = frozenset(INCIDENT_KINDS)

# Words that name the county itself or "here": every post could carry them.
GENERIC_PLACES = frozenset(
    "县城 城区 全县 我县 本县 县里 当地 本地 市里 镇上 乡里 村里 乡镇 农村 乡村 小区 社区 新农村 美丽乡村 城乡".split()
)

# A word ending in one of these, with a name of two characters or more before it, names a place
# below the county (溪口镇, 青龙场村, 幸福小区).
PLACE_SUFFIXES = ("镇", "乡", "村", "社区", "小区", "街道", "片区", "花园", "家园")
_PLACE = re.compile(r"^[\u4e00-\u9fff]{2,}(?:" + "|".join(PLACE_SUFFIXES) + ")$")

_BITS = np.arange(64, dtype=np.uint64)
_MASK = (1 << 64) - 1


@functools.lru_cache(maxsize=1 << 16)  # posts repeat their words: most hashes are looked up, not computed
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


def sub_places(name: str, aliases: Iterable[str]) -> tuple[str, ...]:
    """The aliases that name a place below the locality (溪口镇 under 青溪县), not the locality itself.

    Those tell one incident from another; the locality's own names are in every post and do not.
    """
    name = name.strip()
    out = []
    for alias in aliases:
        alias = alias.strip()
        if (len(alias) >= 3 and alias.endswith(PLACE_SUFFIXES) and alias != name
                and alias not in name and name not in alias and alias not in out):
            out.append(alias)
    return tuple(out)


def vector(weights: dict[str, float]) -> dict[str, float]:
    """A post's unit vector: its best words, and the kind of incident they name (places apart)."""
    best = sorted(((w, v) for w, v in weights.items()
                   if v > 0 and w not in GENERIC_PLACES and not _PLACE.match(w)),
                  key=lambda kv: (-kv[1], kv[0]))[:POST_KEYWORDS]
    vec = dict(best)
    if best:
        top = best[0][1]
        for w, v in best:
            found = INCIDENT_KINDS.get(w)
            if found is not None:
                kind, names = found
                vec[kind] = max(vec.get(kind, 0.0), top * KIND_WEIGHT if names else v)
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {w: v / norm for w, v in vec.items()} if norm else {}


def places_of(words: Iterable[str], known: Iterable[str], title: str, text: str) -> frozenset[str]:
    """The sub-places a post names: known ones found in its text, and its words shaped like one."""
    found = {p for p in known if p in title or p in text}
    found.update(w for w in words if w not in GENERIC_PLACES and _PLACE.match(w))
    return frozenset(found)


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
    words: dict[str, float] = field(default_factory=dict)  # the centroid: sum of member unit vectors
    norm: float = 0.0
    places: dict[str, int] = field(default_factory=dict)  # sub-place -> how many members name it
    title_vec: dict[str, float] = field(default_factory=dict, repr=False)  # the title's post's vector
    id: int | None = None
    dirty: bool = True

    def top(self, n: int = STORED_KEYWORDS) -> list[str]:
        """Its main place (named by half its members or more), then its heaviest words."""
        main = [p for p, c in sorted(self.places.items(), key=lambda kv: (-kv[1], kv[0]))[:1] if 2 * c >= self.size]
        ranked = sorted(((w, v) for w, v in self.words.items() if w[0] != "#"), key=lambda kv: (-kv[1], kv[0]))
        return main + [w for w, _ in ranked[: n - len(main)]]

    def add(self, vec: dict[str, float], places: frozenset[str]) -> None:
        words = self.words
        for w, v in vec.items():
            words[w] = words.get(w, 0.0) + v
        if len(words) > 2 * CENTROID_WORDS:  # capped: a long-running event keeps its core words
            self.words = words = dict(sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:CENTROID_WORDS])
        self.norm = math.sqrt(sum(v * v for v in words.values()))
        for p in places:
            self.places[p] = self.places.get(p, 0) + 1

    def cosine(self, vec: dict[str, float]) -> float:
        words = self.words
        dot = sum(v * words.get(w, 0.0) for w, v in vec.items())
        return dot / self.norm if self.norm else 0.0

    def similarity(self, vec: dict[str, float], places: frozenset[str]) -> float:
        """Cosine to the centroid, raised when the post names the event's sub-place.

        0 when both name sub-places and none is shared, or when the evidence is thin: fewer than
        two shared words, unless the same kind of incident (停水) is named in the same place or
        with one shared word."""
        words = self.words
        dot = 0.0
        shared = 0
        incident = False
        for w, v in vec.items():
            c = words.get(w)
            if c is not None:
                dot += v * c
                if w[0] == "#":  # the kind is evidence, but not a word the post shares
                    incident = True
                else:
                    shared += 1
        if not dot or not self.norm:
            return 0.0
        sim = dot / self.norm
        same_place = 0.0
        if places and self.places:
            size = max(self.size, 1)
            same_place = max(min(1.0, 2 * self.places.get(p, 0) / size) for p in places)
            if not same_place:
                return 0.0  # 停水 in 青石镇 is not the outage in 溪口镇, however alike the words
            sim += PLACE_BONUS * same_place
        if shared < 2 and not (incident and (same_place or shared)):
            return 0.0
        return sim


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
    """Recent events in memory; `assign` places a post, `flush` writes what changed.

    `places` are the locality's sub-place names (see `sub_places`), looked for in each post's text.
    """

    def __init__(self, window: float, similarity: float, places: Iterable[str] = ()) -> None:
        self.window = timedelta(seconds=window)
        self.similarity = similarity
        self.places = tuple(places)
        self.events: dict[int, EventState] = {}
        self.by_word: dict[str, dict[int, None]] = {}  # word -> events, least recently touched first
        self.by_band: dict[tuple[int, int], set[int]] = {}
        self._serial = 0

    def _new(self, **fields: Any) -> EventState:
        self._serial += 1
        state = EventState(key=self._serial, **fields)
        self.events[state.key] = state
        if state.simhash:
            for band in _bands(state.simhash):
                self.by_band.setdefault(band, set()).add(state.key)
        return state

    def _touch(self, key: int, words: Iterable[str]) -> None:
        by_word = self.by_word
        for w in words:
            keys = by_word.get(w)
            if keys is None:
                by_word[w] = {key: None}
            else:
                keys.pop(key, None)  # to the end: read reversed, the most recently touched come first
                keys[key] = None

    def load(self, conn: sqlite3.Connection, since: datetime) -> int:
        """Events last seen at or after `since`, centroids rebuilt from their posts; returns how many."""
        rows = conn.execute(
            "SELECT id, title, size, negative, first_seen, last_seen, sources, keywords, simhash "
            "FROM events WHERE last_seen >= ? ORDER BY last_seen, id", (to_iso(since),),
        ).fetchall()
        by_id: dict[int, EventState] = {}
        stored: dict[int, list[str]] = {}
        for row in rows:
            by_id[row[0]] = self._new(
                id=row[0], title=row[1], size=row[2], negative=row[3],
                first_seen=from_iso(row[4]) or utcnow(), last_seen=from_iso(row[5]) or utcnow(),
                sources=json.loads(row[6] or "[]"), simhash=int(row[8] or 0), dirty=False,
            )
            stored[row[0]] = json.loads(row[7] or "[]")
        idf, median = idf_table()
        ids = list(by_id)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            members = conn.execute(
                f"SELECT event_id, keywords, title, text FROM posts WHERE event_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY id", chunk,
            )
            for event_id, keywords, title, text in members:
                # a post's stored keywords weighted by IDF stand in for its TF-IDF weights
                words = json.loads(keywords or "[]")
                vec = vector({w: idf.get(w, median) for w in words})
                state = by_id[event_id]
                state.add(vec, places_of(words, self.places, title or "", text or ""))
                if not state.title_vec and title_of(title or "", text or "") == state.title:
                    state.title_vec = vec
        for event_id, state in by_id.items():
            if not state.words:  # no member stored (removed?): the event's own keywords stand in
                words = stored[event_id]
                state.add(vector({w: idf.get(w, median) for w in words}), places_of(words, (), "", ""))
            self._touch(state.key, state.words)
        return len(rows)

    def _near(self, h: int) -> set[int]:
        found: set[int] = set()
        if h:
            for band in _bands(h):
                found |= self.by_band.get(band, set())
        return found

    def _open(self, ev: EventState, when: datetime) -> bool:
        return ev.first_seen - self.window <= when <= ev.last_seen + self.window

    def match(self, vec: dict[str, float], places: frozenset[str], h: int,
              when: datetime) -> tuple[EventState | None, float]:
        """The best open event for a post (or None) and its similarity."""
        best: EventState | None = None
        for key in self._near(h):
            ev = self.events.get(key)
            if (ev is not None and self._open(ev, when) and hamming(h, ev.simhash) <= NEAR_DUPLICATE
                    and not (places and ev.places and places.isdisjoint(ev.places))):  # same text, other town
                if best is None or ev.last_seen > best.last_seen:
                    best = ev
        if best is not None:
            return best, 1.0
        # candidates: events sharing words with the post, the most recently touched per word first
        counts: dict[int, int] = {}
        for w in (*vec, *places):
            keys = self.by_word.get(w)
            if keys:
                for key in islice(reversed(keys), MAX_POSTINGS):
                    counts[key] = counts.get(key, 0) + 1
        candidates = [k for k, c in counts.items() if c >= 2]
        if len(candidates) > MAX_CANDIDATES:
            candidates = sorted(candidates, key=lambda k: (-counts[k], -k))[:MAX_CANDIDATES]
        best_sim = 0.0
        for key in candidates:
            ev = self.events.get(key)
            if ev is None or not self._open(ev, when):
                continue
            sim = ev.similarity(vec, places)
            if sim > best_sim or (sim == best_sim and best is not None and ev.last_seen > best.last_seen):
                best, best_sim = ev, sim
        if best is not None and best_sim >= self.similarity:
            return best, best_sim
        return None, best_sim

    def assign(self, *, weights: dict[str, float], h: int, when: datetime, source: str, title: str,
               text: str = "", negative: bool = False) -> EventState:
        """Put a post into its event (an existing one or a new one) and update the event."""
        vec = vector(weights)
        places = places_of(weights, self.places, title, text)
        ev, _ = self.match(vec, places, h, when)
        own_title = title_of(title, text)
        if ev is None:
            ev = self._new(title=own_title, first_seen=when, last_seen=when, simhash=h, title_vec=vec)
            ev.add(vec, places)
        else:
            ev.add(vec, places)
            # the title is the titled member closest to what the event has become, both measured
            # against the current centroid; the margin keeps it from flapping between close posts
            if title.strip() and ev.cosine(vec) > ev.cosine(ev.title_vec) + TITLE_MARGIN:
                ev.title, ev.title_vec = own_title, vec
        self._touch(ev.key, (*vec, *places))
        ev.size += 1
        ev.negative += int(negative)
        ev.first_seen = min(ev.first_seen, when)
        ev.last_seen = max(ev.last_seen, when)
        if source and source not in ev.sources:
            ev.sources.append(source)
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
                ev.id = inserted_id(cur)
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
            for word in list(self.by_word):
                keys = self.by_word[word]
                for key in gone.intersection(keys):
                    del keys[key]
                if not keys:
                    del self.by_word[word]
            for band_keys in self.by_band.values():
                band_keys -= gone
