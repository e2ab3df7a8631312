"""Sentiment backends: the shipped domain model (numpy only) and SnowNLP (the baseline).

The domain model reads the hashed character n-grams of `features.py` (characters, not words: it
needs no segmentation, and ignores the words it is given). Its heads:
  head 0  P(negative | text)                      -> negative_prob, the figure alerts count on
  head 1  P(positive | text, not negative)        -> splits the rest into positive and neutral
Head 0 is an ensemble of two linear models over the same buckets, stacked:
  A  an NB-LR (weights stored already multiplied by the naive-Bayes log-count ratios), and
  B  a logistic regression over TF-IDF of the same binary features, l2-normalised per post:
     z_B = sum(u[i]) / sqrt(sum(idf[i]^2)) + b_B over the post's buckets i, with u = coef·idf;
  negative logit = s_A·z_A + s_B·z_B + c, the three numbers fitted by a logistic stacker on
  validation rows (which calibrates it too). One gather of a (buckets, 4) table serves all.
In a concession (虽然…但是…, 好是好，就是…) the clause after the turn is scored on its own too,
and when it reads negative it decides (see `features.concession_tail` and CONCESSION_MARGIN).
The file is a compressed .npz of numbers: no vocabulary, no training text. Files of the previous
format (/2: heads A and 1 only, no concession rule) still load and score as they did.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from yuqing.analysis import features
from yuqing.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "sentiment_model.npz"
FORMAT = "yuqing-sentiment/3"  # /3 adds the stacked TF-IDF head and the concession rule
READABLE = ("yuqing-sentiment/2", FORMAT)  # /1 read hashed words: its weights mean nothing now


@dataclass(frozen=True)
class Sentiment:
    label: str
    negative_prob: float
    positive_prob: float


def decide(p_negative: float, p_positive_given_not: float, threshold: float) -> Sentiment:
    """Three classes from the two heads: negative first, then positive vs neutral."""
    p_pos = (1.0 - p_negative) * p_positive_given_not
    if p_negative >= threshold:
        label = "negative"
    elif p_positive_given_not >= 0.5:
        label = "positive"
    else:
        label = "neutral"
    return Sentiment(label, p_negative, p_pos)


class Backend(Protocol):
    name: str

    def predict(self, text: str, words: Sequence[str], threshold: float) -> Sentiment: ...


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# The tail of a concession overrides the whole only when it reads negative on its own with some
# margin (logit 0.5, p 0.62): "房间不错，就是有点小" is a reservation, not a complaint. On the
# validation model a margin of 0 cost hotel reviews 0.6 point, 0.5 cost 0.3 and nothing elsewhere.
CONCESSION_MARGIN = 0.5
NO_STACK = np.array([1.0, 0.0, 0.0, 0.0])  # s_A, s_B, c, b_B of a model with head A alone


class LinearModel:
    """The domain model: numpy arrays loaded from an .npz written by `yuqing train-sentiment`.

    weights: (buckets, 2) heads A and 1; bias: (2,) their biases; second: (buckets, 2) u and idf of
    head B, or None; stack: s_A, s_B, c, b_B.
    """

    name = "model"

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: dict[str, Any],
                 second: np.ndarray | None = None, stack: Sequence[float] | np.ndarray | None = None) -> None:
        if weights.ndim != 2 or weights.shape[1] != 2 or bias.shape != (2,):
            raise ValueError(f"expected weights of shape (buckets, 2) and bias (2,), got {weights.shape} and {bias.shape}")
        if second is not None and second.shape != weights.shape:
            raise ValueError(f"expected the second head of shape {weights.shape}, got {second.shape}")
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = bias.astype(np.float64)
        self.second = None if second is None else np.ascontiguousarray(second, dtype=np.float32)
        self.stack = np.asarray(NO_STACK if stack is None else stack, dtype=np.float64)
        if self.stack.shape != (4,):
            raise ValueError(f"expected 4 stacking numbers, got {self.stack.shape}")
        self.meta = meta
        self.buckets = int(weights.shape[0])
        self.concession = bool(meta.get("concession", False))
        # one gather per post reads every head: A, 1, u, idf side by side
        cols = [self.weights] + ([self.second] if self.second is not None else [])
        self._table = np.ascontiguousarray(np.concatenate(cols, axis=1))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LinearModel:
        path = Path(path) if path else DEFAULT_MODEL
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") not in READABLE:
                    raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
                second = data["second"] if "second" in data.files else None
                stack = data["stack"] if "stack" in data.files else None
                return cls(data["weights"], data["bias"], meta, second, stack)
        except FileNotFoundError:
            raise ConfigError("analysis.model", f"sentiment model not found: {path}") from None
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ConfigError("analysis.model", f"{path} is not a yuqing sentiment model: {exc}") from None

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, format=FORMAT if self.second is not None or self.concession else self.meta.get("format", FORMAT))
        arrays: dict[str, np.ndarray] = {"weights": self.weights.astype(np.float16), "bias": self.bias.astype(np.float64),
                                         "stack": self.stack.astype(np.float64)}
        if self.second is not None:
            arrays["second"] = self.second.astype(np.float16)
        with path.open("wb") as fh:
            # numpy's stub lets **arrays stand for its allow_pickle: bool keyword; every key here is an array's name
            np.savez_compressed(fh, **arrays, meta=np.array(json.dumps(meta, ensure_ascii=False)))  # type: ignore[arg-type]
        return path

    def with_heads(self, weights: np.ndarray, bias: np.ndarray) -> LinearModel:
        """The same model with heads A and 1 replaced (the field retrain refits only those)."""
        return LinearModel(weights, bias, dict(self.meta), self.second, self.stack)

    def indices(self, text: str) -> np.ndarray:
        """The buckets of a normalised text's features."""
        return features.feature_ids(text, self.buckets)

    def parts(self, idx: np.ndarray) -> tuple[float, float, float]:
        """(z_A, z_B, z_1) of a post's buckets: head A's and head B's raw logits, and head 1's."""
        s = self.stack
        if idx.size == 0:
            return float(self.bias[0]), float(s[3]), float(self.bias[1])
        rows = self._table[idx]
        z = rows[:, :3].sum(axis=0, dtype=np.float64) if self.second is not None else rows.sum(axis=0, dtype=np.float64)
        z_b = float(s[3])
        if self.second is not None:
            norm = math.sqrt(float(np.dot(rows[:, 3], rows[:, 3])))
            z_b += float(z[2]) / norm if norm > 0 else 0.0
        return float(z[0] + self.bias[0]), z_b, float(z[1] + self.bias[1])

    def _negative(self, z_a: float, z_b: float) -> float:
        s = self.stack
        return float(s[0] * z_a + s[1] * z_b + s[2])

    def logits(self, text: str, words: Sequence[str] = ()) -> tuple[float, float]:
        """(negative logit, positive-given-not logit) of a normalised text."""
        z_a, z_b, z_pos = self.parts(self.indices(text))
        z_neg = self._negative(z_a, z_b)
        if self.concession:
            tail = features.concession_tail(text)
            if tail is not None:
                t_a, t_b, t_pos = self.parts(self.indices(tail))
                t_neg = self._negative(t_a, t_b)
                if t_neg > max(z_neg, CONCESSION_MARGIN):  # a complaint after the turn decides both heads
                    z_neg, z_pos = t_neg, min(z_pos, t_pos)
        return z_neg, z_pos

    def predict(self, text: str, words: Sequence[str], threshold: float) -> Sentiment:
        if not text.strip():
            return Sentiment("neutral", 0.0, 0.0)
        z_neg, z_pos = self.logits(text)
        return decide(_sigmoid(z_neg), _sigmoid(z_pos), threshold)


