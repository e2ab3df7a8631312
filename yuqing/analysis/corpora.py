"""Readers of the labelled sentiment corpora and the fixed train/dev split.

The corpora live outside the project (../shared/data/sentiment or $YUQING_SHARED_DATA/sentiment);
their text never enters the package. Every reader yields `Example`s with one of our three labels.

The dev split is decided by a CRC-32 of the text, not by a random draw: the same post always lands
on the same side, whatever the seed or the order of the files, so the benchmark can rebuild the
held-out set on its own and a duplicate post cannot sit on both sides.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEV_SHARE = 20  # percent of each corpus held out, never trained on

# SMP2020-EWECT emotions -> our classes. "surprise" is dropped: in these posts it is as often
# alarm as delight, and a wrong guess would teach the model noise.
SMP_LABELS = {"happy": "positive", "neural": "neutral", "angry": "negative", "sad": "negative", "fear": "negative"}

FILES = {
    "weibo2018": "weibo2018_train.txt",
    "smp2020": "smp2020_virus_train.json",
    "chnsenticorp": "chnsenticorp_htl_all.csv",
    "waimai": "waimai_10k.csv",
}


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # negative | neutral | positive
    corpus: str


def default_data_dir() -> Path:
    """$YUQING_SHARED_DATA/sentiment, else ../shared/data/sentiment beside the repository."""
    env = os.environ.get("YUQING_SHARED_DATA")
    if env:
        return Path(env) / "sentiment"
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "sentiment"


def is_dev(text: str) -> bool:
    return zlib.crc32(text.strip().encode("utf-8")) % 100 < DEV_SHARE


def read_weibo2018(path: Path) -> Iterator[Example]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split(",", 2)
            if len(parts) != 3 or parts[1] not in ("0", "1"):
                logger.debug("%s line %d skipped: not mid,label,text", path.name, n)
                continue
            text = parts[2].strip()
            if text:
                yield Example(text, "positive" if parts[1] == "1" else "negative", "weibo2018")


def read_smp2020(path: Path) -> Iterator[Example]:
    for row in json.loads(path.read_text(encoding="utf-8")):
        label = SMP_LABELS.get(str(row.get("label")))
        text = str(row.get("content") or "").strip()
        if label and text:
            yield Example(text, label, "smp2020")


def read_review_csv(path: Path, corpus: str) -> Iterator[Example]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("review") or "").strip()
            if text and row.get("label") in ("0", "1"):
                yield Example(text, "positive" if row["label"] == "1" else "negative", corpus)


def read_corpus(data_dir: Path, name: str) -> list[Example]:
    path = data_dir / FILES[name]
    if not path.exists():
        return []
    if name == "weibo2018":
        return list(read_weibo2018(path))
    if name == "smp2020":
        return list(read_smp2020(path))
    return list(read_review_csv(path, name))


def load_all(data_dir: Path) -> dict[str, list[Example]]:
    """Every corpus found in `data_dir` (missing files are simply absent from the result)."""
    found = {name: read_corpus(data_dir, name) for name in FILES}
    return {name: rows for name, rows in found.items() if rows}


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, dev) by the text's checksum."""
    train, dev = [], []
    for ex in examples:
        (dev if is_dev(ex.text) else train).append(ex)
    return train, dev
