"""Field retraining: the model in use plus the analysts' corrections, numpy only.

A field install has no corpora and no scikit-learn, so the retrain is a warm start: both heads
are refitted on the corrections by gradient descent, with an L2 pull towards the current weights
(a Gaussian prior centred on the model in use). The corrections move the buckets their posts
touch; everything the model learned from the corpora stays where it was unless a correction
argues with it.

Each retrain is measured before it is kept: the corrections whose text falls in the dev split
(the same CRC-32 rule as the corpora) are never trained on and score the old model and the new
one, three classes; any corpus dev set found (optional) scores negative-vs-not. A drop of more
than MAX_DROP on any dev set refuses the retrain unless forced. The previous model is kept beside
the new one (`*.previous.npz`) for `--rollback`; files are replaced atomically so a running
daemon never reads half a model.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from yuqing.analysis import calibration, corpora, features
from yuqing.analysis.corpora import Example
from yuqing.analysis.sentiment import LinearModel
from yuqing.errors import YuqingError

logger = logging.getLogger(__name__)

MAX_DROP = 0.01  # a retrain losing more than one point of dev accuracy anywhere is refused
CORRECTION_WEIGHT = 3.0  # as in training.py: an analyst's label outweighs a corpus row
PRIOR = 1.0  # L2 precision of the pull towards the current weights
STEPS = 400


@dataclass
class Outcome:
    model: LinearModel
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    trained: int
    held_out: int
    drops: list[str] = field(default_factory=list)  # "set: before -> after" for each set that fell


def previous_path(path: Path) -> Path:
    return path.with_name(path.stem + ".previous" + path.suffix)


def _matrix(texts: Sequence[str], buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(row of each feature, bucket of each feature) of binary hashed features."""
    ids = [features.feature_ids(features.normalize(t[:20_000]), buckets) for t in texts]
    rows = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    cols = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    return rows, cols


def _logits(w: np.ndarray, b: float, rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows, weights=w[cols], minlength=n) + b