class SnowNLPBackend:
    """SnowNLP's sentiment (trained on shopping reviews): P(positive) only, mapped to three classes.

    negative_prob = 1 - P(positive); below the negative threshold, P(positive) >= 0.7 reads as
    positive and the band in between as neutral (SnowNLP has no neutral class of its own).
    """

    name = "snownlp"
    POSITIVE_AT = 0.7

    def __init__(self) -> None:
        from snownlp import sentiment  # seconds to import: only when chosen

        self._classify = sentiment.classify

    def predict(self, text: str, words: Sequence[str], threshold: float) -> Sentiment:
        if not text.strip():
            return Sentiment("neutral", 0.0, 0.0)
        p_pos = float(self._classify(text))
        p_neg = 1.0 - p_pos
        if p_neg >= threshold:
            label = "negative"
        elif p_pos >= self.POSITIVE_AT:
            label = "positive"
        else:
            label = "neutral"
        return Sentiment(label, p_neg, p_pos)


_cache: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()


def backend(kind: str = "model", model_path: str | Path | None = None) -> Backend:
    """The process-wide backend of this kind (loaded once)."""
    key = (kind, str(model_path or ""))
    with _lock:
        if key not in _cache:
            if kind == "snownlp":
                _cache[key] = SnowNLPBackend()
            elif kind == "model":
                _cache[key] = LinearModel.load(model_path)
            else:
                raise ConfigError("analysis.sentiment", f"model or snownlp, got {kind!r}")
        return _cache[key]
