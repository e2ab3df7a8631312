"""负面舆情 as the model card defines it, on sentences written for this project.

definition_neutral.txt holds questions, headlines and notices (traditional script too);
definition_negative.txt polite complaints, sarcasm, "好是好，就是…", accidents, disputes, misconduct
and the complaints quoted in issue 9. The figures these tests hold are in bench/analysis.py.
"""

from __future__ import annotations

import pytest

from tests.analysis.conftest import lines
from yuqing.analysis import analyze_text
from yuqing.analysis.card import DEFINITION
from yuqing.analysis.sentiment import DEFAULT_MODEL


def label(text: str) -> str:
    return analyze_text(text)["label"]


def test_questions_headlines_and_notices_are_not_negative():
    texts = lines("definition_neutral.txt")
    flagged = [t for t in texts if label(t) == "negative"]
    assert len(flagged) <= 0.1 * len(texts), flagged
    assert [label(t) for t in texts].count("neutral") >= 0.8 * len(texts)


def test_complaints_accidents_disputes_and_misconduct_are_mostly_negative():
    texts = lines("definition_negative.txt")
    missed = [t for t in texts if label(t) != "negative"]
    assert len(missed) <= 0.35 * len(texts), missed


@pytest.mark.parametrize("text", [
    "县城管局暴力执法，把摊贩的车砸了，太过分了",
    "反映一下，我们村的农村客运班次太少，出行很不方便",
    "您好，我想反映一下小区门口的路灯坏了一个月了，麻烦有关部门看看，谢谢",
    "服务态度还行，可是办个证跑了五趟还没办下来",
    "縣城管局暴力執法，把攤販的車砸了，太過分了",
])
def test_the_complaints_of_issue_9_and_polite_ones_read_negative(text):
    assert label(text) == "negative", analyze_text(text)


@pytest.mark.parametrize("text", [
    "关于飞仙关镇停电检修的通知",
    "县里拨付救灾资金五千余万元，覆盖全县受灾群众",
    "快递员一个月大概能挣多少钱？",
    "北京四日游怎么安排路线比较合理？",
    "这家公司明年有可能上市吗？",
    "为什么笔记本一玩游戏就卡？",
    "關於城關鎮道路施工期間交通管制的通告",
])
def test_the_notices_headlines_and_questions_of_issue_9_read_neutral(text):
    assert label(text) == "neutral", analyze_text(text)


@pytest.mark.parametrize("text", ["这个政策好是好，就是落实太慢", "新修的公园好是好，就是厕所太少，排队要半小时"])
def test_concessions_read_as_the_clause_after_the_turn(text):
    assert label(text) == "negative", analyze_text(text)


@pytest.mark.parametrize("text", ["虽然很累，但是很开心", "虽然下雨，但是活动照常举行", "小是小了点，可是很干净"])
def test_a_turn_towards_the_good_is_not_made_negative(text):
    assert label(text) != "negative", analyze_text(text)


@pytest.mark.xfail(strict=True, reason="a limit in the model card: sarcasm is read literally")
def test_sarcasm_known_limit():
    assert label("这效率真高啊，一个章盖了三个月") == "negative"


def test_traditional_questions_read_like_simplified():
    trad, simp = "請問縣醫院週末可以掛專家號嗎？", "请问县医院周末可以挂专家号吗？"
    assert label(trad) == label(simp) == "neutral"
    assert abs(analyze_text(trad)["negative_prob"] - analyze_text(simp)["negative_prob"]) < 0.1


def test_the_definition_is_in_the_model_card_with_its_examples():
    card = DEFAULT_MODEL.with_name("MODEL_CARD.md").read_text(encoding="utf-8")
    assert DEFINITION in card
    for example in ("关于飞仙关镇停电检修的通知", "县城管局暴力执法"):
        assert example in DEFINITION


def test_the_digest_help_prints_the_same_definition_line_for_line():
    from click.testing import CliRunner

    from yuqing.cli import cli

    result = CliRunner().invoke(cli, ["digest", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = [ln.strip() for ln in result.output.splitlines()]
    # the \b block keeps click from re-wrapping it: each line of the card's definition is a line here
    for line in DEFINITION.splitlines():
        assert line.strip() in shown
    assert "关于飞仙关镇停电检修的通知" in result.output and "县城管局暴力执法" in result.output
