"""Analysts' corrections as training rows: the latest sentiment label given to each post."""

from __future__ import annotations

from typing import Any

LABELS = ("negative", "neutral", "positive")


def latest_labels(conn: Any) -> list[tuple[int, str, str]]:
    """(post_id, title + text, label) for each corrected post, by its most recent sentiment correction.

    A correction that only changed topics (label NULL) does not hide an earlier label; a label
    outside the three classes is skipped.
    """
    rows = conn.execute(
        """
        SELECT p.id, p.title, p.text, c.label FROM corrections c JOIN posts p ON p.id = c.post_id
        WHERE c.id = (SELECT max(c2.id) FROM corrections c2 WHERE c2.post_id = c.post_id AND c2.label IS NOT NULL)
        ORDER BY p.id
        """
    ).fetchall()
    out = []
    for post_id, title, text, label in rows:
        body = f"{title or ''}\n{text or ''}".strip()
        if body and label in LABELS:
            out.append((int(post_id), body, str(label)))
    return out
