"""`yuqing train-sentiment`: fit the domain model from the labelled corpora and analysts' corrections.

Needs scikit-learn (the `train` extra); inference does not. Reproducible: the split is fixed by
text checksums (corpora.py), the generated notices by the seed, and the solver is deterministic.

Two heads (see sentiment.py), each an L2 logistic regression over binary hashed features scaled
by naive-Bayes log-count ratios (NB-LR, Wang & Manning 2012), which beat plain LR by 2-3 points
on Weibo. C, the buckets and the corpus weights were chosen on a validation split carved from the
TRAINING posts (CRC-32 20..39), never on the dev split. Corpus weights keep Weibo the reference domain while the reviews teach
complaints about services and the notices teach the neutral register of official text. The
generated enquiries, incidents and thanks count little in the negative head (0.25-0.5): at full
weight and in larger numbers they cost up to 0.7 point on held-out Weibo; their counts and weights
were chosen on the same validation split, checking the demo's questions and complaints beside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from yuqing.analysis import corpora, features, notices
from yuqing.analysis.corpora import Example
from yuqing.analysis.sentiment import FORMAT, LinearModel
from yuqing.errors import YuqingError

logger = logging.getLogger(__name__)

# How much one example of each corpus counts in training.
NEGATIVE_WEIGHTS = {"weibo2018": 1.0, "smp2020": 0.5, "chnsenticorp": 0.3, "waimai": 0.3, "notices": 1.0,
                    "services": 0.25, "enquiries": 0.25, "incidents": 0.5, "thanks": 0.25, "corrections": 3.0}
POSITIVE_WEIGHTS = {"smp2020": 1.0, "chnsenticorp": 0.2, "waimai": 0.2, "notices": 1.0, "services": 0.5,
                    "enquiries": 1.0, "thanks": 0.5, "corrections": 3.0}
# the domain the ratios come from
NB_SOURCES = ("weibo2018", "notices", "services", "enquiries", "incidents", "thanks", "corrections")


@dataclass
class TrainOptions:
    data_dir: Path
    seed: int = 13
    buckets: int = 1 << 19
    c_negative: float = 0.15
    c_positive: float = 1.0
    notices: int = 2000
    services: int = 1500
    enquiries: int = 800
    incidents: int = 800
    thanks: int = 200


def load_corrections(store: Any) -> list[Example]:
    """Analysts' latest label for each corrected post."""
    rows = store.conn.execute(
        """
        SELECT p.title, p.text, c.label FROM corrections c JOIN posts p ON p.id = c.post_id
        WHERE c.label IN ('negative', 'neutral', 'positive')
          AND c.id = (SELECT max(c2.id) FROM corrections c2 WHERE c2.post_id = c.post_id AND c2.label IS NOT NULL)
        """
    ).fetchall()
    return [Example(f"{t or ''}\n{x or ''}".strip(), label, "corrections") for t, x, label in rows if (t or x)]


def vectorize(texts: Sequence[str], buckets: int, progress: Callable[[int], None] | None = None):
    """Binary hashed features of texts, as a CSR matrix (the same features inference uses)."""
    import scipy.sparse as sp

    indptr, chunks = [0], []
    for i, text in enumerate(texts):
        idx = features.feature_ids(features.normalize(text[:20_000]), buckets)
        chunks.append(idx)
        indptr.append(indptr[-1] + len(idx))
        if progress and i % 1000 == 999:
            progress(1000)
    indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, np.array(indptr)), shape=(len(texts), buckets))


