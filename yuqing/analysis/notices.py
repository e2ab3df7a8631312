"""Sentences generated from templates, for training only: neutral notices and residents' questions,
negative complaints and incident reports, positive thanks.

Only SMP2020 labels neutral text, and only about one epidemic; a model trained on emotional posts
alone reads any post as either pleased or upset, and reads a notice about a water cut (停水通知) as
a complaint. These templates, written for this project, give the neutral class the register of
government notices, briefings and local news. They are never used for evaluation: the benchmark
and the tests use hand-written sentences kept in tests/analysis/ instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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


# Residents' plain questions and suggestions (neutral). Trained on emotional posts and notices only,
# the model read any question as a complaint (请问...吗？ resembles an angry rhetorical question) or,
# when it ended in 谢谢, as praise; either way a quiet day's baseline rose and alerts cried wolf.
ERRANDS = ["补办身份证", "办理居住证", "申请公租房", "办理营业执照", "办理医保异地备案", "给新生儿上户口",
           "转移社保关系", "申领高龄津贴", "办理不动产登记", "提取住房公积金", "申请临时救助", "办理退休手续",
           "换领驾驶证", "办理结婚登记", "报销门诊费用", "孩子转学", "申请创业担保贷款", "办理残疾证",
           "开具无犯罪记录证明", "办理宅基地确权", "幼儿园报名", "办理暂住登记", "领取失业金", "办理养老保险"]
VENUES = ["政务服务中心", "社保窗口", "档案馆", "体育馆", "游泳馆", "博物馆", "文化馆", "车管所", "税务大厅",
          "不动产登记中心", "疫苗接种点", "社区卫生服务站", "科技馆", "青少年活动中心", "老年活动中心",
          "便民服务大厅", "公积金中心", "户籍窗口"]
PROGRAMS = ["公益性岗位招聘", "职业技能培训班", "老年大学", "暑期托管班", "义务植树活动", "免费健康体检",
            "志愿者招募", "消费券发放", "家政培训", "普通话考试", "农技培训"]
SHOPS = ["面包店", "药店", "眼镜店", "书店", "健身房", "菜鸟驿站", "火锅店", "理发店", "早餐铺", "兽医诊所"]
ADDITIONS = ["增加一条公交线路", "多设几个垃圾分类投放点", "安放几张休息座椅", "建一个口袋公园", "划一些临时停车位",
             "设置非机动车停放区", "加装电动车充电桩", "开通一趟通勤班车", "建一处公共厕所", "修一个篮球场",
             "设一个快递驿站", "多安排几个便民服务点", "种一排行道树", "设置一个爱心驿站", "开一个社区食堂"]
WHO = ["居民", "群众", "老人", "学生", "上班族", "周边住户", "附近的商户"]
PURPOSES = ["出行", "锻炼", "停车", "办事", "充电", "休息", "买菜", "取快递"]
DAYS = ["周末", "周六", "节假日", "晚上", "中午", "五一期间", "国庆期间", "寒假"]
POLITE = ["", "", "谢谢。", "麻烦告知一下。", "先谢过了！", "盼复。", "谢谢回复。", "有知道的说一声。"]
ROADS = ["人民路", "中山路", "解放路", "建设街", "和平路", "幸福路", "迎宾大道", "东环路", "西街", "光明路"]

ENQUIRIES = [
    "请问{errand}需要准备哪些材料？{polite}",
    "想咨询一下，{errand}在哪里办理？能不能网上办？{polite}",
    "{p}的{venue}几点开门，中午休息吗？{polite}",
    "请问{venue}{day}开放吗？要不要提前预约？{polite}",
    "{errand}大概多长时间能办好？{polite}",
    "谁知道{p}{venue}的地址和电话？{polite}",
    "您好，{errand}可以让家里人代办吗？要带什么证件？{polite}",
    "{p}今年的{prog}什么时候开始报名？报名条件是什么？{polite}",
    "请问从{p}到{venue}坐几路车比较方便？{polite}",
    "我是外地户口，在{p}可以{errand}吗？{polite}",
    "咨询：{prog}怎么报名，收费吗？{polite}",
    "{p}的{venue}是不是搬家了？新地址在哪里？{polite}",
    "{p}{road}那边新开的{shop}，谁去过？{polite}",
    "请教一下大家，{errand}要先在网上预约还是直接去窗口？",
    "{venue}{day}能办{errand}吗？{polite}",
    "您好，想了解{p}{prog}的具体安排，在哪里能看到通知？{polite}",
    "{errand}的流程是怎样的，需要跑几次？{polite}",
    "打听一下，{p}{day}有没有{prog}？{polite}",
    "建议在{road}{addition}，方便{who}{purpose}。",
    "能否在{p}{road}附近{addition}？{polite}",
    "提个建议：{venue}门口可以{addition}，方便{who}{purpose}。",
    "建议{venue}{day}也安排人值班，方便上班族{purpose}。",
    "希望{p}能开办{prog}，{who}都有这方面的需求。",
    "关于在{road}{addition}的建议",
    "能不能考虑在{p}{addition}？这样{who}{purpose}会方便很多。",
    "建议{venue}开通网上预约，群众可以少跑一趟。",
    "提醒一下，{p}{road}{day}有集市，开车路过的朋友注意安排时间。",
    "分享一下：{errand}现在可以在手机上办了，在{venue}的公众号里就能提交。",
    "家里的{appliance}，{p}哪里有上门维修的师傅？{polite}",
    "求推荐{p}{road}附近的{shop}，{polite}",
    "{p}的集市是每月哪几天？想去买点{goods}。{polite}",
    "刚搬来{p}，想问一下附近哪里有{shop}？{polite}",
    "{p}到县城的班车最早几点发车，多久一趟？{polite}",
    "{day}想带孩子去{venue}，需要带身份证吗？{polite}",
    "请问{p}有没有卖{goods}的地方，价格大概多少？{polite}",
]
APPLIANCES = ["洗衣机不转了", "空调不制冷", "冰箱不制冷", "燃气灶点不着", "马桶漏水", "门锁打不开", "电视没信号"]
GOODS = ["菜籽油", "腊肉", "新鲜竹笋", "农家蜂蜜", "小鸡苗", "花苗", "二手自行车", "土豆种"]


def enquiries(count: int, seed: int = 0) -> list[str]:
    """`count` distinct neutral questions and suggestions from residents, reproducible by seed."""
    rng = random.Random(seed + 2)
    return _distinct(count, lambda: rng.choice(ENQUIRIES).format(
        errand=rng.choice(ERRANDS), venue=rng.choice(VENUES), prog=rng.choice(PROGRAMS), shop=rng.choice(SHOPS),
        addition=rng.choice(ADDITIONS), who=rng.choice(WHO), purpose=rng.choice(PURPOSES), day=rng.choice(DAYS),
        polite=rng.choice(POLITE), road=rng.choice(ROADS), appliance=rng.choice(APPLIANCES),
        goods=rng.choice(GOODS),
        p=rng.choice(PLACE_NAMES) + rng.choice(["县", "镇", "乡", "街道", "社区", "县城", ""]),
    ))


# Incident reports and residents' reports of danger (negative): what a local office must act on.
# The corpora hold opinions, not events, so a calm news sentence about dead fish or unpaid wages read
# as not negative. The notices above keep prevention and drills (演练, 宣传, 排查) neutral; these
# teach that the event itself is bad news.
WORKS = ["化工厂", "造纸厂", "电镀厂", "养猪场", "砖厂", "洗砂场", "塑料厂", "印染厂", "屠宰场", "冶炼厂", "石料厂"]
WATERS = ["河里", "水库里", "池塘里", "小溪里", "灌溉渠里", "鱼塘里"]
SPILLS = ["夜里往河里排黑水", "偷排废水", "把废液直接倒进沟里", "偷偷焚烧废料", "把废渣堆在河边", "通过暗管排放废水"]
HARMS = ["鱼死了一大片", "水面漂满了死鱼", "水变成了酱油色", "井水发臭不能喝了", "稻田的秧苗都枯死了",
         "河水泛着白沫", "鸭子喝了水死了好几只"]
FUMES = ["刺鼻的气味", "呛人的黑烟", "一股烂鸡蛋味", "有毒的化学气味", "焦糊的臭味"]
SYMPTOMS = ["头晕恶心", "咳嗽不止", "喉咙发痛", "眼睛又红又痒"]
WORRIES = ["村民很担心", "大家都很害怕", "老百姓提心吊胆", "这日子怎么过", "谁来管管", "一直没人来查",
           "举报了好几次都没结果", "村里人都很揪心"]
ACCIDENTS = ["一辆货车侧翻", "两车相撞", "一辆面包车坠入河沟", "发生山体滑坡", "发生边坡垮塌", "一栋民房倒塌",
             "燃气管道爆炸", "一处脚手架坍塌", "一辆客车冲出护栏", "发生塌方"]
FIRES = ["一家仓库", "一处民房", "一家餐馆", "一座厂房", "一栋居民楼", "一片山林", "一个加油站旁的商铺"]
TOLLS = ["造成{k}人受伤", "造成{k}人死亡", "{k}人被困", "{k}名伤者被送往医院抢救", "浓烟滚滚，周边居民紧急疏散",
         "造成{k}人受伤，其中{j}人伤势严重", "过火面积约{k}00平方米"]
DISASTERS = ["强降雨", "山洪", "泥石流", "冰雹", "暴雪", "洪水", "大风"]
DAMAGES = ["多处房屋进水，农田被淹", "道路冲毁，{k}个村组交通中断", "{k}户房屋受损，群众被连夜转移", "庄稼几乎绝收",
           "桥梁被冲垮，学生无法上学", "供电中断，{k}千户停电"]
SITES = ["安置房项目", "学校扩建工程", "道路改造工程", "商品房工地", "污水处理厂项目", "产业园厂房工程"]
HAZARDS = ["井盖丢了好几天", "护栏被撞断了一直没修", "电线垂到了地面上", "老房子的墙裂开了大缝", "山坡上不停往下掉石头",
           "桥面裂开了口子", "广告牌被风吹得摇摇晃晃", "路中间塌了个大坑", "燃气管道有股漏气味"]
RISKS = ["晚上路过太危险了", "随时可能出人命", "孩子上学天天从那里过，家长提心吊胆", "已经有人摔伤了",
         "万一出事谁负责", "附近住户整夜睡不着"]

INCIDENTS = [
    "{d}，{p}{w}{harm}，疑似上游{work}违规排污，{worry}。",
    "{p}的{work}{spill}，{w}{harm}，{worry}。",
    "举报{p}{work}{spill}，{w}{harm}，{worry}！",
    "{p}一{work}排出{fume}，附近居民{symptom}，{worry}。",
    "{p}{work}天天冒出{fume}，熏得人{symptom}，晚上窗户都不敢开。",
    "{d}{t}，{p}{acc}，{toll}。",
    "突发：{p}{road}{acc}，{toll}。",
    "{d}，{p}{fire}突发火灾，{toll}，起火原因正在调查。",
    "{p}{fire}着火了，火势很大，{toll}。",
    "受{dis}影响，{p}{dam}。",
    "{d}，{p}遭遇{dis}袭击，{dam}，{worry}。",
    "{p}{site}{k}十多名农民工被拖欠工资{n}万元，多次讨要无果。",
    "{k}十余名工人聚集在{p}{site}讨薪，称工资已被拖欠{span}。",
    "我们在{p}{site}干了{span}，老板一直拖着工资不发，找了好几次都说没钱，过年回家的路费都没有。",
    "{p}{site}包工头卷款跑了，{k}十个工人的血汗钱没人给，{worry}。",
    "{p}{road}{hazard}，{risk}。",
    "{p}{road}旁边{hazard}，{risk}，{worry}。",
    "{d}，{p}一所学校{k}十余名学生出现呕吐腹泻，疑似食物中毒，已送医治疗。",
    "{p}自来水出现{fume}，不少人喝了以后{symptom}，{worry}。",
    "{p}垃圾填埋场渗出的脏水流进{w}，{harm}，{worry}。",
    "{p}{road}{acc}，现场一片狼藉，{toll}。",
    "{p}{work}发生爆炸，{toll}，周边{k}公里内都能听到响声。",
    "{p}{road}{problem}{span}了，{effect}，请有关部门尽快处理。",
    "反映{p}{road}{problem}的问题：已经{span}了，{effect}，希望尽快解决。",
    "{p}{problem}，{effect}，{worry}。",
]
EFFECTS = ["出行很不方便", "居民意见很大", "臭味熏得人受不了", "老人小孩摔了好几次", "晚上根本睡不着", "生意都没法做了",
           "孩子上学要绕很远的路"]
SPANS_LONG = ["三个月", "半年", "八个月", "一年多", "两年", "大半年"]


def incidents(count: int, seed: int = 0) -> list[str]:
    """`count` distinct negative incident reports (pollution, accidents, fires, disasters, wage arrears,
    dangerous places), in news and residents' registers, reproducible by seed."""
    rng = random.Random(seed + 3)

    def one() -> str:
        k, j = rng.randint(2, 9), rng.randint(1, 2)
        return rng.choice(INCIDENTS).format(
            d=_date(rng), t=rng.choice(TIMES), p=rng.choice(PLACE_NAMES) + rng.choice(PLACES), w=rng.choice(WATERS),
            work=rng.choice(WORKS), spill=rng.choice(SPILLS), harm=rng.choice(HARMS), fume=rng.choice(FUMES),
            symptom=rng.choice(SYMPTOMS), worry=rng.choice(WORRIES), acc=rng.choice(ACCIDENTS),
            fire=rng.choice(FIRES), toll=rng.choice(TOLLS).format(k=k, j=j), dis=rng.choice(DISASTERS),
            dam=rng.choice(DAMAGES).format(k=k), site=rng.choice(SITES), hazard=rng.choice(HAZARDS),
            risk=rng.choice(RISKS), road=rng.choice(ROADS), span=rng.choice(SPANS_LONG), k=k,
            n=rng.randint(20, 300), problem=rng.choice(SERVICE_PROBLEMS), effect=rng.choice(EFFECTS),
        )

    return _distinct(count, one)