def _fit_head(w0: np.ndarray, b0: float, rows: np.ndarray, cols: np.ndarray, y: np.ndarray,
              scale: float = 1.0, offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weighted logistic loss + PRIOR/2 |w - w0|^2 over the touched buckets, by Adam (deterministic).

    The logit is scale·(x·w + b) + offset: head A inside the stack, whose other part (head B, left
    as it is) is a fixed offset per post.
    """
    n = len(y)
    off = np.zeros(n) if offset is None else offset
    touched, local = np.unique(cols, return_inverse=True)
    w = w0[touched].astype(np.float64).copy()
    start = w.copy()
    b = float(b0)
    m = np.zeros(len(w) + 1)
    v = np.zeros(len(w) + 1)
    lr, beta1, beta2 = 0.05, 0.9, 0.999
    for t in range(1, STEPS + 1):
        z = scale * (np.bincount(rows, weights=w[local], minlength=n) + b) + off
        err = CORRECTION_WEIGHT * scale * (calibration.sigmoid(z) - y)
        g = np.append(np.bincount(local, weights=err[rows], minlength=len(w)) + PRIOR * (w - start),
                      err.sum() + PRIOR * (b - b0))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + 1e-8)
        w -= step[:-1]
        b -= float(step[-1])
    out = w0.copy()
    out[touched] = w.astype(np.float32)
    return out, b


def three_class(model: LinearModel, texts: Sequence[str], threshold: float = 0.5) -> list[str]:
    return [model.predict(features.normalize(t[:20_000]), (), threshold).label for t in texts]


def score(model: LinearModel, dev: dict[str, list[Example]]) -> dict[str, dict[str, float]]:
    """Accuracy per dev set: three classes on corrections, negative-vs-not on corpora."""
    out: dict[str, dict[str, float]] = {}
    for name, rows in dev.items():
        if not rows:
            continue
        predicted = three_class(model, [ex.text for ex in rows])
        if name == "corrections":
            right = sum(p == ex.label for p, ex in zip(predicted, rows, strict=True))
        else:
            right = sum((p == "negative") == (ex.label == "negative") for p, ex in zip(predicted, rows, strict=True))
        out[name] = {"accuracy": round(right / len(rows), 4), "n": len(rows)}
    return out


def retrain(current: LinearModel, fixes: list[Example], corpus_dev: dict[str, list[Example]] | None = None) -> Outcome:
    """A new model from `current` and the corrections; measured, not saved."""
    if not fixes:
        raise YuqingError("no analysts' corrections in the store: correct some posts' sentiment in the web app first")
    train_rows = [ex for ex in fixes if not corpora.is_dev(ex.text)]
    dev_rows = [ex for ex in fixes if corpora.is_dev(ex.text)]
    if not train_rows:
        raise YuqingError(f"all {len(fixes)} corrections fall in the dev split (held out to measure the retrain): "
                          "correct a few more posts and retrain")
    dev = {"corrections": dev_rows, **(corpus_dev or {})}
    weights = current.weights.copy()
    bias = current.bias.copy()
    rows, cols = _matrix([ex.text for ex in train_rows], current.buckets)
    labels = np.array([ex.label for ex in train_rows])
    # only head A moves: head B and the stacker stay as trained on the corpora
    s_a, s_b, c, _ = current.stack
    offset = np.array([s_b * current.parts(current.indices(features.normalize(ex.text[:20_000])))[1] + c
                       for ex in train_rows])
    weights[:, 0], bias[0] = _fit_head(weights[:, 0], bias[0], rows, cols, (labels == "negative").astype(float),
                                       float(s_a), offset)
    keep = labels != "negative"
    if keep.any():
        sub = np.flatnonzero(keep)
        remap = -np.ones(len(labels), dtype=np.int64)
        remap[sub] = np.arange(len(sub))
        mask = keep[rows]
        weights[:, 1], bias[1] = _fit_head(weights[:, 1], bias[1], remap[rows[mask]], cols[mask],
                                           (labels[sub] == "positive").astype(float))
    before = score(current, dev)
    model = current.with_heads(weights, bias)
    after = score(model, dev)
    drops = [f"{name}: {before[name]['accuracy']:.4f} -> {after[name]['accuracy']:.4f} (n={after[name]['n']})"
             for name in after if after[name]["accuracy"] < before[name]["accuracy"] - MAX_DROP]
    return Outcome(model, before, after, len(train_rows), len(dev_rows), drops)


def record(outcome: Outcome, forced: bool) -> None:
    """Append this retrain's figures to the model's own history (rendered into its card)."""
    history = list(outcome.model.meta.get("retrains", []))
    history.append({"at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "corrections_trained": outcome.trained, "corrections_held_out": outcome.held_out,
                    "before": outcome.before, "after": outcome.after, "forced": forced})
    outcome.model.meta = dict(outcome.model.meta, retrains=history)


def install(model: LinearModel, target: Path, source: Path) -> Path:
    """Write `model` at `target` atomically, keeping the model it replaces (or `source`) as previous."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    model.save(tmp)
    prev = previous_path(target)
    keep_from = target if target.exists() else source
    shutil.copy2(keep_from, prev.with_name(prev.name + ".tmp"))
    os.replace(prev.with_name(prev.name + ".tmp"), prev)
    _copy_card(card_path(keep_from), card_path(prev))
    os.replace(tmp, target)
    return target


def rollback(target: Path) -> Path:
    """Swap the model at `target` with its previous one (so a second rollback undoes the first)."""
    prev = previous_path(target)
    if not prev.exists():
        raise YuqingError(f"no previous model to roll back to ({prev} does not exist)")
    LinearModel.load(prev)  # refuse to install a file that is not a model
    swap = target.with_name(target.name + ".swap")
    if target.exists():
        shutil.copy2(target, swap)
    shutil.copy2(prev, target.with_name(target.name + ".tmp"))
    os.replace(target.with_name(target.name + ".tmp"), target)
    old_card, prev_card = card_path(target), card_path(prev)
    card_text = old_card.read_text(encoding="utf-8") if old_card.exists() else None
    _copy_card(prev_card, old_card)
    if swap.exists():
        os.replace(swap, prev)
        if card_text is not None:
            prev_card.write_text(card_text, encoding="utf-8")
    return target


def card_path(model_path: Path) -> Path:
    from yuqing.analysis.sentiment import DEFAULT_MODEL

    if model_path.resolve() == DEFAULT_MODEL.resolve():
        return model_path.with_name("MODEL_CARD.md")
    return model_path.with_suffix(".md")


def _copy_card(src: Path, dst: Path) -> None:
    if src.exists():
        dst.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")


def describe(outcome: Outcome) -> list[str]:
    lines = [f"corrections: {outcome.trained} trained on, {outcome.held_out} held out for dev"]
    if not outcome.after:
        lines.append("no held-out corrections and no corpus dev set yet: this retrain is not measured")
    for name in outcome.after:
        b, a = outcome.before[name], outcome.after[name]
        lines.append(f"dev {name} (n={a['n']}): accuracy {b['accuracy']:.4f} -> {a['accuracy']:.4f}")
    return lines


def corpus_dev_sets(data_dir: Path | None) -> dict[str, list[Example]]:
    """Dev splits of whatever corpora are found (none in a field install)."""
    if data_dir is None or not data_dir.is_dir():
        return {}
    return {name: corpora.split(rows)[1] for name, rows in corpora.load_all(data_dir).items()}


def history_lines(meta: dict[str, Any]) -> list[str]:
    """The card's section on field retraining."""
    history = meta.get("retrains") or []
    if not history:
        return []
    lines = ["### Retrains", "",
             "| when | corrections trained / held out | dev set | accuracy before | after | forced |",
             "|---|---|---|---|---|---|"]
    for h in history:
        for name, after in h["after"].items():
            before = h["before"].get(name, {})
            lines.append(f"| {h['at']} | {h['corrections_trained']} / {h['corrections_held_out']} | {name} (n={after['n']}) "
                         f"| {before.get('accuracy', '')} | {after['accuracy']} | {'yes' if h['forced'] else 'no'} |")
        if not h["after"]:
            lines.append(f"| {h['at']} | {h['corrections_trained']} / {h['corrections_held_out']} | (no dev rows) | | | "
                         f"{'yes' if h['forced'] else 'no'} |")
    return lines + [""]
