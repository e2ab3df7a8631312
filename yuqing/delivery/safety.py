"""What goes into a message from a post: only http(s) links, and no invisible characters.

Shared by the alert email and the digest email (and their plain-text parts), so both filter links
and show bidi overrides the same way.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def safe_url(url: object) -> str | None:
    """Only http(s) links from a post are clickable: javascript: and data: URLs stay plain text."""
    if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def visible(text: object) -> str:
    """Post text with bidi overrides and control characters shown as escapes (\\u202e), so a
    reversed or hidden title cannot disguise itself in a mail reader."""
    out = []
    for ch in str(text or ""):
        if ch in "\n\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def visible_all(value: Any) -> Any:
    """`visible` applied to every string inside dicts and lists (a digest's data, before a mail)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {k: visible_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible_all(v) for v in value]
    return value
