"""One normalisation place: every traditional -> simplified conversion goes through yuqing.text.

The crawlers convert a post's text when it is stored, the sentiment model when it reads it (old
posts and `classify` input were never cleaned): both must be the same converter, or a post would
read one way in the store and another way to the model.
"""

from __future__ import annotations

import re
from pathlib import Path

import yuqing
from yuqing import text as core_text
from yuqing.analysis import features
from yuqing.crawlers import text as crawler_text

PACKAGE = Path(yuqing.__file__).resolve().parent
# what converting scripts takes: the OpenCC binding, or another converter's package
CONVERTERS = re.compile(r"^\s*(?:import|from)\s+(?:opencc|zhconv|hanziconv|langconv|snownlp\.normal)\b", re.M)


def test_crawlers_and_the_model_use_the_one_converter():
    assert features.to_simplified is core_text.to_simplified
    assert crawler_text.to_simplified is core_text.to_simplified


def test_no_module_but_yuqing_text_loads_a_converter():
    loaders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if CONVERTERS.search(p.read_text(encoding="utf-8")))
    assert loaders == ["text.py"], loaders


def test_the_model_reads_a_stored_post_as_it_reads_the_raw_text():
    raw = "縣城管局暴力執法，把攤販的車砸了，太過分了！請問還有人管嗎？ https://t.cn/abc @某某"
    stored = crawler_text.to_simplified(raw)  # what the crawler's cleaner keeps
    assert features.normalize(stored) == features.normalize(raw)
    assert features.normalize(features.normalize(raw)) == features.normalize(raw)  # idempotent
    assert "县城管局暴力执法" in features.normalize(raw)
