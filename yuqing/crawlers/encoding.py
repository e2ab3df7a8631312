"""Decoding bytes whose encoding the site did not declare, or declared wrongly.

Order: a byte-order mark (UTF-32's before UTF-16's: the UTF-32LE mark begins with the UTF-16LE
one), then the zero-byte pattern of UTF-16/UTF-32 without a mark (XML 1.0 appendix F), then a
declaration that actually decodes (one naming UTF-16/32 over bytes without zeros is a lie: they
are UTF-8 or a legacy code), then UTF-8, then a judgement between the legacy East Asian codes.

The judgement matters because the Chinese codes accept almost any byte pair: Japanese EUC-JP and
Korean EUC-KR decoded as GB18030 give plausible, wrong Chinese. Real Japanese text is full of kana,
real Korean text of a few very common Hangul syllables; bytes decoded with the wrong codec are
not, so those tests come first and the Chinese codes are compared by how common their characters are.
"""

from __future__ import annotations

import logging
import re

from yuqing.text import to_simplified

logger = logging.getLogger(__name__)

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([\w.:-]+)[\"']", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_WIDE = re.compile(r"^(utf-?(16|32)|ucs-?(2|4))", re.I)
_GB = frozenset({"gb2312", "gbk", "gb18030", "cp936", "xgbk", "euccn"})
SNIFF_BYTES = 1024
# The most frequent Hangul syllables of running Korean text (particles, endings, common roots):
# in real Korean they make up a third or more of the syllables; in bytes of another code read as
# EUC-KR, hardly any.
_COMMON_HANGUL = frozenset(
    "이다는의에가을고하지기서로한리도사어자인수대들나시를일해전정있으그부보과것주제상요면국장라만게"
    "아우여성위소내원조문화들었니니까습합도록중경동관발생행회개결공교구기업민방법세신실연운입적거"
)


def declared_encoding(body: bytes, header: str | None = None) -> str | None:
    """The charset the HTTP header, the XML declaration or an HTML <meta> names, if any."""
    if header:
        m = _HEADER_CHARSET.search(header)
        if m:
            return m.group(1)
    named = _XML_DECL.match(body[:200]) or _META_CHARSET.search(body[:4096])
    return named.group(1).decode("ascii") if named else None


def sniff_wide(body: bytes) -> str | None:
    """UTF-16/UTF-32 without a byte-order mark, by where the zero bytes of ASCII markup fall."""
    head = body[:SNIFF_BYTES]
    head = head[: len(head) - len(head) % 4]
    if len(head) < 8:
        return None
    zeros = [head[i::4].count(0) / (len(head) // 4) for i in range(4)]
    # a BMP character in UTF-32 always has two zero bytes on the high end
    if zeros[2] > 0.95 and zeros[3] > 0.95 and zeros[0] < 0.5:
        return "utf-32-le"
    if zeros[0] > 0.95 and zeros[1] > 0.95 and zeros[3] < 0.5:
        return "utf-32-be"
    even, odd = (zeros[0] + zeros[2]) / 2, (zeros[1] + zeros[3]) / 2
    # markup is ASCII: one byte of each of its characters is zero, on the high end; Chinese text
    # between the tags has no zero byte (一 U+4E00 aside), and narrow encodings none at all
    if odd > 0.1 and even < odd / 4:
        return "utf-16-le"
    if even > 0.1 and odd < even / 4:
        return "utf-16-be"
    # mostly Chinese, a few ASCII characters: few zero bytes (and 一, U+4E00, has one too), in bytes
    # that are not UTF-8. The right byte order reads as Chinese and ASCII; the wrong one scatters
    # the characters over unrelated blocks.
    if head.count(0) >= 4 and _decoded(body, "utf-8") is None:
        scored = [(_plausible(text), name) for name in ("utf-16-le", "utf-16-be")
                  if (text := _decoded(head[: len(head) - len(head) % 2], name)) is not None]
        if scored:
            score, name = max(scored)
            if score >= 0.9:
                return name
    return None


def _plausible(text: str) -> float:
    """Share of characters a Chinese page is made of: ASCII, CJK ideographs, CJK and full-width punctuation."""
    if not text:
        return 0.0
    good = sum(1 for c in text if c.isascii() or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
               or "\uff00" <= c <= "\uffef" or "\u2010" <= c <= "\u2027")
    return good / len(text)


def _share(text: str, test: re.Pattern[str]) -> float:
    wide = [c for c in text if ord(c) > 0x2FFF and not "\uff00" <= c <= "\uffef"]
    if not wide:
        return 0.0
    return sum(1 for c in wide if test.match(c)) / len(wide)


_KANA = re.compile("[\u3041-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7a3]")


def _japanese(text: str) -> float:
    """Share of kana among the wide characters: real Japanese sentences are a third kana or more."""
    if sum(1 for c in text if "\uff61" <= c <= "\uff9f") > len(text) / 10:
        return 0.0  # half-width katakana everywhere: Shift-JIS reading of another code
    return _share(text, _KANA)


def _korean(text: str) -> float:
    hangul = [c for c in text if _HANGUL.match(c)]
    if not hangul or _share(text, _HANGUL) < 0.6:
        return 0.0
    return sum(1 for c in hangul if c in _COMMON_HANGUL) / len(hangul)


def _gb2312_level1_share(text: str) -> float:
    """Share of Han characters among the 3,755 most common (GB2312 level 1): real Chinese text
    scores high, bytes decoded with the wrong codec land on rare characters."""
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 0.0
    common = 0
    for c in han:
        try:
            lead = c.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        common += 0xB0 <= lead <= 0xD7
    return common / len(han)


def _decoded(body: bytes, name: str) -> str | None:
    try:
        return body.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None


def guess_legacy(body: bytes) -> tuple[str, str] | None:
    """(text, encoding) for bytes that are not UTF-8: Japanese, Korean, else the likeliest Chinese."""
    japanese = [(score, name, text) for name in ("euc-jp", "shift_jis")
                if (text := _decoded(body, name)) is not None and (score := _japanese(text)) >= 0.2]
    if japanese:
        _, name, text = max(japanese, key=lambda c: c[0])
        return text, name
    korean = _decoded(body, "euc-kr")
    if korean is not None and _korean(korean) >= 0.25:
        return korean, "euc-kr"
    candidates = []
    for name in ("gb18030", "big5"):
        text = _decoded(body, name)
        if text is not None:
            judged = to_simplified(text) if name == "big5" else text
            candidates.append((_gb2312_level1_share(judged), name, text))
    if candidates:
        _, name, text = max(candidates, key=lambda c: c[0])
        return text, name
    return None


def decode_body(body: bytes, header: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a response body; see the module's docstring for the order of tests."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace"), name
    wide = sniff_wide(body)
    if wide:
        text = _decoded(body, wide)
        if text is not None:
            return text, wide
    declared = declared_encoding(body, header)
    if declared and not _WIDE.match(declared):
        name = "gb18030" if re.sub(r"[-_]", "", declared.lower()) in _GB else declared
        text = _decoded(body, name)
        if text is not None:
            return text, name
        logger.debug("declared %s does not decode; guessing", declared)  # a wrong declaration is common
    text = _decoded(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    guessed = guess_legacy(body)
    if guessed:
        return guessed
    return body.decode("utf-8", errors="replace"), "utf-8"
