"""Spike detection: each scope's negative count in each window against its baseline, then the lifecycle.

For each window w (alerts.windows) and scope s at time t, with n negative posts and N posts in
(t - w, t]:

    baseline  b = max(min_baseline, usual count) x exposure
    exposure  = max(1, (other_now + 3) / (other_usual + 3)), other = the locality's non-negative
                posts: when the crawl simply fetched more (a new source, a catch-up run) the usual
                count is scaled up with it, so volume alone does not alarm
    fires when  P(Poisson(b) >= n) < p_value  and  n >= min_count  and  n / N >= min_share

"usual count" is the time-of-week baseline of yuqing.alerts.baseline for the locality and topics,
and an event's own rate over the day before the window for events (an event has no weekly rhythm;
a new one has none, so min_baseline applies). The level comes from yuqing.alerts.levels.
An open alert resolves when nothing fires and the shortest window is back to
n <= resolve_ratio x b.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from yuqing.alerts import baseline as bl
from yuqing.alerts.levels import Score, SourceWeights, level_of, rank, score
from yuqing.models import LEVEL_NAMES, Alert, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

EXPOSURE_PSEUDO = 3.0  # steadies the exposure ratio when the locality posts little


def human_window(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass
class WindowCheck:
    window: float
    negative: int
    total: int
    usual: float | None
    method: str
    periods: int
    exposure: float
    baseline: float
    p: float
    weighted: float
    fired: bool
    quiet: bool
    score: Score | None = None
    level: str | None = None

    @property
    def share(self) -> float:
        return self.negative / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": human_window(self.window), "negative": self.negative, "total": self.total,
            "share": round(self.share, 3), "usual": None if self.usual is None else round(self.usual, 2),
            "baseline_method": self.method, "baseline_periods": self.periods, "exposure": round(self.exposure, 2),
            "baseline": round(self.baseline, 2), "p_value": float(f"{self.p:.3g}"),
            "weighted": round(self.weighted, 2), "fired": self.fired,
            "score": self.score.as_dict() if self.score else None, "level": self.level,
        }


@dataclass
class Finding:
    """What detection saw for one scope at one time: fired (with a level) or quiet enough to resolve."""

    kind: str
    key: str
    title: str
    fired: bool
    level: str | None
    quiet: bool
    checks: list[WindowCheck] = field(default_factory=list)
    rows: np.ndarray | None = None  # negative rows of the best window (for the explanation)
    best: WindowCheck | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


class Detector:
    """Evaluates scopes over a loaded History; shared by `detect` (one time) and the backtest (many)."""

    def __init__(self, settings: Settings, history: bl.History, event_titles: dict[int, str] | None = None) -> None:
        self.settings = settings
        self.history = history
        self.weights = SourceWeights(settings)
        self.row_weight = np.array([self.weights(s) for s in history.sources], dtype=np.float64)
        self.windows = sorted(settings.alerts.windows)
        self.event_titles = event_titles or {}
        self._exposure: dict[tuple[float, float], float] = {}

    def exposure(self, t: float, window: float) -> float:
        key = (t, window)
        if key not in self._exposure:
            loc = self.history.locality
            usual = bl.seasonal(loc, t, window, self.settings.alerts.baseline_weeks, self.history.start, negative=False)
            now = float(loc.count(t - window, t, negative=False))
            ratio = 1.0 if usual.value is None else (now + EXPOSURE_PSEUDO) / (usual.value + EXPOSURE_PSEUDO)
            self._exposure[key] = max(1.0, ratio)
        return self._exposure[key]

    def title(self, kind: str, key: str) -> str:
        if kind == "locality":
            return self.settings.locality.name
        if kind == "topic":
            return f"话题「{key}」"
        return f"事件「{self.event_titles.get(int(key), '#' + key)}」"

    def check(self, series: bl.Series, kind: str, t: float, window: float) -> tuple[WindowCheck, np.ndarray]:
        cfg = self.settings.alerts
        lo, hi = np.searchsorted(series.neg_ts, [t - window, t], side="right")
        negative = int(hi - lo)
        other = int(series.count(t - window, t, negative=False))
        if kind == "event":
            usual = bl.trailing(series, t, window)
        else:
            usual = bl.seasonal(series, t, window, cfg.baseline_weeks, self.history.start)
        exposure = self.exposure(t, window)
        base = max(cfg.min_baseline, usual.value or 0.0) * exposure
        p = bl.poisson_tail(negative, base)
        rows = series.neg_rows[lo:hi]
        weighted = float(self.row_weight[rows].sum()) if len(rows) else 0.0
        total = negative + other
        share = negative / total if total else 0.0
        fired = p < cfg.p_value and negative >= cfg.min_count and share >= cfg.min_share
        result = WindowCheck(window=window, negative=negative, total=total, usual=usual.value, method=usual.method,
                             periods=usual.periods, exposure=exposure, baseline=base, p=p, weighted=weighted,
                             fired=fired, quiet=negative <= cfg.resolve_ratio * base)
        if fired:
            result.score = score(weighted, base, share, window == self.windows[0], self.settings)
            result.level = level_of(result.score.total, self.settings)
        return result, rows

    def evaluate(self, kind: str, key: str, t: float) -> Finding:
        series = self.history.series(kind, key)
        checks, best, best_rows = [], None, None
        for window in self.windows:
            result, rows = self.check(series, kind, t, window)
            checks.append(result)
            if result.fired and (best is None or (rank(result.level or "blue"), result.score.total)  # type: ignore[union-attr]
                                 > (rank(best.level or "blue"), best.score.total)):  # type: ignore[union-attr]
                best, best_rows = result, rows
        fired = best is not None
        return Finding(kind=kind, key=key, title=self.title(kind, key), fired=fired,
                       level=best.level if best else None, quiet=not fired and checks[0].quiet,
                       checks=checks, rows=best_rows, best=best)

    def scopes(self, t: float, open_scopes: set[tuple[str, str]]) -> list[tuple[str, str]]:
        topics, events = self.history.active(t - self.windows[-1], t)
        wanted = {("locality", self.settings.locality.name)}
        wanted |= {("topic", name) for name in topics}
        wanted |= {("event", str(ev)) for ev in events}
        wanted |= {s for s in open_scopes if s[0] in ("locality", "topic", "event")}
        return sorted(wanted)

    def run(self, t: float, open_scopes: set[tuple[str, str]]) -> list[Finding]:
        return [self.evaluate(kind, key, t) for kind, key in self.scopes(t, open_scopes)]


# -- explanation --------------------------------------------------------------------------------
def explain(settings: Settings, store: Store, detector: Detector, finding: Finding) -> dict[str, Any]:
    """Counts vs baseline, the top posts with links, top terms, sources, topics and the event."""
    best = finding.best
    data: dict[str, Any] = {
        "scope": {"kind": finding.kind, "key": finding.key, "title": finding.title},
        "level": finding.level, "level_name": LEVEL_NAMES.get(finding.level or "", ""),
        "windows": [c.as_dict() for c in finding.checks],
        "best_window": best.as_dict() if best else None,
        "top_posts": [], "top_terms": [], "sources": [], "topics": [], "event": None,
    }
    rows = finding.rows if finding.rows is not None else np.empty(0, dtype=np.int64)
    ids = [int(detector.history.ids[r]) for r in rows.tolist()]
    posts: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        posts += store.query(
            f"SELECT id, url, source, title, text, ts, negative_prob, keywords, topics, event_id FROM posts"
            f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    weights = detector.weights
    terms: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    events: Counter[int] = Counter()
    for post in posts:
        sources[post["source"]] += 1
        for name in _json_list(post["keywords"]):
            terms[name] += 1
        for name in _json_list(post["topics"]):
            topics[name] += 1
        if post["event_id"] is not None:
            events[int(post["event_id"])] += 1
    ranked = sorted(posts, key=lambda p: (weights(p["source"]) * (p["negative_prob"] or 0.5), p["ts"]), reverse=True)
    data["top_posts"] = [
        {"id": p["id"], "title": p["title"] or (p["text"] or "")[:60], "url": p["url"], "source": p["source"],
         "ts": p["ts"], "negative_prob": p["negative_prob"], "weight": weights(p["source"])}
        for p in ranked[: settings.alerts.top_posts]
    ]
    data["top_terms"] = terms.most_common(10)
    data["topics"] = topics.most_common(10)
    data["sources"] = [[name, count, weights(name)] for name, count in sources.most_common()]
    event_id = int(finding.key) if finding.kind == "event" else (events.most_common(1)[0][0] if events else None)
    if event_id is not None:
        rows_ev = store.query("SELECT id, title, size, negative, first_seen, last_seen, sources, keywords"
                              " FROM events WHERE id = ?", [event_id])
        if rows_ev:
            ev = rows_ev[0]
            data["event"] = {**ev, "sources": _json_list(ev["sources"]), "keywords": _json_list(ev["keywords"])}
    return data


def _json_list(value: str | None) -> list[Any]:
    try:
        parsed = json.loads(value or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def event_titles(store: Store, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    found: dict[int, str] = {}
    listed = sorted(ids)
    for i in range(0, len(listed), 500):
        chunk = listed[i:i + 500]
        for row in store.query(f"SELECT id, title FROM events WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            found[int(row["id"])] = row["title"]
    return found


# -- the entry point ----------------------------------------------------------------------------
def detect(settings: Settings, store: Store, now: datetime | None = None) -> list[Alert]:
    """Run detection once (every scope + source health), update the alerts, queue their message.

    Returns the alerts that changed (opened, escalated or resolved). Nothing is sent here:
    `delivery.deliver_pending` sends what was queued.
    """
    from yuqing.alerts import health, lifecycle

    now = (now or utcnow()).astimezone(timezone.utc)
    since, until = bl.iso_range(now, settings.alerts.baseline_weeks, max(settings.alerts.windows))
    history = bl.load_history(store, since, until)
    open_scopes = lifecycle.open_scopes(store)
    events = {int(e) for e in history.events.tolist() if e >= 0} | {int(k) for kind, k in open_scopes if kind == "event"}
    detector = Detector(settings, history, event_titles(store, events))
    findings = detector.run(now.timestamp(), open_scopes)
    for finding in findings:
        if finding.fired:
            finding.explanation = explain(settings, store, detector, finding)
    findings += health.check_sources(settings, store, now)
    from yuqing.alerts import signals  # hot lists, spread, unanswered 留言

    findings += signals.check(settings, store, now)
    changed = lifecycle.apply(settings, store, findings, now)
    if settings.alerts.watch_terms:
        from yuqing.cases.watch import scan  # a watch term opens a case whatever the counts

        scan(settings, store, now)
    logger.info("detection at %s: %d scopes, %d fired, %d alerts changed", to_iso(now), len(findings),
                sum(f.fired for f in findings), len(changed))
    return changed