def _distinct(count: int, make: Callable[[], str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        text = make()
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


# Thanks after trouble (positive): an illness, an accident or a repair, and the help that came. Without
# them the incident reports above taught that any mention of trouble (老人, 突发, 堵车) is bad news,
# and a resident thanking the doctors who treated their father read as a complaint.
RESCUERS = ["消防员", "民警", "救援队员", "村干部", "志愿者", "120急救人员"]
MEDICS = ["医生护士", "值班医生", "急救医生", "护士们"]
FIXERS = ["抢修工人", "社区网格员", "物业师傅", "村干部", "街道办"]
AILMENTS = ["半夜突发脑梗", "摔伤了腿", "心脏不舒服", "高烧不退", "突然晕倒", "被开水烫伤"]
CARES = ["处理得很及时", "一直守在床边", "特别耐心细致", "一路护送到病房", "忙前忙后安排检查"]
BEFORE = ["一到下雨就积水", "天天堵车", "坑坑洼洼", "晚上黑漆漆的", "垃圾堆成山", "上学要绕远路"]
AFTER = ["修成了平整的柏油路", "装上了明亮的路灯", "拓宽成了双向四车道", "建成了干净的小公园", "通了公交车",
         "十分钟就能到"]
THANKS = ["太感谢了！", "真心感谢！", "为他们点赞！", "这件事办得漂亮。", "大家都很满意。", "效率真高。"]

THANKS_TEMPLATES = [
    "家里老人{ailment}，{p}医院的{medic}{care}，{thanks}",
    "{p}{acc}，{rescuer}{k}分钟就赶到现场，伤者及时送医，{thanks}",
    "{p}{fire}起火，{rescuer}冲进去救出了{k}位老人，{thanks}",
    "以前{p}{road}{before}，现在{after}，{thanks}",
    "{p}{road}{problem}，打了热线{span}就有人来修好了，{thanks}",
    "{p}遭遇{dis}，{rescuer}连夜帮大家转移，没有一个人受伤，{thanks}",
    "上次反映的{p}{road}{problem}的问题，{fixer}很快就解决了，{thanks}",
    "{p}{road}修好以后{after}，{thanks}",
]


def thanks(count: int, seed: int = 0) -> list[str]:
    """`count` distinct thanks and praise after trouble (positive), reproducible by seed."""
    rng = random.Random(seed + 4)
    return _distinct(count, lambda: rng.choice(THANKS_TEMPLATES).format(
        ailment=rng.choice(AILMENTS), p=rng.choice(PLACE_NAMES) + rng.choice(PLACES), rescuer=rng.choice(RESCUERS),
        medic=rng.choice(MEDICS), fixer=rng.choice(FIXERS),
        care=rng.choice(CARES), thanks=rng.choice(THANKS), acc=rng.choice(ACCIDENTS), k=rng.randint(3, 20),
        fire=rng.choice(FIRES), road=rng.choice(ROADS), before=rng.choice(BEFORE), after=rng.choice(AFTER),
        problem=rng.choice(SERVICE_PROBLEMS), span=rng.choice(["当天", "第二天", "两个小时后", "半天"]),
        dis=rng.choice(DISASTERS),
    ))
