"""The demo's sample posts: an invented county, 青溪县, through a few normal days and then an incident.

Everything here was written for this project; 青溪县 and every person, shop and road in it are made up.
Three channels, as a county's public opinion really reaches a duty office:

- `forum`   青溪论坛, a local forum (RSS feed): residents chatting, praising, complaining;
- `news`    青溪县融媒体中心, the county media centre (list + detail pages): official news and notices;
- `wenzheng` 青溪网络问政, a message board to officials (JSON API): questions, requests, complaints.

A normal day is mostly neutral and positive with a few everyday complaints. The incident is a water
outage (停水) in 溪口镇 and the east of the county town: many negative posts across all three channels
within minutes, the official notice, then the repair. Templates carry slots ({date}, {road}, {n}...)
so that every day's posts differ, as real ones do (a repeated text would be dropped as a duplicate).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LOCALITY = "青溪县"
ALIASES = ("青溪", "溪口镇", "青石镇", "白鹭乡", "桃源乡")
TZ = ZoneInfo("Asia/Shanghai")

TOWNS = ("溪口镇", "青石镇", "白鹭乡", "桃源乡", "城关镇")
ROADS = ("滨河路", "解放街", "新华路", "建设路", "文昌路", "青溪大道")
PLACES = ("县人民医院", "青溪一中", "实验小学", "农贸市场", "汽车站", "文化广场", "滨河公园")
FORUM_USERS = ("溪口老王", "城东小李", "青溪吃货", "白鹭乡人", "桃源山居", "一中家长", "滨河散步的猫",
               "老街坊", "青石镇阿强", "下班就回家", "县城跑腿小哥", "文昌路张姐", "爱摄影的老陈", "二宝妈妈")


@dataclass
class SamplePost:
    """One post on the sample site; it shows from `appear_at` (unix time) on."""

    channel: str  # forum | news | wenzheng
    id: int
    title: str
    text: str
    author: str
    published: datetime  # aware, Asia/Shanghai
    appear_at: float
    kind: str = "normal"  # normal | incident | aftermath
    negative: bool = False  # what the writer meant: a complaint
    extra: dict[str, Any] = field(default_factory=dict)


# (title, text, negative?) per channel. Slots: {date} {road} {place} {town} {n} (3-60) {m} (2-9) {price}
FORUM_NORMAL: list[tuple[str, str, bool]] = [
    ("周末去白鹭乡看油菜花，路线求推荐", "听说白鹭乡的油菜花开了，从青溪县城开车过去大概要多久？路上好停车吗？去过的朋友说一下，谢谢。", False),
    ("青溪一中今年的招生计划出来了吗", "孩子明年中考，想了解一下青溪一中今年的招生计划和录取分数线，有知道的家长吗？", False),
    ("青溪县城哪里能办港澳通行证续签", "请问在青溪县出入境办证大厅能直接续签吗？需不需要提前预约？{date}想去办。", False),
    ("{road}新开的牛肉面馆有人去过吗", "青溪{road}新开了一家牛肉面馆，{n}块钱一碗，有没有吃过的说说味道怎么样。", False),
    ("青石镇逢场是哪几天？", "刚搬到青溪，想去青石镇赶场买点土鸡蛋和新鲜蔬菜，请问是逢几赶场？", False),
    ("求推荐青溪县城靠谱的家电维修师傅", "家里热水器用了{m}年了，最近打不着火，有没有青溪县城靠谱的维修师傅电话，价格公道就行。", False),
    ("{date}青溪天气：早上有雾，中午出太阳", "{date}青溪县城早上雾比较大，开车注意慢行；中午出太阳了，早晚温差大，记得加衣服。", False),
    ("溪口镇到县城的班车几点收班？", "请问溪口镇到青溪县城最后一班车是几点？晚上{m}点多下班还赶得上吗？", False),
    ("青溪县图书馆周末开到几点？", "想带孩子去县图书馆看书，请问周末开放到几点，需要办借书证吗？", False),
    ("滨河公园晚上的灯光太漂亮了", "昨晚带孩子去青溪滨河公园散步，新装的灯光很好看，步道也干净整洁，给管理的同志点个赞！", False),
    ("给县人民医院急诊科的医生护士点赞", "前天晚上家里老人突发胸痛，送到青溪县人民医院急诊，医生护士处理得又快又专业，老人已经没事了，非常感谢！", False),
    ("桃源乡的民宿真不错，推荐", "周末在青溪桃源乡住了一晚民宿，环境安静，老板很热情，土菜也好吃，空气特别好，推荐大家去。", False),
    ("青溪大道通车后上班快多了", "以前从城东到城西要堵半个小时，现在走青溪大道{m}分钟就到了，这个工程干得漂亮。", False),
    ("{town}社区志愿者帮老人代买药，太暖心了", "青溪县{town}社区的志愿者每周上门帮独居老人买药、量血压，我家隔壁的婆婆逢人就夸，真心感谢。", False),
    ("青溪一中男篮拿了市里冠军！", "恭喜青溪一中男篮在市中学生运动会上夺冠，决赛赢了{n}分，孩子们太棒了！", False),
    ("白鹭乡的草莓熟了，周末可以去采摘", "白鹭乡{m}家草莓园都开园了，自己采{price}块钱一斤，带小朋友去玩很合适，青溪的朋友可以去看看。", False),
    ("{road}的路灯坏了好几天了", "青溪{road}靠近{place}那一段的路灯坏了{n}天了，晚上黑漆漆的，走路很不安全，希望有关部门尽快修一下。", True),
    ("楼下烧烤摊油烟太大，投诉了也没人管", "青溪{town}我们小区楼下的烧烤摊每天营业到凌晨{m}点，油烟和噪音太大，打了几次电话投诉也没人管，晚上根本睡不着。", True),
    ("青溪县人民医院附近停车太难了", "在县人民医院附近转了{n}圈都找不到车位，乱停又要被贴条，看个病比排队还累，真的很无奈。", True),
    ("文化广场的广场舞音响声音太大", "青溪文化广场的广场舞音响每天晚上开到十点，声音特别大，孩子没法写作业，说了好几次也不听，能不能管一管。", True),
    ("农贸市场门口乱停车，堵得走不动", "青溪农贸市场门口早上三轮车和小车乱停，{n}米的路走了十分钟，太乱了，也没人疏导。", True),
]

NEWS_NORMAL: list[tuple[str, str, bool]] = [
    ("青溪县召开县政府常务会议", "{date}，青溪县政府召开常务会议，研究部署春季农业生产、安全生产和重点项目建设等工作。会议要求各乡镇、各部门压实责任，确保各项工作落到实处。", False),
    ("青溪县开展春季森林防火宣传", "{date}，青溪县林业部门在白鹭乡、桃源乡等地开展森林防火宣传，发放宣传资料{n}余份，提醒群众进山不带火种、不在林区烧纸。", False),
    ("青溪县{n}个重点项目集中签约", "{date}，青溪县举行重点项目集中签约仪式，{n}个项目涉及农产品加工、文化旅游和新能源等领域，将带动当地就业。", False),
    ("白鹭乡油菜花节开幕", "{date}，青溪县白鹭乡第{m}届油菜花节开幕，活动期间将举办摄影比赛、农产品展销等活动，欢迎广大游客前来观光。", False),
    ("县人民医院开通胸痛中心绿色通道", "青溪县人民医院胸痛中心{date}正式运行，实行先救治后付费，急性胸痛患者可通过绿色通道直接进入导管室。", False),
    ("青溪县启动城乡居民医保集中参保缴费", "青溪县城乡居民医保集中参保缴费工作已经启动，群众可通过手机、银行网点或村（社区）便民服务点缴费，截止日期为本月底。", False),
    ("溪口镇举行防汛应急演练", "{date}，青溪县溪口镇举行防汛应急演练，模拟山洪来临时的预警发布、人员转移和抢险救援，{n}余名干部群众参加。", False),
    ("关于{road}部分路段实施交通管制的通告", "因管网改造施工，青溪县{road}部分路段自{date}起实施交通管制，请过往车辆提前绕行，给您带来不便敬请谅解。", False),
    ("青石镇猕猴桃产业带动群众增收", "青溪县青石镇发展猕猴桃种植{n}余亩，今年带动{m}百余户群众户均增收一万余元。", False),
    ("青溪县开展食品安全专项检查", "{date}，青溪县市场监管局对县城学校周边和农贸市场开展食品安全专项检查，检查经营户{n}家，现场督促整改问题{m}个。", False),
    ("县图书馆周末开放时间延长至晚上八点", "为方便群众阅读，青溪县图书馆自{date}起周末开放时间延长至晚上八点，并新增图书{n}余册。", False),
    ("青溪县举办春季就业招聘会", "{date}，青溪县春季就业招聘会在文化广场举行，{n}家企业提供就业岗位{m}百余个，现场达成就业意向两百余人。", False),
    ("县城新增公共停车位{n}个", "青溪县城区今年新建公共停车场{m}处，新增停车位{n}个，县人民医院、农贸市场周边停车难问题将得到缓解。", False),
    ("青溪县召开安全生产工作会议", "{date}，青溪县召开安全生产工作会议，通报近期安全生产形势，部署道路交通、建筑施工和燃气安全隐患排查整治工作。", False),
    ("实验小学开展交通安全进校园活动", "{date}，青溪县交警大队走进实验小学，为{n}余名师生讲解交通安全知识，提醒学生上下学注意安全。", False),
    ("青溪县今年完成老旧小区改造{n}个", "青溪县今年完成老旧小区改造{n}个，更新供水管网和雨污管道，加装电梯{m}部，惠及居民两千余户。", False),
]

WENZHENG_NORMAL: list[tuple[str, str, bool]] = [
    ("咨询{town}安置房交房时间", "您好，我是青溪县{town}的拆迁户，想咨询一下安置房什么时候能交房，谢谢。", False),
    ("关于青溪一中学区划分的咨询", "请问今年青溪一中初中部的学区是怎么划分的？我们住在{road}，孩子可以就近入学吗？", False),
    ("咨询新生儿医保办理流程", "孩子刚出生{n}天，请问在青溪县给新生儿办理城乡居民医保需要带哪些材料，在哪里办？", False),
    ("建议在{road}增设公交站台", "青溪{road}这几年新建了好几个小区，但附近没有公交站，建议在{place}附近增设一个站台，方便群众出行。", False),
    ("咨询农村自建房审批手续", "我家在青溪县{town}，想在宅基地上翻修房子，请问需要办理哪些审批手续？", False),
    ("{town}{road}路面破损严重，请求维修", "青溪县{town}{road}有{n}多米路面坑坑洼洼，一下雨全是积水，电动车摔了好几个，请有关部门尽快维修。", True),
    ("投诉工地夜间施工扰民", "青溪县{town}{place}旁边的工地每天晚上施工到十二点以后，噪音很大，严重影响附近居民休息，希望有关部门管一管。", True),
    ("反映{town}农村客运班次太少", "青溪县{town}到县城每天只有{m}趟班车，赶不上就只能包车，老人看病很不方便，希望增加班次。", True),
    ("小区电梯经常故障，物业不作为", "青溪县城{road}某小区的电梯这个月坏了{m}次，有一次还把老人关在里面，物业一直推脱，请求相关部门督促整改。", True),
    ("{place}附近下水道堵塞，污水横流", "青溪县{place}附近的下水道堵了{n}天，污水流到路面上，臭气熏天，请尽快安排疏通。", True),
    ("感谢县医保局工作人员耐心解答", "前几天到青溪县医保局办理异地就医备案，工作人员非常耐心，{m}分钟就办好了，特此感谢。", False),
    ("感谢{town}政府及时修好村道", "上周反映的青溪县{town}村道塌方问题，镇上第二天就派人修好了，效率很高，感谢！", False),
]

# The incident: a burst water main leaves 溪口镇 and the east of the county town without water.
FORUM_INCIDENT: list[str] = [
    "溪口镇停水一整天了，到底什么时候来水？|从昨天晚上开始溪口镇就停水了，没有任何通知，到现在一滴水都没有，做饭洗漱都成问题，到底什么时候来水？",
    "青溪城东片区也停水了，连个通知都没有|城东这边早上起来就没水了，小区群里都在问，物业说他们也不知道，停水连个通知都没有，太不负责任了。",
    "打了自来水公司热线一直占线|打了{m}次青溪县供排水公司的电话，不是占线就是没人接，停水停到现在连个说法都没有，太气人了。",
    "溪口镇家里老人孩子没水用，急死了|家里两个老人一个小孩，溪口镇停水到现在，饭都没法做，老人还要吃药，急死人了，有没有人管？",
    "来水了但是水是黄的，根本不敢喝|溪口镇刚来了一会儿水，放出来全是黄的，还有股铁锈味，根本不敢喝，这水质谁来保证？",
    "停水三天没人管，还有没有人管老百姓的死活|青溪城东停水三天没人管，打电话没人接，去营业厅也没人解释，老百姓的日子还过不过了？",
    "超市桶装水被抢空了，还涨价|溪口镇停水，超市桶装水被抢空了，剩下的一桶从十二块涨到{price}块，这是趁火打劫吧？",
    "饭店没水只能关门，损失谁来赔|我在溪口镇开了个小饭店，停水两天只能关门，一天损失好几千，这个损失谁来赔？",
    "孩子学校也停水了，厕所都没法冲|青溪城东的小学也停水了，厕所没法冲，孩子回来说臭得不行，学校也不通知家长，太让人担心了。",
    "溪口镇停水到底是什么原因？|楼上楼下都在问，溪口镇这次停水到底是什么原因，什么时候恢复，官方能不能出来说一句话？",
    "停水只能去亲戚家借水洗澡，太狼狈了|青溪城东停水两天了，下班还要提着桶去亲戚家借水洗澡，太狼狈了，这种日子什么时候是个头。",
    "停水不提前通知，这服务太差了|溪口镇停水之前一点通知都没有，就算要检修也该提前说一声吧，这服务态度太差了，非常不满。",
    "说好的送水车一直没来，排了两个小时队|青溪城东说有送水车，在小区门口排了两个小时队，车一直没来，老人在太阳底下站着，太气人了。",
    "水龙头里流出来的都是泥浆水|溪口镇刚恢复一会儿，水龙头里流出来的都是泥浆水，洗衣机都不敢用，这水怎么喝？",
    "溪口镇的水厂是不是出问题了？|溪口镇停水这么久，是不是水厂出事了？一点消息都没有，大家越传越慌，请官方尽快说明情况。",
    "停水第二天，家里的碗都堆成山了|青溪城东停水第二天，家里的碗都堆成山了，孩子的校服也没法洗，真的受不了了。",
    "物业说不知道什么时候来水，一问三不知|问溪口镇小区物业什么时候来水，物业说不知道；问供水公司，电话打不通。一问三不知，老百姓找谁去？",
    "又停水！今年都第三次了|青溪城东又停水了，今年都第三次了，每次都说管网老化，改造了这么久还是老样子，失望透顶。",
    "卧床的老人两天没擦身子了|我妈在溪口镇家里卧床，停水两天没法擦身子、没法洗尿垫，我们做子女的急得不行，请求尽快恢复供水。",
    "停水这么大的事，官方一点消息都没有|溪口镇和城东停水影响几万人，到现在官方一点消息都没有，网上到处在传，太让人寒心了。",
    "青溪大道施工挖断水管了吗？|有人说是青溪大道施工把主水管挖断了，溪口镇和城东才停水的，是真的吗？施工单位要负责任吧！",
    "停水停到店都开不了，房租照交|在青溪城东开理发店，停水两天没法营业，房租一分不少，这损失找谁说理去？",
]

WENZHENG_INCIDENT: list[str] = [
    "溪口镇大面积停水两天，群众苦不堪言|领导您好，青溪县溪口镇从前天晚上开始大面积停水，到现在还没有恢复，做饭洗漱都成了难题，群众苦不堪言，意见非常大，请求尽快恢复供水。",
    "强烈投诉县供排水公司停水不通知|青溪县供排水公司这次停水事先没有任何通知，停水后也不公布恢复时间，热线根本打不通，这种不负责任的做法让人非常气愤，强烈投诉！",
    "城东片区停水两天，热线无人接听，求助无门|青溪县城东片区停水已经两天，供水热线一直无人接听，去营业厅也没人管，群众求助无门，非常不满。",
    "来水浑浊发黄有异味，根本不敢喝|溪口镇部分小区来水后水质浑浊发黄，还有一股怪味，根本不敢喝，孩子喝了拉肚子，要求有关部门检测水质并公布结果。",
    "停水两天，养殖场的猪已经病倒了|我在青溪县溪口镇养了{n}头猪，停水两天牲畜没水喝，已经有猪病倒了，损失惨重，打了几次电话都没人管，请求紧急送水。",
    "停水期间桶装水涨价，哄抬物价没人管|溪口镇停水期间，部分商店桶装水从十二元涨到{price}元，趁机哄抬物价，老百姓被坑苦了，请市场监管部门严查。",
    "敬老院停水两天，老人生活困难|溪口镇敬老院住着{n}位老人，停水两天了，老人洗不了澡、上不了厕所，生活非常困难，到现在也没有送水车来，太让人心寒了。",
    "学校停水，孩子喝水上厕所都成问题|青溪县城东小学停水，学生没水喝、厕所没法冲，味道很难闻，家长非常担心孩子生病，学校和供水公司互相推诿，没人解决。",
    "停水这么多天，连个说法都没有|溪口镇和城东停水这么多天，一直没有任何正式说明，群众只能干等，网上谣言满天飞，有关部门的工作太不到位了，非常失望。",
    "停水造成店铺停业，损失谁来承担|青溪县城东片区停水造成我们沿街店铺无法营业，每天损失上千元，房租照交，找谁都推来推去，要求有关部门给个说法。",
    "停水期间送水车迟迟不来|青溪县城东说好安排送水车，居民排了两个多小时的队，送水车迟迟不来，老人小孩在路边干等，组织太混乱了，强烈不满。",
    "又停水，管网改造到底改了什么|溪口镇今年已经第三次停水了，每次都说管网老化，花了那么多钱改造还是老样子，群众对此非常不满，请求彻查。",
]

NEWS_INCIDENT: list[tuple[str, str]] = [
    ("关于溪口镇及城东片区临时停水的通告", "因青溪大道施工导致一处主供水管破裂，溪口镇及县城东片区临时停水。县供排水公司正在抢修，预计今天晚上恢复供水。停水期间将安排送水车到各小区定点供水，给您带来不便，敬请谅解。"),
    ("县水务局组织力量连夜抢修供水主管道", "青溪县水务局、县供排水公司组织抢修人员和机械连夜作业，更换破损管道，并在溪口镇、城东片区设置临时供水点{m}个。"),
]

# (channel, title, text): the repair, after the incident
AFTERMATH: list[tuple[str, str, str]] = [
    ("news", "溪口镇及城东片区恢复供水", "经过连续抢修，溪口镇及县城东片区已恢复供水。县疾控中心对管网末梢水进行了检测，各项指标符合国家标准。恢复供水初期如有浑浊，请先放水数分钟后再使用。"),
    ("forum", "感谢抢修师傅连夜作业，溪口镇来水了", "溪口镇终于来水了，水也清了，看到抢修师傅们一身泥干了一整夜，辛苦了，谢谢你们！"),
]


class Story:
    """Builds the sample posts with unique texts and ids, reproducibly (fixed seed)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self._next_id = 1000
        self._seen: set[str] = set()

    def _fill(self, title: str, text: str, day: date) -> tuple[str, str]:
        r = self.rng
        slots = {"date": f"{day.month}月{day.day}日", "road": r.choice(ROADS), "place": r.choice(PLACES),
                 "town": r.choice(TOWNS), "n": r.randint(3, 60), "m": r.randint(2, 9), "price": r.randint(18, 30)}
        return title.format(**slots), text.format(**slots)  # one draw for both: the title matches the text

    def make(self, channel: str, title: str, text: str, when: datetime, appear_at: float, *,
             kind: str = "normal", negative: bool = False) -> SamplePost | None:
        day = when.astimezone(TZ).date()
        for _ in range(8):
            t, x = self._fill(title, text, day)
            if t + x not in self._seen:
                break
        else:
            return None  # this template cannot give a new text today: skip it
        self._seen.add(t + x)
        self._next_id += self.rng.randint(1, 7)
        author = {"forum": self.rng.choice(FORUM_USERS), "news": "青溪县融媒体中心"}.get(
            channel, f"网友{self.rng.getrandbits(24):06x}")
        extra: dict[str, Any] = {}
        if channel == "wenzheng":
            extra = {"forum": "青溪县委书记" if self.rng.random() < 0.4 else "青溪县县长",
                     "state": "待回复" if kind == "incident" else self.rng.choice(("已回复", "已办理", "办理中"))}
        return SamplePost(channel, self._next_id, t, x, author, when.astimezone(TZ), appear_at, kind, negative, extra)

    def day(self, day: date, start: datetime | None, end: datetime, appear_at: float,
            counts: dict[str, int] | None = None) -> list[SamplePost]:
        """A normal day's posts between 07:00 (or `start`) and 23:00 (or `end`), all shown at `appear_at`."""
        counts = counts or {"forum": 9, "news": 4, "wenzheng": 3}
        pools = {"forum": FORUM_NORMAL, "news": NEWS_NORMAL, "wenzheng": WENZHENG_NORMAL}
        lo = start or datetime(day.year, day.month, day.day, 7, 0, tzinfo=TZ)
        hi = min(end, datetime(day.year, day.month, day.day, 23, 0, tzinfo=TZ))
        posts: list[SamplePost] = []
        if hi <= lo:
            return posts
        span = (hi - lo).total_seconds()
        for channel, count in counts.items():
            count = max(0, round(count * span / (16 * 3600)))  # a part-day gets its share
            for title, text, negative in self.rng.sample(pools[channel], min(count, len(pools[channel]))):
                when = lo + timedelta(seconds=self.rng.uniform(0, span))
                post = self.make(channel, title, text, when.replace(microsecond=0), appear_at, negative=negative)
                if post:
                    posts.append(post)
        return posts


