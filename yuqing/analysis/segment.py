"""jieba, loaded once per process, with the locality's names and the user dictionary added.

Search: posts are indexed with `cut_for_search` (a long word is indexed together with the shorter
words inside it) and queries are cut with the plain mode, so a 2-character query such as 停水 hits
小区停水三天 as well as 停水. The process that indexes (the daemon's analysis) may know words the
process that queries (the web app) does not, such as place names; the index's character column
(`chars_for_index`) makes a query that occurs verbatim hit whatever the two dictionaries were. One
tokenizer per process: a second jieba dictionary would cost about 70 MB.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_tokenizer = None
_added: set[str] = set()
_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


def _new_tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def tokenizer() -> Any:  # a jieba.Tokenizer (jieba has no type hints)
    """The process-wide jieba Tokenizer, initialised on first use (about a second)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _new_tokenizer()
    return _tokenizer


def add_words(words: Iterable[str], freq: int = 20000) -> None:
    """Teach jieba words it must keep whole (place names, local terms)."""
    tok = tokenizer()
    for word in words:
        word = word.strip()
        if word and word not in _added:
            tok.add_word(word, freq=freq)
            _added.add(word)


def load_userdict(path: str | Path) -> None:
    """Lines of `word [freq [tag]]`; blank lines and # comments are skipped."""
    path = Path(path)
    if not path.exists():
        logger.warning("user dictionary %s not found; skipped", path)
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 20000
        add_words([parts[0]], freq=freq)


def load_wordlist(path: str | Path) -> set[str]:
    """One word per line; blank lines and # comments skipped. A missing file is an empty list."""
    path = Path(path)
    if not path.exists():
        logger.warning("word list %s not found; skipped", path)
        return set()
    words = set()
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.split()[0])
    return words


_stopwords: frozenset[str] | None = None


def default_stopwords() -> frozenset[str]:
    """The stopwords shipped in the package (yuqing/data/stopwords.txt)."""
    global _stopwords
    if _stopwords is None:
        _stopwords = frozenset(load_wordlist(Path(__file__).resolve().parent.parent / "data" / "stopwords.txt"))
    return _stopwords


def is_word(token: str) -> bool:
    """True for a token with a letter, digit or Chinese character (not punctuation or space)."""
    return bool(_WORD.search(token))


def cut(text: str) -> list[str]:
    """Words of `text`, punctuation and spaces dropped."""
    return [w for w in tokenizer().lcut(text) if _WORD.search(w)]


def cut_for_index(text: str) -> str:
    """Space-joined search-mode tokens, what the full-text index stores."""
    return " ".join(w for w in tokenizer().lcut_for_search(text, HMM=False) if _WORD.search(w))


_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CHAR_TOKENS = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def chars_for_index(text: str) -> str:
    """Each Chinese character as a token (other words whole): the exact-substring column."""
    return " ".join(_CHAR_TOKENS.findall(text.lower()))


def fts_query(query: str) -> str:
    """A user's query as an FTS5 expression over posts_fts(words, chars).

    Each space-separated part must match, either by its jieba words (all present, in any order:
    芦山停水 finds a post about 停水 in 芦山县) or verbatim by its characters (飞仙关 finds
    飞仙关镇 even though jieba cuts that as 飞/仙/关镇).
    """
    terms = []
    for chunk in query.split():
        words = [w for w in tokenizer().lcut(chunk, HMM=False) if _WORD.search(w)]
        chars = chars_for_index(chunk)
        if not words or not chars:
            continue
        by_words = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        terms.append(f'(words : ({by_words}) OR chars : "{chars.replace(chr(34), "")}")')
    return " AND ".join(terms)
