"""Warning levels 蓝/黄/橙/红 (IV–I) from the size and speed of a spike, its negative share, and who posted.

A window that fires gets a score, the sum of three parts:

* size  = log2(1 + excess / min_count), where excess = the *weighted* negative count minus the
  baseline (each post weighs its source's weight, so a 留言板 complaint or a national outlet
  counts more): 1 when the excess equals min_count, 2 at three times, 3 at seven times;
* speed = 1 when it fires in the shortest window (many posts within the hour), else 0;
* share = how far the negative share is above min_share, 0 at min_share .. 1 at 100 %.

The level is blue below level_scores[0], yellow from it, orange from [1], red from [2]
(defaults 3 / 4 / 5: over a quiet baseline of about one an hour, with two thirds of the posts
negative, some seven negatives within the hour are blue, fifteen yellow, thirty orange, seventy
red; a slow build-up over the long window lacks the speed point and ranks one level lower).
A scope's level is the highest over its firing windows.
Weights only shape the level: whether to alert at all is decided on plain counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from yuqing.models import LEVELS
from yuqing.settings import Settings


class SourceWeights:
    """weight(source name) = sources[].weight x alerts.source_weights[name, else its type, else 1]."""

    def __init__(self, settings: Settings) -> None:
        self._configured = {s.name: s for s in settings.sources}
        self._table = settings.alerts.source_weights
        self._cache: dict[str, float] = {}

    def __call__(self, source: str) -> float:
        if source not in self._cache:
            cfg = self._configured.get(source)
            base = cfg.weight if cfg else 1.0
            if source in self._table:
                extra = self._table[source]
            elif cfg and cfg.type in self._table:
                extra = self._table[cfg.type]
            else:
                extra = 1.0
            self._cache[source] = base * extra
        return self._cache[source]

    def total(self, sources: Iterable[str]) -> float:
        return sum(self(s) for s in sources)


@dataclass
class Score:
    size: float
    speed: float
    share: float

    @property
    def total(self) -> float:
        return self.size + self.speed + self.share

    def as_dict(self) -> dict[str, float]:
        return {"size": round(self.size, 2), "speed": self.speed, "share": round(self.share, 2),
                "total": round(self.total, 2)}


def score(weighted: float, baseline: float, share: float, shortest: bool, settings: Settings) -> Score:
    cfg = settings.alerts
    excess = max(0.0, weighted - baseline)
    size = math.log2(1 + excess / cfg.min_count)
    span = 1.0 - cfg.min_share
    share_part = min(1.0, max(0.0, (share - cfg.min_share) / span)) if span > 0 else 0.0
    return Score(size=size, speed=1.0 if shortest else 0.0, share=share_part)


def level_of(total: float, settings: Settings) -> str:
    index = sum(1 for threshold in settings.alerts.level_scores if total >= threshold)
    return LEVELS[index]


def rank(level: str) -> int:
    return LEVELS.index(level)
