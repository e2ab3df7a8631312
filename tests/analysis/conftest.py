"""Helpers for the analysis tests: the hand-written evaluation sentences."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def lines(name: str) -> list[str]:
    text = (HERE / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
