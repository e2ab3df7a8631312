"""Neutral official and news-style sentences, generated from templates, for training only.

Only SMP2020 labels neutral text, and only about one epidemic; a model trained on emotional posts
alone reads any post as either pleased or upset, and reads a notice about a water cut (停水通知) as
a complaint. These templates, written for this project, give the neutral class the register of
government notices, briefings and local news. They are never used for evaluation: the benchmark
and the tests use hand-written sentences kept in tests/analysis/ instead.
"""

from __future__ import annotations

import random

PLACES = ["县", "市", "区", "镇", "乡", "街道", "开发区", "新区", "社区", "村"]
PLACE_NAMES = ["城关", "东城", "西河", "南山", "北关", "青石", "白马", "临江", "双河", "新华", "文昌", "凤凰", "太平", "红星"]
BODIES = ["人民政府", "住建局", "教育局", "卫健委", "交通运输局", "应急管理局", "自然资源局", "生态环境局",
          "市场监督管理局", "人社局", "公安局", "水务局", "供电公司", "自来水公司", "燃气公司", "城管局",
          "民政局", "农业农村局", "文旅局", "政务服务中心", "融媒体中心", "气象局", "统计局", "财政局"]
MEETINGS = ["专题会议", "工作会议", "常务会议", "座谈会", "推进会", "培训会", "调度会", "联席会议", "动员部署会"]
SUBJECTS = ["安全生产", "防汛减灾", "乡村振兴", "营商环境", "城乡环境综合治理", "森林防火", "食品安全",
            "义务教育招生", "医保参保", "耕地保护", "民生实事", "重点项目建设", "文明城市创建", "消防安全",
            "河长制", "垃圾分类", "社区治理", "冬季供暖", "道路交通安全", "人口普查", "就业服务", "老旧小区改造"]
ACTIONS = ["部署", "安排", "研究", "推进", "通报", "总结", "落实"]
SERVICES = ["供水", "供电", "供气", "通行", "办理业务", "网上申报"]
REASONS = ["管网检修", "线路改造", "设备维护", "道路施工", "系统升级", "管道迁改"]
TIMES = ["上午", "下午", "全天", "夜间"]
FIGURES = ["同比增长", "同比下降", "环比增长", "环比持平", "累计完成", "共计"]
ITEMS = ["地区生产总值", "固定资产投资", "社会消费品零售总额", "新增就业人数", "接待游客", "粮食播种面积",
         "完成造林面积", "发放补贴资金", "办理政务服务事项", "新建改建公路"]
DOCS = ["通知", "公告", "通告", "公示", "办法", "实施方案", "工作要点", "指南", "须知"]
OBJECTS = ["项目", "申报工作", "资格审查", "报名工作", "征求意见", "招聘考试", "考核结果", "专项检查"]

TEMPLATES = [
    "{d}，{p}{b}召开{subj}{m}，{act}下一阶段重点工作。",
    "{p}{b}关于{subj}的{doc}",
    "关于开展{subj}{obj}的{doc}",
    "因{reason}，{d}{t}{p}部分区域将暂停{svc}，请相关用户提前做好准备。",
    "{p}{b}发布{d}{svc}调整{doc}，详情可咨询服务热线。",
    "据{p}统计局数据，{d}全{pl}{item}{fig}{n}%。",
    "{d}，{p}{b}对{subj}工作进行督导检查。",
    "{p}{b}：{subj}{obj}将于{d}开始，请符合条件的人员按要求报名。",
    "{d}上午，{p}举行{subj}现场{m}。",
    "{p}{b}{act}{subj}相关事项，会议由{b}主要负责人主持。",
    "现将{p}{d}{subj}{obj}结果予以公示，公示期为{k}个工作日。",
    "{p}{b}提醒：{subj}期间请市民注意出行安排。",
    "记者从{p}{b}获悉，{d}{subj}各项工作有序推进。",
    "{p}召开{subj}{m}，传达学习上级有关文件精神。",
    "{d}，{p}{b}组织开展{subj}宣传活动，发放宣传资料{k}00余份。",
    "{p}{b}公布{d}{subj}{obj}安排，办理时间为工作日{t}。",
    "{p}将于{d}对{subj}相关情况进行调查，请各单位配合做好数据报送。",
    "{p}{b}就{subj}答记者问",
    "{d}，{p}气象台发布天气预报，预计未来三天以多云天气为主。",
    "{p}{b}开展{subj}业务培训，各{pl}相关工作人员参加。",
    "《{p}{subj}{doc}》已经{b}研究同意，现印发给你们，请认真贯彻执行。",
    "{d}，{p}第{k}次{m}审议通过了{subj}有关事项。",
    "{p}{b}办公地址变更{doc}：自{d}起在新址办公，服务电话不变。",
    "{p}{item}{fig}{n}%，{subj}工作按计划推进。",
]


