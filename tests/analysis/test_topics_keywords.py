"""Topics from the taxonomy, keywords by TF-IDF, segmentation with local words and stopwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.analysis import keywords, segment, topics
from yuqing.analysis.analyzer import Analyzer
from yuqing.errors import ConfigError
from yuqing.settings import AnalysisConfig

REQUIRED = ["环境污染", "征地拆迁", "医疗卫生", "教育", "安全生产与事故", "交通出行", "食品药品安全", "劳资欠薪",
            "住房与物业", "城管执法", "干部作风", "社会治安", "自然灾害", "水电气民生", "营商环境"]
ROOT = Path(__file__).resolve().parents[2]


def test_shipped_taxonomy_has_the_required_topics():
    names = [t.name for t in topics.load().topics]
    assert set(REQUIRED) <= set(names)
    # config/topics.toml is the same file as the packaged default (one copy)
    assert (ROOT / "config" / "topics.toml").resolve() == topics.DEFAULT_PATH.resolve()


def test_a_post_gets_several_topics_with_their_terms():
    tax = topics.load()
    found = {m.name: m for m in tax.match("小区停水三天了，物业费照收，开发商和物业都不管")}
    assert set(found) == {"水电气民生", "住房与物业"}
    assert "停水" in found["水电气民生"].terms
    assert {"物业", "物业费", "开发商"} <= set(found["住房与物业"].terms)
    assert found["住房与物业"].score >= found["水电气民生"].score


def test_exclusions_and_min_score():
    tax = topics.parse({"topics": {
        "环境污染": {"terms": {"污染": 2.0, "河道": 0.5}, "exclude": ["精神污染"], "min_score": 1.5},
    }})
    assert [m.name for m in tax.match("化工厂污染了河道")] == ["环境污染"]
    assert tax.match("网络上的精神污染") == []  # the exclusion swallows the term inside it
    assert tax.match("河道很宽") == []  # 0.5 is below min_score


def test_no_topic_for_unrelated_text():
    assert topics.load().match("今天晚饭吃了面条") == []


@pytest.mark.parametrize("raw, path", [
    ({}, "topics"),
    ({"topics": {"x": {"terms": {}}}}, "topics.x.terms"),
    ({"topics": {"x": {"terms": {"词": -1}}}}, "topics.x.terms.词"),
    ({"topics": {"x": {"terms": {"词": 1}, "min": 1}}}, "topics.x.min"),
    ({"topics": {"x": {"terms": {"词": 1}, "exclude": "a"}}}, "topics.x.exclude"),
])
def test_bad_taxonomy_names_the_key(raw, path):
    with pytest.raises(ConfigError) as err:
        topics.parse(raw)
    assert err.value.path == path


def test_bad_taxonomy_file(tmp_path):
    bad = tmp_path / "topics.toml"
    bad.write_text("[topics\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        topics.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        topics.load(tmp_path / "missing.toml")


def test_keywords_skip_stopwords_numbers_and_single_characters():
    words = ["我们", "的", "小区", "停水", "停水", "了", "3", "天", "物业", "2024"]
    top = keywords.extract(words, 3, segment.default_stopwords())
    assert top[0] == "停水"
    assert not {"我们", "的", "了", "3", "天", "2024"} & set(keywords.extract(words, 10, segment.default_stopwords()))


def test_locality_names_and_userdict_stay_whole(tmp_path):
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("# local words\n青衣江大桥 20000\n", encoding="utf-8")
    stop = tmp_path / "stop.txt"
    stop.write_text("大桥管理处\n", encoding="utf-8")
    cfg = AnalysisConfig(userdict=str(userdict), stopwords=str(stop))
    an = Analyzer(cfg, locality_terms=("飞仙关镇",), base_dir=tmp_path)
    result = an.analyze_full("飞仙关镇青衣江大桥封闭施工，大桥管理处发布通知")
    assert "青衣江大桥" in result.analysis.tokens
    assert "飞仙关镇" in result.analysis.tokens
    # the locality name is in every post: never a keyword; a configured stopword neither
    assert "飞仙关镇" not in result.analysis.keywords
    assert "大桥管理处" not in result.analysis.keywords
    assert "青衣江大桥" in result.analysis.keywords


def test_missing_word_lists_are_skipped(tmp_path, caplog):
    assert segment.load_wordlist(tmp_path / "nope.txt") == set()
    assert "not found" in caplog.text


def test_cut_for_index_and_query_agree():
    assert "停水" in segment.cut_for_index("小区停水三天").split()
    query = segment.fts_query("停水 物业")
    assert query.count(" AND ") == 1  # both parts required
    assert '"停水"' in query and '"停 水"' in query and '"物业"' in query
