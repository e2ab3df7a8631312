"""Text helpers the spiders and pipelines share: HTML -> clean text (traditional -> simplified and
whitespace come from yuqing.text), canonical URLs, and decoding bytes whose encoding the site did not declare.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from yuqing.crawlers.encoding import declared_encoding, decode_body
from yuqing.text import normalize_space, to_simplified

__all__ = ["declared_encoding", "decode_body", "normalize_space", "to_simplified"]  # re-exported: spiders and tests import them from here

logger = logging.getLogger(__name__)

# -- HTML -> text ------------------------------------------------------------------------------
_DROP_TAGS = ("script", "style", "iframe", "noscript", "template", "svg", "object", "head")
_DROP = frozenset(_DROP_TAGS)
# <embed> is void, but libxml2 parses what follows it as its children; an <object> left open does
# the same. Both are walked through then, so the text after them is kept; a closed <object>'s own
# content is the "your browser cannot show this" fallback, and goes.
_DROP_OPEN_OBJECT = _DROP - {"object"}
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "blockquote", "pre", "header", "footer", "dd", "dt", "hr", "figure",
}
_TAG_HINT = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
# Lines that are site furniture rather than what someone wrote.
_BOILERPLATE = re.compile(
    r"^(分享到[:：]?.*|返回顶部|展开全文|收起全文|全文|网页链接|点击查看更多.*|阅读原文|"
    r"【?打印】?\s*【?关闭】?|责任编辑[:：].*|(本文)?来源[:：]\s*$|扫一扫.*|相关阅读[:：]?|上一篇[:：].*|下一篇[:：].*)$"
)


def has_markup(text: str) -> bool:
    return bool(_TAG_HINT.search(text))


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment: scripts, styles and iframes dropped, images by their alt
    text (Weibo writes emoticons as <img alt="[哭]">), blocks on their own lines."""
    if not fragment or not has_markup(fragment):
        return fragment or ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    parts: list[str] = []
    lower = fragment.lower()
    unclosed = lower.count("<object") > lower.count("</object")
    _walk(root, parts, _DROP_OPEN_OBJECT if unclosed else _DROP)
    return "".join(parts)


def _walk(node: etree._Element, out: list[str], drop: frozenset[str] = _DROP) -> None:
    """Text under `node` (not its tail); scripts, styles, iframes and comments give nothing."""
    tag = node.tag if isinstance(node.tag, str) else None
    if tag is None or tag in drop:
        return
    if tag == "img":
        alt = node.get("alt") or ""
        if alt:
            out.append(alt)
        return
    block = tag in _BLOCK_TAGS
    if block:
        out.append("\n")
    if node.text:
        out.append(node.text)
    for child in node:
        _walk(child, out, drop)
        if child.tail:
            out.append(child.tail)
    if block:
        out.append("\n")


def clean_text(value: str) -> str:
    """HTML or plain text -> normalised plain text without site furniture."""
    if not value:
        return ""
    text = html_to_text(value) if has_markup(value) else value
    text = html.unescape(text) if "&" in text else text
    lines = [line for line in normalize_space(text).split("\n") if not _BOILERPLATE.match(line)]
    return "\n".join(lines)


def element_text(node: object) -> str:
    """Text of a parsel/lxml result: a string as is, an element as its visible text."""
    if isinstance(node, str):
        return node
    parts: list[str] = []
    _walk(node, parts)
    return "".join(parts)


# -- URLs --------------------------------------------------------------------------------------
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|refer_flag|share_token|sharer?_?\w*|wfr|isappinstalled|vd_source|"
    r"fbclid|gclid|mc_cid|mc_eid|_hsenc|_hsmi|scene|srcid|timestamp|tn|ivk_sa|wxshare_\w+)$",
    re.I,
)


def canonical_url(url: str) -> str:
    """The same post under one URL: lower-case scheme/host, no default port, no fragment, tracking
    parameters dropped, the rest sorted."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port and (scheme, parts.port) not in (("http", 80), ("https", 443)) else None
    netloc = f"{host}:{port}" if port else host
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


# -- decoding: yuqing.crawlers.encoding (re-exported here for the spiders) ------------------


def looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "<rss" not in head)