def _date(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日", f"{rng.randint(2018, 2025)}年{rng.randint(1, 12)}月",
                       "近日", "日前", "本周", f"{rng.randint(1, 28)}日"])


def generate(count: int, seed: int = 0) -> list[str]:
    """`count` distinct neutral sentences (fewer if the templates run out), reproducible by seed."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        template = rng.choice(TEMPLATES)
        place = rng.choice(PLACE_NAMES) + rng.choice(PLACES)
        text = template.format(
            d=_date(rng), p=place, b=rng.choice(BODIES), m=rng.choice(MEETINGS), subj=rng.choice(SUBJECTS),
            act=rng.choice(ACTIONS), svc=rng.choice(SERVICES), reason=rng.choice(REASONS), t=rng.choice(TIMES),
            fig=rng.choice(FIGURES), item=rng.choice(ITEMS), n=f"{rng.randint(1, 30)}.{rng.randint(0, 9)}",
            pl=rng.choice(PLACES), doc=rng.choice(DOCS), obj=rng.choice(OBJECTS), k=rng.randint(2, 9),
        )
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


# Complaints and thanks about local services, in the words residents use. They teach the model
# that inaction (没人管, 没人回应) and negated satisfaction (不满意, 并不好) are complaints, which
# the Weibo and review corpora rarely say about public services. Training only, like the notices.
SERVICE_PROBLEMS = ["停水", "停电", "停气", "断网", "电梯坏了", "路灯不亮", "下水道堵了", "垃圾没人清运", "路面塌陷",
                    "暖气不热", "水管爆了", "污水横流", "噪音扰民", "占道经营", "楼顶漏水"]
SPANS = ["两天", "三天", "一个星期", "半个月", "一个月", "好几天", "大半年"]
INACTION = ["没人管", "没人来修", "打热线也没人回应", "物业不管不问", "反映了好几次都没有下文", "相关部门互相推诿",
            "投诉了也没用", "电话一直打不通", "问了也没人给个说法"]
THINGS = ["处理结果", "办事效率", "服务态度", "物业服务", "维修质量", "答复", "这次整改", "窗口服务", "工程质量"]
NEGATED = ["很不满意", "非常不满意", "并不好", "一点也不好", "不太满意", "不怎么样", "并不满意", "实在不行"]
PRAISE = ["很满意", "非常满意", "很及时", "很耐心", "效率很高", "值得点赞", "解决得很好"]


def complaints(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """(sentence, label) pairs: service complaints (negative) and thanks (positive), by seed."""
    rng = random.Random(seed + 1)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        place = rng.choice(PLACE_NAMES) + rng.choice(["小区", "社区", "村", "街", "镇"])
        kind = rng.random()
        if kind < 0.45:
            text = f"{place}{rng.choice(SERVICE_PROBLEMS)}{rng.choice(SPANS)}了，{rng.choice(INACTION)}"
            label = "negative"
        elif kind < 0.75:
            text = rng.choice([f"对{rng.choice(THINGS)}{rng.choice(NEGATED)}", f"{rng.choice(THINGS)}{rng.choice(NEGATED)}",
                               f"{place}的{rng.choice(THINGS)}{rng.choice(NEGATED)}"])
            label = "negative"
        else:
            text = rng.choice([f"{place}{rng.choice(SERVICE_PROBLEMS)}的问题当天就解决了，{rng.choice(PRAISE)}",
                               f"对{rng.choice(THINGS)}{rng.choice(PRAISE)}"])
            label = "positive"
        if text not in seen:
            seen.add(text)
            out.append((text, label))
    return out