def history(story: Story, start: float, days: int = 7) -> list[SamplePost]:
    """`days` normal days and today until 65 minutes before `start`, all shown from `start`.

    The last hour before the demo is left to its live posts, so the detector's 1-hour window holds
    only what the demo shows happening."""
    now = datetime.fromtimestamp(start, TZ).replace(microsecond=0)
    today = now.date()
    posts: list[SamplePost] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        posts += story.day(day, None, datetime(day.year, day.month, day.day, 23, 59, tzinfo=TZ), start)
    posts += story.day(today, None, now - timedelta(minutes=65), start)
    return posts


def timeline(start: float, duration: float, *, history_days: int = 7, seed: int = 7) -> list[SamplePost]:
    """The demo's story: `history_days` normal days (shown at once, with their own times), today so far,
    a few live normal posts, then the incident at 35% of `duration` and the repair at 80%."""
    story = Story(seed)
    posts = history(story, start, history_days)
    # live: a few ordinary posts while the demo runs, then the incident
    live = [(FORUM_NORMAL[9], "forum"), (NEWS_NORMAL[10], "news"), (NEWS_NORMAL[4], "news"),
            (FORUM_NORMAL[11], "forum")]
    for i, ((title, text, negative), channel) in enumerate(live):
        at = start + duration * (0.05 + 0.07 * i)
        post = story.make(channel, title, text, datetime.fromtimestamp(at, TZ).replace(microsecond=0), at, negative=negative)
        if post:
            posts.append(post)
    posts += incident(story, start + duration * 0.35)
    for i, (channel, title, text) in enumerate(AFTERMATH):
        at = start + duration * (0.8 + 0.04 * i)
        post = story.make(channel, title, text, datetime.fromtimestamp(at, TZ).replace(microsecond=0), at, kind="aftermath")
        if post:
            posts.append(post)
    return posts


