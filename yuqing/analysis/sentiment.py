"""Sentiment backends: the shipped domain model (numpy only) and SnowNLP (the baseline).

The domain model is two logistic heads over the hashed character n-grams of `features.py` (it
reads characters, not words: it needs no segmentation, and ignores the words it is given):
  head 0  P(negative | text)                      -> negative_prob, the figure alerts count on
  head 1  P(positive | text, not negative)        -> splits the rest into positive and neutral
Weights are stored already multiplied by the naive-Bayes log-count ratios they were trained on
(NB-LR), so inference is one gather-and-sum per head. The file is a compressed .npz of numbers:
no vocabulary, no training text.
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
FORMAT = "yuqing-sentiment/2"  # /1 read hashed words: its weights mean nothing to /2 features


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


class LinearModel:
    """The domain model: numpy arrays loaded from an .npz written by `yuqing train-sentiment`."""

    name = "model"

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: dict[str, Any]) -> None:
        if weights.ndim != 2 or weights.shape[1] != 2 or bias.shape != (2,):
            raise ValueError(f"expected weights of shape (buckets, 2) and bias (2,), got {weights.shape} and {bias.shape}")
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = bias.astype(np.float64)
        self.meta = meta
        self.buckets = int(weights.shape[0])

    @classmethod
    def load(cls, path: str | Path | None = None) -> "LinearModel":
        path = Path(path) if path else DEFAULT_MODEL
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
                return cls(data["weights"], data["bias"], meta)
        except FileNotFoundError:
            raise ConfigError("analysis.model", f"sentiment model not found: {path}") from None
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ConfigError("analysis.model", f"{path} is not a yuqing sentiment model: {exc}") from None

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, format=FORMAT)
        with path.open("wb") as fh:
            np.savez_compressed(fh, weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float64),
                                meta=np.array(json.dumps(meta, ensure_ascii=False)))
        return path

    def indices(self, text: str) -> np.ndarray:
        """The buckets of a normalised text's features."""
        return features.feature_ids(text, self.buckets)

    def logits(self, text: str, words: Sequence[str] = ()) -> tuple[float, float]:
        idx = self.indices(text)
        if idx.size == 0:
            return float(self.bias[0]), float(self.bias[1])
        z = self.weights[idx].sum(axis=0, dtype=np.float64) + self.bias
        return float(z[0]), float(z[1])

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
