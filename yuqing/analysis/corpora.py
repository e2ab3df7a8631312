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
    "smp2020_usual": "smp2020_usual_train0.csv",
    "osm2022": "osm2022_train_review.txt",
    "nlpcc2014": "nlpcc2014_weibo_emotion.xml",
    "thucnews": "thucnews_headlines_dev.txt",
    "zhihu": "zhihu_question_titles.md",
    "chnsenticorp": "chnsenticorp_htl_all.csv",
    "waimai": "waimai_10k.csv",
}
# Corpora whose every row is neutral by construction (news headlines, information-seeking questions).
NEUTRAL_ONLY = ("thucnews", "zhihu")
# NLPCC 2014 weibo-level emotions -> our classes; surprise dropped as for SMP2020.
NLPCC_LABELS = {"none": "neutral", "like": "positive", "happiness": "positive", "disgust": "negative",
                "sadness": "negative", "anger": "negative", "fear": "negative"}
# THUCNews topics kept as neutral: society (5) and politics (6) hold accidents and crimes that
# 负面舆情 should catch, and no label says which, so they are left out of training and of the check.
THUCNEWS_NEUTRAL = {"0", "1", "2", "3", "4", "7", "8", "9"}


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


def read_smp2020_usual(path: Path) -> Iterator[Example]:
    """SMP2020's general-domain posts (`type == usual`) from both files of its 5-fold split."""
    for part in (path, path.with_name(path.name.replace("train0", "dev0"))):
        if not part.exists():
            continue
        with part.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                label = SMP_LABELS.get(row.get("labels") or "")
                text = (row.get("content") or "").strip()
                if row.get("type") == "usual" and label and text:
                    yield Example(text, label, "smp2020_usual")


def read_osm2022(path: Path) -> Iterator[Example]:
    """Comments on local incidents: 0 supportive -> positive; weak negative, anger, anxiety -> negative."""
    labels = path.with_name(path.name.replace("review", "label"))
    if not labels.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as texts, labels.open(encoding="utf-8") as marks:
        for line, mark in zip(texts, marks, strict=False):
            text = "".join(line.split())  # the review text is word-segmented: join the tokens
            mark = mark.strip()
            if text and mark in ("0", "1", "2", "3"):
                yield Example(text, "positive" if mark == "0" else "negative", "osm2022")


def read_nlpcc2014(path: Path) -> Iterator[Example]:
    import xml.etree.ElementTree as ET

    for weibo in ET.parse(path).getroot().iter("weibo"):
        label = NLPCC_LABELS.get(weibo.get("emotion-type1") or "")
        text = "".join((s.text or "").strip() for s in weibo.iter("sentence"))
        if label and text:
            yield Example(text, label, "nlpcc2014")


def read_thucnews(path: Path) -> Iterator[Example]:
    for part in (path, path.with_name(path.name.replace("_dev", "_test"))):
        if not part.exists():
            continue
        for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
            title, _, cls = line.rpartition("\t")
            if title.strip() and cls.strip() in THUCNEWS_NEUTRAL:
                yield Example(title.strip(), "neutral", "thucnews")


def read_zhihu(path: Path) -> Iterator[Example]:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        cells = line.split("|")
        if len(cells) >= 4 and cells[1].startswith("http") and cells[2].strip():
            yield Example(cells[2].strip(), "neutral", "zhihu")


def read_corpus(data_dir: Path, name: str) -> list[Example]:
    path = data_dir / FILES[name]
    if not path.exists():
        return []
    readers = {"weibo2018": read_weibo2018, "smp2020": read_smp2020, "smp2020_usual": read_smp2020_usual,
               "osm2022": read_osm2022, "nlpcc2014": read_nlpcc2014, "thucnews": read_thucnews, "zhihu": read_zhihu}
    try:
        if name in readers:
            return list(readers[name](path))
        return list(read_review_csv(path, name))
    except (OSError, ValueError, SyntaxError) as exc:  # ET.ParseError is a SyntaxError
        logger.warning("%s unreadable, skipped: %s", path, exc)
        return []


def load_all(data_dir: Path) -> dict[str, list[Example]]:
    """Every corpus found in `data_dir` (missing files are simply absent from the result)."""
    found = {name: read_corpus(data_dir, name) for name in FILES}
    return {name: rows for name, rows in found.items() if rows}


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, dev) by the text's checksum."""
    train: list[Example] = []
    dev: list[Example] = []
    for ex in examples:
        (dev if is_dev(ex.text) else train).append(ex)
    return train, dev