def _nb_ratio(X, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    p = np.asarray(X[y].sum(axis=0)).ravel() + alpha
    q = np.asarray(X[~y].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)


def _fit(X, y: np.ndarray, w: np.ndarray, r: np.ndarray, c: float, seed: int) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    model.fit(X.multiply(r).tocsr(), y, sample_weight=w)
    return (model.coef_[0] * r).astype(np.float32), float(model.intercept_[0])


def binary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of negative-vs-not."""
    acc = float((y_true == y_pred).mean()) if len(y_true) else 0.0
    f1s = []
    for cls in (True, False):
        tp = float(((y_pred == cls) & (y_true == cls)).sum())
        fp = float(((y_pred == cls) & (y_true != cls)).sum())
        fn = float(((y_pred != cls) & (y_true == cls)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"accuracy": round(acc, 4), "macro_f1": round(sum(f1s) / 2, 4), "n": int(len(y_true))}


def train(options: TrainOptions, store: Any = None, echo: Callable[[str], None] = logger.info) -> LinearModel:
    """Train both heads and measure them on the held-out dev split; returns the model (not saved)."""
    started = time.time()
    found = corpora.load_all(options.data_dir)
    if not found:
        raise YuqingError(f"no training data in {options.data_dir}: expected any of {', '.join(corpora.FILES.values())}")
    train_sets: dict[str, list[Example]] = {}
    dev_sets: dict[str, list[Example]] = {}
    for name, rows in found.items():
        train_sets[name], dev_sets[name] = corpora.split(rows)
    train_sets["notices"] = [Example(t, "neutral", "notices") for t in notices.generate(options.notices, options.seed)]
    train_sets["services"] = [Example(t, lab, "services") for t, lab in notices.complaints(options.services, options.seed)]
    train_sets["enquiries"] = [Example(t, "neutral", "enquiries") for t in notices.enquiries(options.enquiries, options.seed)]
    train_sets["incidents"] = [Example(t, "negative", "incidents") for t in notices.incidents(options.incidents, options.seed)]
    train_sets["thanks"] = [Example(t, "positive", "thanks") for t in notices.thanks(options.thanks, options.seed)]
    fixes = load_corrections(store) if store is not None else []
    if fixes:
        train_sets["corrections"] = fixes
    echo("training on " + ", ".join(f"{k} {len(v)}" for k, v in train_sets.items()))

    examples = [ex for rows in train_sets.values() for ex in rows]
    X = vectorize([ex.text for ex in examples], options.buckets)
    corpus = np.array([ex.corpus for ex in examples])
    labels = np.array([ex.label for ex in examples])
    echo(f"features ready ({time.time() - started:.0f}s)")

    # head 0: negative vs the rest
    y0 = labels == "negative"
    w0 = np.array([NEGATIVE_WEIGHTS.get(c, 1.0) for c in corpus])
    nb0 = np.isin(corpus, NB_SOURCES)
    r0 = _nb_ratio(X[nb0], y0[nb0])
    coef0, b0 = _fit(X, y0, w0, r0, options.c_negative, options.seed)

    # head 1: positive vs neutral, among the posts that are not negative
    keep = (labels != "negative") & np.isin(corpus, list(POSITIVE_WEIGHTS))
    X1, y1 = X[keep], labels[keep] == "positive"
    w1 = np.array([POSITIVE_WEIGHTS[c] for c in corpus[keep]])
    r1 = _nb_ratio(X1, y1)
    coef1, b1 = _fit(X1, y1, w1, r1, options.c_positive, options.seed)

    weights = np.stack([coef0, coef1], axis=1).astype(np.float16).astype(np.float32)
    bias = np.array([b0, b1])
    figures = evaluate(weights, bias, dev_sets, options.buckets)
    for name, fig in figures.items():
        echo(f"dev {name}: " + ", ".join(f"{k}={v}" for k, v in fig.items()))
    meta = {
        "format": FORMAT,
        "created": date.today().isoformat(),
        "seed": options.seed,
        "buckets": options.buckets,
        "features": "character 1/2/3-grams (spaces dropped, digits as 0); hashed (MurmurHash3 finaliser), binary",
        "params": {"c_negative": options.c_negative, "c_positive": options.c_positive,
                   "negative_weights": NEGATIVE_WEIGHTS, "positive_weights": POSITIVE_WEIGHTS},
        "sources": {name: {"file": corpora.FILES.get(name, ""), "train": len(train_sets[name]),
                           "dev": len(dev_sets.get(name, []))} for name in train_sets},
        "dev_split": f"{corpora.DEV_SHARE}% of each corpus by CRC-32 of the text, never trained on",
        "dev": figures,
        "train_seconds": round(time.time() - started, 1),
    }
    return LinearModel(weights, bias, meta)


def evaluate(weights: np.ndarray, bias: np.ndarray, dev_sets: dict[str, list[Example]], buckets: int) -> dict[str, dict]:
    """Negative-vs-not accuracy/F1 per dev corpus, and how neutral dev posts fare."""
    out: dict[str, dict] = {}
    for name, rows in dev_sets.items():
        if not rows:
            continue
        Xd = vectorize([ex.text for ex in rows], buckets)
        p_neg = 1 / (1 + np.exp(-(Xd @ weights[:, 0] + bias[0])))
        truth = np.array([ex.label == "negative" for ex in rows])
        fig: dict[str, Any] = binary_scores(truth, p_neg >= 0.5)
        neutral = np.array([ex.label == "neutral" for ex in rows])
        if neutral.any():
            p_pos = 1 / (1 + np.exp(-(Xd @ weights[:, 1] + bias[1])))
            fig["neutral_flagged_negative"] = round(float((p_neg[neutral] >= 0.5).mean()), 4)
            fig["neutral_kept_neutral"] = round(float(((p_neg[neutral] < 0.5) & (p_pos[neutral] < 0.5)).mean()), 4)
        out[name] = fig
    return out


KEPT = "<!-- kept across retraining -->"


def write_card(model: LinearModel, path: Path, model_path: Path | None = None) -> Path:
    """The model card: what it was trained on, when, and how it measured.

    Anything below the KEPT marker in an existing card (benchmark notes) survives retraining.
    """
    m = model.meta
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if KEPT in old:
            kept = old[old.index(KEPT):]
    lines = [
        "# yuqing sentiment model — model card",
        "",
        f"- File: `{(model_path or path.with_suffix('.npz')).name}` ({m['format']}), trained {m['created']} "
        f"with seed {m['seed']}.",
        "- Task: three classes (negative / neutral / positive) with `negative_prob`, for Chinese social-media",
        "  posts and local news about a county or district. Negative means the post complains, accuses or",
        "  despairs; a neutral notice about a water cut is not negative.",
        f"- Model: two logistic heads (NB-LR) over {m['features']}; {m['buckets']} buckets, float16 weights.",
        "  Inference needs numpy and jieba only: no corpora, no network, no scikit-learn.",
        "",
        "## Training data",
        "",
        "| source | file | trained on | held out |",
        "|---|---|---|---|",
    ]
    for name, s in m["sources"].items():
        lines.append(f"| {name} | {s['file'] or '(generated / store)'} | {s['train']} | {s['dev']} |")
    lines += [
        "",
        "weibo2018: Sina Weibo posts 2018, hand-labelled (dengxiuqi/WeiboSentiment, research corpus). smp2020:",
        "SMP2020-EWECT COVID-19 Weibo posts (happy -> positive, neural -> neutral, angry/sad/fear -> negative,",
        "surprise dropped). chnsenticorp (hotel reviews) and waimai_10k (food-delivery reviews) at low weight.",
        "notices / services: neutral official sentences, and residents' complaints and thanks about public services;",
        "enquiries: residents' plain questions and suggestions (neutral); incidents: reports of pollution, accidents,",
        "fires, disasters, wage arrears and dangerous places (negative); thanks: praise after trouble (positive).",
        "All generated from the project's own templates (yuqing/analysis/notices.py), never from evaluation text.",
        "corrections: analysts' corrected labels from the store, when trained with `--store`.",
        "No text is shipped: only hashed feature weights.",
        "",
        f"## Measured on the held-out split ({m['dev_split']})",
        "",
        "| dev set | accuracy (negative vs not) | macro-F1 | n | neutral flagged negative |",
        "|---|---|---|---|---|",
    ]
    for name, f in m["dev"].items():
        lines.append(f"| {name} | {f['accuracy']} | {f['macro_f1']} | {f['n']} | {f.get('neutral_flagged_negative', '')} |")
    lines += [
        "",
        "Compare with SnowNLP and on the hand-written neutral notices: `python bench/analysis.py`.",
        "",
        "## Limits",
        "",
        "- Sarcasm and irony (阴阳怪气) are often read literally.",
        "- Incident reports (pollution, accidents, fires, wage arrears) learn from generated templates only: no",
        "  corpus labels such reports, so an incident worded far from the templates may still be missed.",
        "- Plain questions that mention prices or everyday troubles (一碗多少钱, 堵了半小时) can still read",
        "  as complaints; a question that is really a complaint (什么时候才能修好？) is meant to read negative.",
        "- About 0.86 on held-out Weibo is near this corpus's ceiling: published NB, SVM, LSTM and BERT",
        "  classifiers score 0.856-0.870 on its own test set, and of the 16 dev posts the model gets most",
        "  confidently wrong, about 7 are mislabelled (insults labelled positive, praise labelled negative).",
        "- Weibo 2018 labels are binary, so \"positive\" there includes plain chatter; the neutral class",
        "  learns from SMP2020 and generated notices only.",
        "- Retrain after analysts have corrected a few hundred posts: `yuqing train-sentiment --store`.",
        "",
    ]
    path.write_text("\n".join(lines) + ("\n" + kept if kept else ""), encoding="utf-8")
    return path
