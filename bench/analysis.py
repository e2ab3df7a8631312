"""Benchmark of the analysis stage: our sentiment model against SnowNLP, in the same run.

On the held-out dev split of the shared corpora (the 20% of each corpus that `train-sentiment`
never trains on, chosen by text checksum) and on hand-written neutral notices
(tests/analysis/neutral_notices.txt), it prints:
  - accuracy and macro-F1 of negative-vs-not, ours and SnowNLP's, per dev set;
  - the share of neutral texts flagged negative (SMP2020 neutral dev posts, notices);
  - sentiment throughput (posts/s) of each and the ratio (goal: >= 50x SnowNLP): ours is
    normalisation + the model, which reads characters and needs no segmentation; also shown with a
    jieba cut added, and the model alone;
  - full analysis throughput on one core: normalisation, one jieba cut, keywords, topics,
    sentiment, SimHash and event assignment (goal: >= 1,000 posts/s).

    python bench/analysis.py [--data DIR] [--snownlp-max N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yuqing.analysis import corpora  # noqa: E402
from yuqing.analysis.training import binary_scores  # noqa: E402


def _notices() -> list[str]:
    path = ROOT / "tests" / "analysis" / "neutral_notices.txt"
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=corpora.default_data_dir())
    ap.add_argument("--snownlp-max", type=int, default=0, help="cap SnowNLP's posts per set (0: all)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.data.is_dir():
        print(f"no corpora at {args.data}: set YUQING_SHARED_DATA or --data")
        return 2

    t0 = time.perf_counter()
    from yuqing.analysis.analyzer import HMM, Analyzer
    from yuqing.analysis.events import EventIndex
    from yuqing.analysis.features import normalize

    ours = Analyzer()
    load_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    from snownlp import SnowNLP

    SnowNLP("预热").sentiments
    load_snow = time.perf_counter() - t0

    found = corpora.load_all(args.data)
    dev = {name: corpora.split(rows)[1] for name, rows in found.items()}
    sets: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for name in ("weibo2018", "smp2020", "chnsenticorp", "waimai"):
        if name in dev:
            rows = dev[name]
            sets[name] = ([r.text for r in rows], np.array([r.label == "negative" for r in rows]),
                          np.array([r.label == "neutral" for r in rows]))
    notices = _notices()
    sets["notices (hand-written)"] = (notices, np.zeros(len(notices), bool), np.ones(len(notices), bool))

    # the model reads character n-grams: standing alone it needs no segmentation, so its own path is
    # normalise + model, the counterpart of SnowNLP(text).sentiments (which segments inside)
    def ours_predict(text: str) -> float:
        return ours.sentiment.predict(normalize(text[:20_000]), (), 0.5).negative_prob

    def snow_predict(text: str) -> float:
        return 1.0 - SnowNLP(text).sentiments if text.strip() else 0.0

    print(f"model: {ours.sentiment.meta.get('created')} seed {ours.sentiment.meta.get('seed')}; "
          f"load: ours {load_ours:.2f}s, SnowNLP {load_snow:.2f}s")
    print(f"{'dev set':24} {'n':>5} | {'ours acc':>8} {'F1':>6} {'neu->neg':>8} | {'SnowNLP acc':>11} {'F1':>6} "
          f"{'neu->neg':>8} | {'ours/s':>7} {'Snow/s':>7} {'ratio':>6}")
    total_ours = total_snow = 0.0
    count_ours = count_snow = 0
    for name, (texts, truth, neutral) in sets.items():
        # alternating blocks of 100 posts, so both see the same load on a shared machine (post by post
        # would have SnowNLP evict our tables from the CPU caches between every two posts)
        k = min(len(texts), args.snownlp_max) if args.snownlp_max else len(texts)
        out_o, out_s = [], []
        dt_ours = dt_snow = 0.0
        for start in range(0, len(texts), 100):
            block = texts[start : start + 100]
            t = time.perf_counter()
            out_o.extend(ours_predict(x) for x in block)
            t1 = time.perf_counter()
            dt_ours += t1 - t
            out_s.extend(snow_predict(x) for x in block[: max(0, k - start)])
            dt_snow += time.perf_counter() - t1
        p_ours, p_snow = np.array(out_o), np.array(out_s)
        so = binary_scores(truth, p_ours >= 0.5)
        ss = binary_scores(truth[:k], p_snow >= 0.5)
        neu_o = f"{(p_ours[neutral] >= 0.5).mean():.3f}" if neutral.any() else "-"
        neu_s = f"{(p_snow[neutral[:k]] >= 0.5).mean():.3f}" if neutral[:k].any() else "-"
        acc_o = "-" if name.startswith("notices") else f"{so['accuracy']:.4f}"
        f1_o = "-" if name.startswith("notices") else f"{so['macro_f1']:.4f}"
        acc_s = "-" if name.startswith("notices") else f"{ss['accuracy']:.4f}"
        f1_s = "-" if name.startswith("notices") else f"{ss['macro_f1']:.4f}"
        rate_o, rate_s = len(texts) / dt_ours, k / dt_snow
        print(f"{name:24} {len(texts):5d} | {acc_o:>8} {f1_o:>6} {neu_o:>8} | {acc_s:>11} {f1_s:>6} {neu_s:>8} | "
              f"{rate_o:7.0f} {rate_s:7.0f} {rate_o / rate_s:5.0f}x")
        total_ours += dt_ours
        total_snow += dt_snow
        count_ours += len(texts)
        count_snow += k
    rate_o, rate_s = count_ours / total_ours, count_snow / total_snow
    print(f"sentiment throughput (normalise + model; the model needs no segmentation): ours {rate_o:.0f} posts/s, SnowNLP {rate_s:.0f} posts/s, "
          f"ratio {rate_o / rate_s:.0f}x (goal >= 50x)")
    # the same posts with a jieba cut added, as if the model still needed words (the pipeline cuts
    # once for keywords, topics and events anyway): the figure a word-based model could not beat
    all_texts = [x for ts, _, _ in sets.values() for x in ts]
    t = time.perf_counter()
    for x in all_texts:
        norm = normalize(x[:20_000])
        words = [w for w in ours.tokenizer.lcut(norm, HMM=HMM) if w.strip()]
        ours.sentiment.predict(norm, words, 0.5)
    rate_c = len(all_texts) / (time.perf_counter() - t)
    normed = [normalize(x[:20_000]) for x in all_texts]
    t = time.perf_counter()
    for norm in normed:
        ours.sentiment.predict(norm, (), 0.5)
    rate_m = len(normed) / (time.perf_counter() - t)
    print(f"with a jieba cut added: {rate_c:.0f} posts/s, {rate_c / rate_s:.0f}x SnowNLP; "
          f"model alone on normalised text: {rate_m:.0f} posts/s, {rate_m / rate_s:.0f}x")

    # full analysis, one core: every dev text through the whole pipeline and the event index
    texts = [x for name, (ts, _, _) in sets.items() for x in ts]
    index = EventIndex(3 * 86400, 0.5)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    t = time.perf_counter()
    for i, text in enumerate(texts):
        r = ours.analyze_full(text)
        index.assign(weights=r.weights, h=r.analysis.simhash, when=start + timedelta(seconds=60 * i),
                     source="bench", title="", text=text, negative=r.analysis.label == "negative")
    dt = time.perf_counter() - t
    t = time.perf_counter()
    for text in texts:
        ours.tokenizer.lcut(normalize(text), HMM=HMM)
    dt_cut = time.perf_counter() - t
    print(f"full analysis (cut, keywords, topics, sentiment, simhash, events): {len(texts) / dt:.0f} posts/s on one core "
          f"(goal >= 1000); jieba cut alone {len(texts) / dt_cut:.0f} posts/s; "
          f"{len(index.events)} events from {len(texts)} posts; vs SnowNLP sentiment alone {len(texts) / dt / rate_s:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
