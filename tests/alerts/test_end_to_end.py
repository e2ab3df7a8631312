"""Done means: a spike on the local test site becomes one email at the SMTP server, right level, explained.

Real parts end to end: an RSS feed on 127.0.0.1, the crawl child process, the analysis stage,
detection, and delivery to aiosmtpd.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime

from tests.alerts.helpers import background
from tests.conftest import Response
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.delivery import outbox as delivery
from yuqing.models import utcnow
from yuqing.store import Store

COMPLAINTS = [
    "芦山县龙门乡强拆民房，村民被打伤，至今无人处理，强烈投诉",
    "芦山县飞仙关路段塌方堵了三天，救护车过不去，群众非常愤怒",
    "芦山县自来水发黄发臭一个星期了，孩子喝了拉肚子，投诉没人管",
    "芦山县某工地拖欠农民工工资半年，讨薪被保安殴打",
    "芦山县医院乱收费，老人看病被多收两千元，投诉石沉大海",
    "芦山县学校食堂饭菜发霉，学生集体腹泻，家长愤怒",
    "芦山县垃圾填埋场臭气熏天，周边村民头晕呕吐，多次反映无果",
    "芦山县拆迁补偿款被截留，村民上访被拦截，极其不公",
    "芦山县暴雨后道路冲毁，停电停水两天，救援迟迟不到",
    "芦山县一化工厂偷排污水，河里鱼大量死亡，村民投诉无门",
    "芦山县出租车拒载宰客严重，游客被骗，体验极差",
    "芦山县景区强制消费，游客被辱骂殴打，太恶劣了",
]


def _feed(base: str) -> str:
    now = utcnow()
    items = []
    for i, text in enumerate(COMPLAINTS):
        title = f"<script>alert({i})</script>{text[:14]}" if i == 0 else text[:16]
        items.append(
            f"<item><title><![CDATA[{title}]]></title><link>{base}/p/{i}</link>"
            f"<description><![CDATA[{text}]]></description>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=3 * i + 1))}</pubDate></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>本地论坛</title>'
            f"<link>{base}/</link><description>x</description>{''.join(items)}</channel></rss>")


def test_spike_on_the_local_site_becomes_one_email(site, smtp, write_config):
    from yuqing.analysis.batch import analyze_pending
    from yuqing.crawlers.runner import crawl_one

    site.routes["/feed.xml"] = Response(_feed(site.url), content_type="application/rss+xml; charset=utf-8")
    config = write_config(f"""
        [[sources]]
        name = "forum"
        type = "feed"
        url = "{site.url}/feed.xml"

        [analysis]
        sentiment = "snownlp"   # the embedded model, whichever way the shipped one is trained

        [alerts]
        notify = [{json.dumps(smtp.mailto)}]
        """)
    settings = settings_mod.load(config)
    now = utcnow()
    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources)
        # three calm weeks before (one negative post an hour)
        background(store, now - timedelta(weeks=3, hours=2), 24 * 21, per_hour=4, negative_every=4)
    stats = crawl_one(settings, "forum")
    assert stats.ok and stats.new == len(COMPLAINTS), stats
    with Store(settings.db_path) as store:
        assert analyze_pending(settings, store) == len(COMPLAINTS)
        negatives = store.scalar("SELECT count(*) FROM posts WHERE url LIKE ? AND label = 'negative'", [f"{site.url}%"])
        assert negatives >= 8, "the analysis stage should call these complaints negative"
        changed = detector.detect(settings, store)
        assert any(a.kind == "locality" for a in changed)
        assert delivery.deliver_pending(settings, store) == (1, 0)
        assert detector.detect(settings, store) == [] and delivery.deliver_pending(settings, store) == (0, 0)
    [msg] = smtp.wait_for(1)
    top = max(changed, key=lambda a: ["blue", "yellow", "orange", "red"].index(a.level))
    assert msg["Subject"].startswith("【舆情预警·") and {"blue": "蓝色", "yellow": "黄色", "orange": "橙色",
                                                       "red": "红色"}[top.level] in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    assert f'href="{site.url}/p/' in html
    assert "<script" not in html.lower()  # whatever the crawler kept of the <script> title is text
    loc = next(a for a in changed if a.kind == "locality")
    assert loc.explanation["best_window"]["negative"] >= negatives
    assert loc.explanation["sources"][0][0] == "forum"
