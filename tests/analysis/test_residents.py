"""Residents' plain questions stay calm; incident reports are bad news; drills and notices stay neutral.

Every sentence here was written for this test: none comes from notices.py's templates (the training
text) or from the demo posts, so these check that the generated classes generalise.
"""

from __future__ import annotations

from yuqing.analysis import analyze_text, notices

QUESTIONS = [
    "请问县医院体检中心周六上午上班吗？",
    "想问一下小孩打疫苗要带哪些东西？",
    "电动车上牌在哪里办，现场能办好吗？",
    "孩子明年上小学，户口不在本地能报名吗？",
    "咨询一下，老年卡办理需要本人到场吗？",
    "建议在菜市场旁边多放几个垃圾桶。",
    "能不能在江边步道装几盏路灯，晚上散步的人挺多的。",
    "请问今年的采暖费什么时候开始交？",
    "听说文化中心新开了自习室，怎么预约？",
    "希望体育中心能开放夜场，方便下班后打球。",
]

INCIDENTS = [
    "村口的砂石厂天天往河里倒泥浆，河水浑得看不见底，鱼都死光了。",
    "昨晚高速路口一辆油罐车起火，司机被烧伤，现场浓烟冲天。",
    "在工地干了十个月，包工头一分钱工资都没结，我们去哪里讨？",
    "暴雨冲垮了进村的桥，山上还在往下滚石头，村里老人出不去。",
    "小区旁边的厂子一到半夜就放出一股酸臭味，熏得人直咳嗽。",
    "菜市场后面的老楼外墙掉下来一大块，差点砸到人。",
    "上游矿山的废水流进了稻田，今年的稻子全黄了。",
    "隧道里发生连环追尾，五辆车撞在一起，有人受伤。",
]

CALM_NOTICES = [
    "明天上午消防大队在城北工业园开展火灾应急疏散演练，请周边居民不要惊慌。",
    "县应急管理局召开汛期地质灾害防治工作会议，部署隐患点巡查。",
    "人社部门公布根治欠薪投诉电话，工作日上午九点到下午五点受理。",
]


def label(text: str) -> str:
    return analyze_text(text)["label"]


def test_plain_questions_and_suggestions_are_not_complaints():
    flagged = [t for t in QUESTIONS if label(t) == "negative"]
    assert len(flagged) <= 1, flagged


def test_most_plain_questions_read_neutral():
    labels = [label(t) for t in QUESTIONS]
    assert labels.count("neutral") >= 0.7 * len(QUESTIONS), list(zip(labels, QUESTIONS, strict=True))


def test_incident_reports_are_negative():
    missed = [t for t in INCIDENTS if label(t) != "negative"]
    # two of eight (a tanker fire, a tunnel pile-up: 0.35-0.37) are missed since the model learns
    # the neutral class from real news and questions instead of mostly from templates (issue 9)
    assert len(missed) <= 2, missed


def test_pollution_report_is_negative_with_margin():
    result = analyze_text("饲料厂把污水排进池塘，塘里的鱼翻了白肚，附近村民很担心")
    # a clear margin, not a coin toss: alerts count this post
    assert result["label"] == "negative" and result["negative_prob"] >= 0.75, result


def test_prevention_drills_and_notices_stay_calm():
    # they share the incident words (火灾, 地质灾害, 欠薪) but report no incident
    flagged = [t for t in CALM_NOTICES if label(t) == "negative"]
    # the fire drill notice reads 0.70 (issue 9's model): at most one of the three may slip
    assert len(flagged) <= 1, flagged


def test_evaluation_sentences_are_not_training_text():
    generated = set(notices.enquiries(800, 13)) | set(notices.incidents(800, 13)) | set(notices.thanks(200, 13))
    assert not generated & set(QUESTIONS + INCIDENTS + CALM_NOTICES)


def test_generators_are_reproducible_and_distinct():
    for make in (notices.enquiries, notices.incidents, notices.thanks):
        first, again = make(300, 5), make(300, 5)
        assert first == again and len(set(first)) == len(first) == 300
        assert make(300, 6) != first
