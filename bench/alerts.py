"""Benchmark of spike detection: our detector (through the real backtest) beside a naive threshold.

A simulated county: six weeks of analysed posts with a daily rhythm (quiet nights, busy mornings and
evenings) and a weekly one (calmer weekends), topics with their own negative shares, small everyday
events; then, in the four scored weeks, incidents of different sizes and speeds, two quiet stretches
(the crawler was down) and a crawl-volume jump (a new source from day 20: more posts of every kind,
not an incident). The first two weeks are history only.

Both detectors see the same stream at the same 15-minute steps:
* ours: `yuqing.alerts.backtest.backtest` (the real detector, lifecycle and cooldown) over every scope;
* naive: the locality's negative count in the last hour against mean + 3 sigma of the hourly counts
  of the trailing 7 days (an episode opens when above, closes when below); and the same with our
  min_count, so the comparison is not only against a strawman.

Scored per detector: recall (incidents with an alert opened between their start and their end +
1 h), false alarms per week (alerts that match no incident, i.e. open outside every incident's
start .. end + 6 h), and detection lag in 1-hour windows (first alert after the start).

Grouping (cases): the real `detect` (lifecycle, cases, delivery queue) is run at the same 15-minute
steps from 7 h before each incident (so earlier alerts resolve and cool down) to 6 h after its end.
Per incident: alerts opened, cases opened, and emails three ways: one per alert opened or
escalated (what a user saw as "one email per alert"), one per detection run that opened or
escalated something (the message before cases), and the queued messages now (one per case and
level). Recall is counted on cases as on alerts.

Run: python bench/alerts.py [--seed N] [--no-grouping]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yuqing import settings as settings_mod
from yuqing.alerts.backtest import backtest
from yuqing.models import from_iso, to_iso
from yuqing.store import Store

START = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)  # a Monday (08:00 in Shanghai)
WEEKS = 6
SCORED_FROM = START + timedelta(weeks=2)
END = START + timedelta(weeks=WEEKS)
STEP = timedelta(minutes=15)
RATE = 5.0  # posts an hour on an average hour
TOPICS = {"征地拆迁": (0.10, 0.55), "交通": (0.20, 0.25), "旅游": (0.25, 0.10), "教育": (0.15, 0.15),
          "医疗": (0.10, 0.30), "环保": (0.05, 0.35), "": (0.15, 0.15)}  # name: (share of posts, negative share)


@dataclass
class Incident:
    name: str
    start: datetime
    hours: float
    negative: int
    neutral: int
    topic: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def incidents() -> list[Incident]:
    d = SCORED_FROM
    return [
        Incident("small, fast", d + timedelta(days=1, hours=3), 1.0, 8, 2, "交通"),
        Incident("medium", d + timedelta(days=4, hours=6), 2.0, 15, 6, "征地拆迁"),
        Incident("large", d + timedelta(days=8, hours=2), 3.0, 45, 20, "医疗"),
        Incident("slow build-up", d + timedelta(days=11, hours=1), 6.0, 18, 8, "环保"),
        Incident("at night", d + timedelta(days=13, hours=17), 1.5, 7, 1, "旅游"),
        Incident("weekend", d + timedelta(days=19, hours=4), 2.0, 12, 4, "教育"),
        Incident("during the volume jump", d + timedelta(days=22, hours=5), 2.0, 20, 8, "交通"),
        Incident("huge", d + timedelta(days=25, hours=2), 4.0, 90, 40, "征地拆迁"),
    ]


QUIET = [(SCORED_FROM + timedelta(days=6), 36.0), (SCORED_FROM + timedelta(days=16), 30.0)]  # crawler down
JUMP_FROM = SCORED_FROM + timedelta(days=20)  # a new source: +80 % posts of every kind from here on


def rhythm(t: datetime) -> float:
    local = t + timedelta(hours=8)
    hour = local.hour + local.minute / 60
    daily = 0.15 + math.exp(-((hour - 10) ** 2) / 8) + 0.9 * math.exp(-((hour - 20.5) ** 2) / 6)
    weekly = 0.65 if local.weekday() >= 5 else 1.0
    quiet = any(q <= t < q + timedelta(hours=h) for q, h in QUIET)
    jump = 1.8 if t >= JUMP_FROM else 1.0
    return daily * weekly * (0.05 if quiet else 1.0) * jump / 0.75


def simulate(store: Store, seed: int) -> int:
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    shares = np.array([TOPICS[n][0] for n in names])
    rows = []
    event_seq = 0
    t = START
    minute = timedelta(minutes=10)
    while t < END:  # background in 10-minute slices
        n = rng.poisson(RATE * rhythm(t) / 6)
        small_event = None
        if rng.random() < 0.05:  # everyday small events (2-5 related posts)
            event_seq += 1
            small_event = event_seq
        for i in range(n):
            topic = names[rng.choice(len(names), p=shares)]
            negative = rng.random() < TOPICS[topic][1]
            source = "newsite" if t >= JUMP_FROM and rng.random() < 0.8 / 1.8 else rng.choice(["news", "tieba", "board"])
            ev = small_event if small_event and i < 5 else None
            rows.append((t + timedelta(seconds=float(rng.uniform(0, 600))), negative, topic, source, ev))
        t += minute
    for inc in incidents():
        event_seq += 1
        for k in range(inc.negative + inc.neutral):
            at = inc.start + timedelta(hours=float(rng.uniform(0, inc.hours)))
            rows.append((at, k < inc.negative, inc.topic, rng.choice(["news", "tieba", "board"]), event_seq))
    with store.transaction():
        for i, (ts, negative, topic, source, ev) in enumerate(rows):
            iso = to_iso(ts)
            store.conn.execute(
                "INSERT INTO posts(url, canonical_url, source, title, published_at, fetched_at, ts, content_hash,"
                " analyzed_at, label, negative_prob, topics, topic_terms, keywords, event_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', '[]', ?)",
                (f"http://sim/{i}", f"http://sim/{i}", source, f"post {i}", iso, iso, iso, f"h{i}", iso,
                 "negative" if negative else "neutral", 0.9 if negative else 0.1,
                 json.dumps([topic] if topic else [], ensure_ascii=False), ev))
        for ev in range(1, event_seq + 1):
            store.conn.execute("INSERT INTO events(id, title, first_seen, last_seen) VALUES (?, ?, ?, ?)",
                               (ev, f"event {ev}", to_iso(START), to_iso(END)))
    return len(rows)


def naive(store: Store, min_count: int) -> list[tuple[datetime, datetime | None]]:
    """mean + 3 sigma of the trailing week's hourly negative counts; returns alarm episodes."""
    neg = np.array(sorted(from_iso(r[0]).timestamp() for r in store.conn.execute(
        "SELECT ts FROM posts WHERE label = 'negative'")))
    episodes: list[tuple[datetime, datetime | None]] = []
    open_at: datetime | None = None
    t = SCORED_FROM
    while t <= END:
        now = t.timestamp()
        ends = now - 3600 * np.arange(1, 7 * 24 + 1)
        past = np.searchsorted(neg, ends, side="right") - np.searchsorted(neg, ends - 3600, side="right")
        count = int(np.searchsorted(neg, now, side="right") - np.searchsorted(neg, now - 3600, side="right"))
        alarm = count > past.mean() + 3 * past.std() and count >= min_count
        if alarm and open_at is None:
            open_at = t
        elif not alarm and open_at is not None:
            episodes.append((open_at, t))
            open_at = None
        t += STEP
    if open_at is not None:
        episodes.append((open_at, None))
    return episodes


