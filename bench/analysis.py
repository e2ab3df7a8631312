"""Benchmark of the analysis stage: our sentiment model against a TF-IDF + LogisticRegression
baseline and SnowNLP, in the same run, on the same held-out posts.

The baseline is scikit-learn's TfidfVectorizer(analyzer="char", ngram_range=(1, 3)) and
LogisticRegression() with default settings, fitted here on exactly the rows `train-sentiment`
trains on (training.training_rows: every corpus's training split and the generated sentences),
as negative-vs-not. Dev sets are the 20 % of each corpus that is never trained on (CRC-32 of the
text % 100 < 20), their neutral subsets, and the hand-written sets in tests/analysis/.
Per set: accuracy, macro-F1 and the share of neutral text flagged negative for each; expected
calibration error (10 bins) of ours; posts/s of each. Then the sentiment throughput ratio (goal
>= 50x SnowNLP) and the full analysis throughput (goal >= 1,000 posts/s on one core).

The `no 转折` column is ours with the concession rule switched off (same model, same run): what
the rule costs or gains on each set. `--model FILE` measures a candidate model file instead of the
shipped one.

    python bench/analysis.py [--data DIR] [--snownlp-max N] [--model FILE]
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
from yuqing.analysis.calibration import expected_calibration_error  # noqa: E402
from yuqing.analysis.training import TrainOptions, binary_scores, training_rows  # noqa: E402

HAND = ROOT / "tests" / "analysis"


def _lines(name: str) -> list[str]:
    text = (HAND / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _set(texts: list[str], negative: list[bool], neutral: list[bool]) -> tuple[list[str], np.ndarray, np.ndarray]:
    return texts, np.array(negative, dtype=bool), np.array(neutral, dtype=bool)


def dev_sets(data: Path) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """name -> (texts, is negative, is neutral)."""
    sets = {}
    for name, rows in corpora.load_all(data).items():
        dev = corpora.split(rows)[1]
        sets[name] = _set([r.text for r in dev], [r.label == "negative" for r in dev], [r.label == "neutral" for r in dev])
        if name in ("smp2020_usual", "nlpcc2014"):
            neu = [r for r in dev if r.label == "neutral"]
            sets[f"{name} neutral only"] = _set([r.text for r in neu], [False] * len(neu), [True] * len(neu))
    notices = _lines("neutral_notices.txt")
    sets["hand: notices"] = _set(notices, [False] * len(notices), [True] * len(notices))
    calm = _lines("definition_neutral.txt")
    sets["hand: questions/news"] = _set(calm, [False] * len(calm), [True] * len(calm))
    upset = _lines("definition_negative.txt") + _lines("complaints.txt")
    sets["hand: complaints"] = _set(upset, [True] * len(upset), [False] * len(upset))
    return sets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=corpora.default_data_dir())
    ap.add_argument("--snownlp-max", type=int, default=400, help="cap SnowNLP's posts per set (0: all)")
    ap.add_argument("--model", type=Path, default=None, help="a model file to measure (default: the shipped one)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.data.is_dir():
        print(f"no corpora at {args.data}: set YUQING_SHARED_DATA or --data")
        return 2

    t0 = time.perf_counter()
    from yuqing.analysis.analyzer import HMM, Analyzer
    from yuqing.analysis.events import EventIndex
    from yuqing.analysis.features import normalize
    from yuqing.analysis.sentiment import LinearModel
    from yuqing.settings import AnalysisConfig

    ours = Analyzer(AnalysisConfig(model=str(args.model.resolve())) if args.model else None)
    load_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    from snownlp import SnowNLP

    _ = SnowNLP("预热").sentiments  # the first use loads its model: that is what is timed
    load_snow = time.perf_counter() - t0

    # the baseline, fitted on the very rows our model was trained on
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    train_sets, _ = training_rows(TrainOptions(data_dir=args.data))
    rows = [ex for part in train_sets.values() for ex in part]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    baseline = LogisticRegression()
    baseline.fit(vec.fit_transform([normalize(ex.text[:20_000]) for ex in rows]), [ex.label == "negative" for ex in rows])
    fit_base = time.perf_counter() - t0
    sets = dev_sets(args.data)

    # the model reads character n-grams: standing alone it needs no segmentation, so its own path is
    # normalise + model, the counterpart of SnowNLP(text).sentiments (which segments inside)
    def ours_predict(text: str) -> float:
        return ours.sentiment.predict(normalize(text[:20_000]), (), 0.5).negative_prob

    m = ours.sentiment
    plain = LinearModel(m.weights, m.bias, dict(m.meta, concession=False), m.second, m.stack) \
        if isinstance(m, LinearModel) else m

    def plain_predict(text: str) -> float:
        return plain.predict(normalize(text[:20_000]), (), 0.5).negative_prob

    def base_predict(text: str) -> float:
        return float(baseline.predict_proba(vec.transform([normalize(text[:20_000])]))[0, 1])

    def snow_predict(text: str) -> float:
        return 1.0 - SnowNLP(text).sentiments if text.strip() else 0.0

    print(f"model: {ours.sentiment.meta.get('created')} seed {ours.sentiment.meta.get('seed')}; load: ours {load_ours:.2f}s, "
          f"SnowNLP {load_snow:.2f}s; baseline fitted on the same {len(rows)} training rows in {fit_base:.0f}s")
    print("acc / F1: negative vs not; neu>neg: share of the set's neutral texts flagged negative; "
          "ECE: expected calibration error of negative_prob (10 bins)")
    header = (f"{'dev set':27} {'n':>5} | {'ours acc':>8} {'F1':>6} {'neu>neg':>7} {'ECE':>5} | {'base acc':>8} {'F1':>6} "
              f"{'neu>neg':>7} {'ECE':>5} | {'Snow acc':>8} {'F1':>6} {'neu>neg':>7} | {'ours-base':>9} | {'no 转折':>7}")
    print(header)
    pooled: dict[str, list[np.ndarray]] = {"ours": [], "base": [], "truth": []}
    dt = {"ours": 0.0, "base": 0.0, "snow": 0.0}
    count = {"ours": 0, "base": 0, "snow": 0}
    for name, (texts, truth, neutral) in sets.items():
        k = min(len(texts), args.snownlp_max) if args.snownlp_max else len(texts)
        out: dict[str, list[float]] = {"ours": [], "base": [], "snow": []}
        # alternating blocks of 100 posts, so all see the same load on a shared machine
        for start in range(0, len(texts), 100):
            block = texts[start : start + 100]
            for key, fn, part in (("ours", ours_predict, block), ("base", base_predict, block),
                                  ("snow", snow_predict, block[: max(0, k - start)])):
                t = time.perf_counter()
                out[key].extend(fn(x) for x in part)
                dt[key] += time.perf_counter() - t
                count[key] += len(part)
        p_plain = np.array([plain_predict(x) for x in texts])
        if not name.startswith("hand") and "only" not in name:
            pooled["ours"].append(np.array(out["ours"]))
            pooled["base"].append(np.array(out["base"]))
            pooled["truth"].append(truth)
        cells = []
        accs = {}
        for key in ("ours", "base", "snow"):
            p = np.array(out[key])
            n = len(p)
            sc = binary_scores(truth[:n], p >= 0.5)
            accs[key] = sc["accuracy"]
            neu = neutral[:n]
            one_class = truth.all() or not truth.any()
            cells.append(f"{sc['accuracy']:8.4f} {'-' if one_class else format(sc['macro_f1'], '.4f'):>6} "
                         f"{format((p[neu] >= 0.5).mean(), '.3f') if neu.any() else '-':>7}"
                         + ("" if key == "snow" else f" {expected_calibration_error(p, truth[:n]):5.3f}"))
        acc_plain = binary_scores(truth, p_plain >= 0.5)["accuracy"]
        print(f"{name:27} {len(texts):5d} | " + " | ".join(cells) + f" | {100 * (accs['ours'] - accs['base']):+8.1f}pt"
              f" | {acc_plain:7.4f}")
    truth_all = np.concatenate(pooled["truth"])
    print(f"ECE over every corpus dev post ({len(truth_all)}): ours "
          f"{expected_calibration_error(np.concatenate(pooled['ours']), truth_all):.3f}, baseline "
          f"{expected_calibration_error(np.concatenate(pooled['base']), truth_all):.3f} (goal <= 0.05)")
    rate = {key: count[key] / dt[key] for key in dt}
    print(f"sentiment throughput (normalise + model; no segmentation needed): ours {rate['ours']:.0f} posts/s, "
          f"baseline {rate['base']:.0f} posts/s, SnowNLP {rate['snow']:.0f} posts/s; ours/SnowNLP "
          f"{rate['ours'] / rate['snow']:.0f}x (goal >= 50x), ours/baseline {rate['ours'] / rate['base']:.1f}x")
    rate_s = rate["snow"]
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
    # Wall time and this process's CPU time both: on a shared machine the wall clock counts the time
    # other jobs held the core, the CPU clock only ours (what one core of a quiet machine would give)
    t, c = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        r = ours.analyze_full(text)
        index.assign(weights=r.weights, h=r.analysis.simhash, when=start + timedelta(seconds=60 * i),
                     source="bench", title="", text=text, negative=r.analysis.label == "negative")
    dt, dc = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    for text in texts:
        ours.tokenizer.lcut(normalize(text), HMM=HMM)
    dt_cut, dc_cut = time.perf_counter() - t, time.process_time() - c
    print(f"full analysis (cut, keywords, topics, sentiment, simhash, events): {len(texts) / dt:.0f} posts/s wall, "
          f"{len(texts) / dc:.0f} posts per CPU-second on one core (goal >= 1000); jieba cut alone {len(texts) / dt_cut:.0f} "
          f"posts/s wall, {len(texts) / dc_cut:.0f} per CPU-second; "
          f"{len(index.events)} events from {len(texts)} posts; vs SnowNLP sentiment alone {len(texts) / dt / rate_s:.0f}x")
    try:
        print(f"machine load while measuring (1-minute average): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
