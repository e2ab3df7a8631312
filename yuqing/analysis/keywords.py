"""Keywords by TF-IDF over words already cut, with jieba's own IDF table.

jieba.analyse would cut the text a second time; taking the words the pipeline already has and
jieba's idf.txt (read once) gives the same ranking at a fraction of the cost.
"""

from __future__ import annotations

import logging
import re
import statistics
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_idf: dict[str, float] | None = None
_median = 10.0
_NUMERIC = re.compile(r"^[\d.%,:/+-]+$")
_HAS_CJK_OR_ALPHA = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table and its median (the weight of a word it has never seen)."""
    global _idf, _median
    if _idf is None:
        with _lock:
            if _idf is None:
                import jieba.analyse  # noqa: F401 - only to locate the file shipped with jieba

                path = Path(jieba.analyse.__file__).resolve().parent / "idf.txt"
                table: dict[str, float] = {}
                with path.open(encoding="utf-8") as fh:
                    for line in fh:
                        word, _, value = line.rstrip("\n").rpartition(" ")
                        if word:
                            table[word] = float(value)
                _median = statistics.median(table.values()) if table else 10.0
                _idf = table
    return _idf, _median


def candidate(word: str, stopwords: frozenset[str] | set[str]) -> bool:
    """A word worth ranking: two characters or more, not a number, not a stopword."""
    return len(word) >= 2 and word not in stopwords and not _NUMERIC.match(word) and bool(_HAS_CJK_OR_ALPHA.search(word))


def weights(words: Iterable[str], stopwords: frozenset[str] | set[str]) -> dict[str, float]:
    """TF-IDF weight of every candidate word (term frequency normalised by the word count)."""
    idf, median = idf_table()
    counts: dict[str, int] = {}
    total = 0
    for word in words:
        total += 1
        if candidate(word, stopwords):
            counts[word] = counts.get(word, 0) + 1
    if not counts:
        return {}
    return {w: c / total * idf.get(w, median) for w, c in counts.items()}


def top(scored: dict[str, float], k: int, exclude: Sequence[str] = ()) -> list[str]:
    """The k best words, highest weight first (ties by word, so the result is stable)."""
    banned = set(exclude)
    ranked = sorted((item for item in scored.items() if item[0] not in banned), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:k]]


def extract(words: Iterable[str], k: int = 8, stopwords: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Top-k keywords of already-cut words."""
    return top(weights(words, stopwords), k)