def score(opened: list[datetime], incs: list[Incident]) -> dict[str, float]:
    detected, lags = 0, []
    for inc in incs:
        hits = [o for o in opened if inc.start <= o <= inc.end + timedelta(hours=1)]
        if hits:
            detected += 1
            lags.append((min(hits) - inc.start).total_seconds() / 3600)
    false = [o for o in opened if not any(i.start <= o <= i.end + timedelta(hours=6) for i in incs)]
    weeks = (END - SCORED_FROM).total_seconds() / (7 * 86400)
    return {"recall": detected / len(incs), "false_per_week": len(false) / weeks,
            "lag": float(np.mean(lags)) if lags else float("nan"), "alerts": len(opened)}


def grouping(settings: settings_mod.Settings, store: Store, incs: list[Incident]) -> dict[str, float]:
    """Alerts, cases and emails per incident through the real detect() (see the module docstring)."""
    from yuqing.alerts.detector import detect

    per: list[dict[str, int]] = []
    recall_cases = 0
    for inc in incs:
        t, end = inc.start - timedelta(hours=7), inc.end + timedelta(hours=6)
        first_alert = int(store.scalar("SELECT coalesce(max(id), 0) FROM alerts"))
        first_case = int(store.scalar("SELECT coalesce(max(id), 0) FROM cases"))
        first_row = int(store.scalar("SELECT coalesce(max(id), 0) FROM deliveries"))
        runs_with_news = 0
        per_alert = 0
        while t <= end:
            changed = [a for a in detect(settings, store, t) if a.state in ("open", "escalated") and a.kind != "source"]
            fresh = [a for a in changed if a.updated_at == t]
            if fresh and t >= inc.start:
                runs_with_news += 1
                per_alert += len(fresh)
            t += STEP
        alerts = store.query("SELECT id, opened_at FROM alerts WHERE id > ? AND kind != 'source' AND opened_at >= ?",
                             [first_alert, to_iso(inc.start)])
        cases = store.query("SELECT id, opened_at FROM cases WHERE id > ? AND opened_at >= ?",
                            [first_case, to_iso(inc.start)])
        mails = int(store.scalar("SELECT count(*) FROM deliveries WHERE id > ? AND kind = 'alert'"
                                 " AND created_at IS NOT NULL AND ref LIKE 'case%'", [first_row]))
        levels = int(store.scalar("SELECT count(*) FROM case_steps WHERE case_id > ? AND action IN ('open', 'escalate')",
                                  [first_case]))
        if any(inc.start <= from_iso(c["opened_at"]) <= inc.end + timedelta(hours=1) for c in cases):  # type: ignore[operator]
            recall_cases += 1
        per.append({"alerts": len(alerts), "cases": len(cases), "per_alert": per_alert, "per_run": runs_with_news,
                    "per_case": mails, "levels": levels})
    n = len(incs)
    return {"alerts": sum(p["alerts"] for p in per) / n, "cases": sum(p["cases"] for p in per) / n,
            "per_alert": sum(p["per_alert"] for p in per) / n, "per_run": sum(p["per_run"] for p in per) / n,
            "per_case": sum(p["per_case"] for p in per) / n, "recall": recall_cases / n,
            "max_cases": max(p["cases"] for p in per), "rows": per}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-grouping", action="store_true", help="skip the cases part (the slow one)")
    args = parser.parse_args()
    grouped: dict[str, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text('[locality]\nname = "芦山县"\n[store]\npath = "bench.db"\n'
                          '[alerts]\nsource_weights = { board = 2.0 }\n', encoding="utf-8")
        settings = settings_mod.load(config)
        with Store(settings.db_path) as store:
            began = time.perf_counter()
            posts = simulate(store, args.seed)
            built = time.perf_counter() - began
            began = time.perf_counter()
            records = backtest(settings, store, SCORED_FROM, END, STEP)
            ours_s = time.perf_counter() - began
            began = time.perf_counter()
            plain = naive(store, 1)
            guarded = naive(store, settings.alerts.min_count)
            naive_s = time.perf_counter() - began
            if not args.no_grouping:
                began = time.perf_counter()
                grouped = grouping(settings, store, incidents())
                grouping_s = time.perf_counter() - began
    incs = incidents()
    ours = score([from_iso(r["opened"]) for r in records], incs)  # type: ignore[misc]
    rows = [("ours (backtest, all scopes)", ours),
            ("naive mean+3σ, 1h, trailing 7d", score([o for o, _ in plain], incs)),
            ("naive mean+3σ + min_count", score([o for o, _ in guarded], incs))]
    print(f"stream: {posts} posts over {WEEKS} weeks ({WEEKS - 2} scored), {len(incs)} incidents, "
          f"2 quiet stretches, a +80 % crawl-volume jump from day 20; built in {built:.1f}s")
    print(f"detection time: ours {ours_s:.1f}s for {int((END - SCORED_FROM) / STEP)} steps, naive {naive_s:.1f}s")
    print(f"{'detector':34} {'recall':>7} {'false/week':>11} {'lag (1h windows)':>17} {'alerts':>7}")
    for name, s in rows:
        print(f"{name:34} {s['recall']:7.2f} {s['false_per_week']:11.2f} {s['lag']:17.2f} {s['alerts']:7d}")
    base = rows[1][1]
    ratio = ours["false_per_week"] / base["false_per_week"] if base["false_per_week"] else float("nan")
    print(f"ours vs naive: recall {ours['recall']:.2f} vs {base['recall']:.2f}, "
          f"false alarms/week ratio {ratio:.2f} (lower is better)")
    missed = [i.name for i in incs if not any(i.start <= from_iso(r["opened"]) <= i.end + timedelta(hours=1)  # type: ignore[operator]
                                              for r in records)]
    if missed:
        print("ours missed:", ", ".join(missed))
    if grouped is not None:
        g = grouped
        print(f"grouping (real detect, {grouping_s:.1f}s): per incident {g['alerts']:.2f} alerts -> {g['cases']:.2f} cases"
              f" (at most {g['max_cases']} for one incident); emails per incident: {g['per_case']:.2f} now (per case"
              f" and level) vs {g['per_alert']:.2f} one per alert ({g['per_case'] / g['per_alert']:.2f}x) and"
              f" {g['per_run']:.2f} one per detection run ({g['per_case'] / g['per_run']:.2f}x);"
              f" recall on cases {g['recall']:.2f} vs on alerts {ours['recall']:.2f}")
        for inc, row in zip(incs, g["rows"], strict=False):  # type: ignore[call-overload]
            print(f"  {inc.name:24} alerts {row['alerts']:2d}  cases {row['cases']}  levels {row['levels']}"
                  f"  emails now {row['per_case']}"
                  f"  per alert {row['per_alert']}  per run {row['per_run']}")
    false = [r for r in records if not any(i.start <= from_iso(r["opened"]) <= i.end + timedelta(hours=6)  # type: ignore[operator]
                                           for i in incs)]
    for r in false[:10]:
        print("false alarm:", json.dumps({k: r[k] for k in ("kind", "key", "level", "opened", "peak_negative")},
                                         ensure_ascii=False))


if __name__ == "__main__":
    main()
