"""The one text normaliser every stage uses: traditional -> simplified by OpenCC, whitespace.

OpenCC's ``t2s`` configuration is used, not ``tw2s``/``tw2sp``: those also swap regional words and
characters (显著 -> 显着, 新增 -> 添加), rewriting what a mainland writer typed correctly. ``t2s``
maps only characters and phrases that are traditional, so simplified text comes back unchanged
(其余, 网络覆盖, 一片狼藉, 著作权 stay as written).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Protocol

logger = logging.getLogger(__name__)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_HSPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2002\u2003\u2009]+")
_MANY_LINES = re.compile(r"\n\s*\n+")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


_lock = threading.Lock()
_converter: _Converter | None = None
_loaded = False


def _opencc() -> _Converter | None:
    """One OpenCC converter per process, loaded on first use (its dictionaries take ~0.1 s)."""
    global _converter, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    import opencc

                    _converter = opencc.OpenCC("t2s")
                except (ImportError, OSError, RuntimeError) as exc:  # no package or dictionaries: keep text
                    logger.warning("OpenCC unavailable (%s): traditional characters are kept as written", exc)
                    _converter = None
                _loaded = True
    return _converter


def to_simplified(text: str) -> str:
    """Traditional -> simplified (頭髮 -> 头发, 乾燥 -> 干燥, 乾隆 stays); simplified text unchanged."""
    if not text or text.isascii():
        return text
    converter = _opencc()
    if converter is None:
        return text
    return converter.convert(text)


def normalize_space(text: str) -> str:
    """One space between words, one blank-free newline between paragraphs, no zero-width marks."""
    if not text:
        return ""
    text = _ZERO_WIDTH.sub("", text)
    lines = [_HSPACE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _MANY_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def columns(text: str) -> int:
    """How many terminal columns `text` takes: a Chinese character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns, so a table of titles like 清溪问政 lines up."""
    return text + " " * max(width - columns(text), 0)
