"""A spike becomes one email at a real SMTP server (aiosmtpd): subject, level, linked posts, escaping."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser

from tests.alerts.helpers import T0, add_event, background, spike
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.delivery import outbox as delivery
from yuqing.store import Store

NOW = T0 + timedelta(weeks=3, hours=10)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))
        if tag in ("script", "img", "link", "iframe"):
            self.scripts += 1


def _settings(write_config, smtp) -> settings_mod.Settings:
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]
        base_url = "http://127.0.0.1:8080"
        """))


def test_spike_becomes_one_email_with_level_and_linked_posts(write_config, smtp):
    settings = _settings(write_config, smtp)
    with Store(settings.db_path) as store:
        background(store, T0, 24 * (7 * 3 + 1))
        ev = add_event(store, "飞仙关景区游客被困", NOW, NOW)
        ids = spike(store, NOW + timedelta(minutes=5), 16, minutes=20, title="<script>alert('x')</script>游客被困",
                    topics=["旅游"], keywords=["被困", "景区"], event_id=ev)
        changed = detector.detect(settings, store, NOW + timedelta(minutes=40))
        assert len(changed) == 3
        assert delivery.deliver_pending(settings, store) == (1, 0)
        # later runs at the same level send nothing more
        detector.detect(settings, store, NOW + timedelta(minutes=45))
        assert delivery.deliver_pending(settings, store) == (0, 0)
        posts = {r["id"]: r["url"] for r in store.query(f"SELECT id, url FROM posts WHERE id IN ({','.join(map(str, ids))})")}
    [msg] = smtp.wait_for(1)
    top = max(changed, key=lambda a: ["blue", "yellow", "orange", "red"].index(a.level))
    level_zh = {"blue": "蓝色(IV级)", "yellow": "黄色(III级)", "orange": "橙色(II级)", "red": "红色(I级)"}[top.level]
    assert msg["Subject"].startswith(f"【舆情预警·{level_zh}】")
    assert "等3项" in msg["Subject"] and "负面" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    parser = _Links()
    parser.feed(html)
    assert parser.scripts == 0  # the <script> title is text, not a tag, and nothing loads from the network
    assert "&lt;script&gt;" in html and "<script>" not in html
    linked = [u for u in parser.links if u in posts.values()]
    assert len(linked) >= settings.alerts.top_posts
    assert any(link.startswith("http://127.0.0.1:8080/alert/") for link in parser.links)
    for a in changed:
        assert a.title.replace("「", "").replace("」", "")[:2] in html.replace("「", "").replace("」", "")
    assert level_zh in html and level_zh in text
    assert "常态基线" in html and "高频词" in text and "被困" in text
    assert "飞仙关景区游客被困" in text  # the event
    assert re.search(r"1小时内负面 \d+ 条", text)
    assert "<script>alert('x')</script>游客被困" in text  # plain text is plain