def incident(story: Story, at: float, *, forum: int = 12, wenzheng: int = 12) -> list[SamplePost]:
    """The 停水 incident: `forum` + `wenzheng` complaints and the official notices, all shown at `at`.

    A burst, as when a whole district loses its water at once. Showing it at one instant (rather than
    trickling) keeps the demo deterministic: whichever source is crawled first, the other one holds
    the rest of the burst (see the demo config's min_count).
    """
    chosen = [("forum", line) for line in FORUM_INCIDENT[:forum]] + [("wenzheng", line) for line in WENZHENG_INCIDENT[:wenzheng]]
    story.rng.shuffle(chosen)
    posts: list[SamplePost] = []
    base = datetime.fromtimestamp(at, TZ).replace(microsecond=0)
    for i, (channel, line) in enumerate(chosen):
        title, text = line.split("|", 1)
        # published over the last few minutes, as a burst looks in reality; all shown at `at`
        when = base - timedelta(seconds=5 * (len(chosen) - i))
        post = story.make(channel, title, text, when, at, kind="incident", negative=True)
        if post:
            posts.append(post)
    for i, (title, text) in enumerate(NEWS_INCIDENT):
        post = story.make("news", title, text, base - timedelta(seconds=30 * (len(NEWS_INCIDENT) - i)), at, kind="incident")
        if post:
            posts.append(post)
    return posts
