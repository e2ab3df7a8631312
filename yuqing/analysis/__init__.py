"""Text analysis: segmentation, keywords, topics, sentiment and events.

`from yuqing.analysis import analyze_text` is cheap: jieba, numpy and the model load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yuqing.settings import Settings

__all__ = ["analyze_text"]


def analyze_text(text: str, settings: Settings | None = None) -> dict[str, Any]:
    """label, negative_prob, topics, topic_terms, keywords of one text (the `classify` shape).

    With no settings, the embedded defaults are used: the shipped model and taxonomy, no locality.
    """
    from yuqing.analysis.analyzer import analyze_text as _analyze

    return _analyze(text, settings)
