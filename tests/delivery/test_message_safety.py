"""Alert emails: only http(s) post links are clickable, and bidi/control characters in post text
are shown as escapes, both in the HTML and the plain text, including through a real SMTP server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html.parser import HTMLParser

from yuqing import settings as settings_mod
from yuqing.alerts import message
from yuqing.models import Alert

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
EVIL_TITLE = "\u202egnp.exe\u202c 游客被困\x07"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))


def _alert() -> Alert:
    posts = [
        {"title": EVIL_TITLE, "url": "javascript:alert(1)", "source": "news", "ts": "2026-03-01T09:00:00+00:00"},
        {"title": "图片", "url": "data:text/html,<script>alert(2)</script>", "source": "news"},
        {"title": "正常", "url": "https://example.org/a?x=1", "source": "news"},
        {"title": "大写", "url": " JavaScript:alert(3)", "source": "news"},
    ]
    return Alert(kind="topic", key="旅游", level="orange", title="旅游\u2066隐藏\u2069", id=7,
                 explanation={"top_posts": posts, "top_terms": [["被困\u200b", 3]]})


def _settings(write_config, notify: str = "mailto://a@127.0.0.1:1") -> settings_mod.Settings:
    return settings_mod.load(write_config(f"""
        [alerts]
        notify = [{json.dumps(notify)}]
        base_url = "http://127.0.0.1:8080"
        """))


def test_only_http_links_are_clickable(write_config):
    _, html, text = message.render_alerts(_settings(write_config), [_alert()], NOW)
    parser = _Links()
    parser.feed(html)
    posts = [u for u in parser.links if "/alert/" not in u]
    assert posts == ["https://example.org/a?x=1"]
    # the bad URLs are still shown, as escaped text, so nothing is lost
    assert "javascript:alert(1)" in html and "data:text/html,&lt;script&gt;" in html
    assert "<script>" not in html
    assert "javascript:alert(1)" in text


def test_bidi_and_control_characters_are_shown_as_escapes(write_config):
    subject, html, text = message.render_alerts(_settings(write_config), [_alert()], NOW)
    for body in (subject, html, text):
        for ch in ("\u202e", "\u202c", "\u2066", "\u2069", "\x07", "\u200b"):
            assert ch not in body
    assert "\\u202egnp.exe\\u202c 游客被困\\u0007" in html
    assert "\\u202egnp.exe\\u202c 游客被困\\u0007" in text
    assert "旅游\\u2066隐藏\\u2069" in subject


def test_visible_keeps_ordinary_chinese_and_joiners():
    assert message.visible("飞仙关景区 游客") == "飞仙关景区 游客"
    assert message.visible("a\nb\tc") == "a b c"
    assert message.visible("👨\u200d👩") == "👨\u200d👩"
    assert message.visible(None) == ""


def test_safe_url():
    assert message.safe_url("http://x") == "http://x"
    assert message.safe_url("HTTPS://x") == "HTTPS://x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "vbscript:x", "//evil", "", None, 3):
        assert message.safe_url(bad) is None


def test_escaped_message_through_real_smtp(write_config, smtp):
    from yuqing.delivery import outbox
    from yuqing.store import Store

    settings = _settings(write_config, smtp.mailto)
    subject, html, text = message.render_alerts(settings, [_alert()], NOW)
    with Store(settings.db_path) as store:
        outbox.enqueue(store, settings, kind="alert", ref="7", subject=subject, html=html, text=text)
        assert outbox.deliver_pending(settings, store) == (1, 0)
    [msg] = smtp.wait_for(1)
    got_html = msg.get_body(("html",)).get_content()
    got_text = msg.get_body(("plain",)).get_content()
    assert "\u202e" not in got_html + got_text + str(msg["Subject"])
    parser = _Links()
    parser.feed(got_html)
    assert [u for u in parser.links if "/alert/" not in u] == ["https://example.org/a?x=1"]


def test_digest_email_filters_links_and_shows_bidi_characters(write_config, smtp):
    """The digest email, through a real SMTP server: the same link filter and visible characters."""
    from tests.digest.populate import DAY, SOURCES_TOML, populate_day
    from yuqing.delivery import outbox
    from yuqing.digest.builder import build_digest
    from yuqing.store import Store

    settings = settings_mod.load(write_config(SOURCES_TOML + f"""
[alerts]
notify = [{json.dumps(smtp.mailto)}]
base_url = "http://127.0.0.1:8080"
[digest]
to = ["leader@example.com"]
"""))
    with Store(settings.db_path) as store:
        out = populate_day(store)
        hostile = out.post_ids["hostile"]
        with store.transaction():
            store.conn.execute("UPDATE posts SET title = ?, url = ? WHERE id = ?",
                               (EVIL_TITLE, "data:text/html,<script>alert(2)</script>", hostile))
            store.conn.execute("UPDATE events SET title = ? WHERE id = ?",
                               ("龙门乡\u202e水停\u202c三天", out.events["water"]))
        build_digest(settings, store, DAY)
        assert outbox.deliver_pending(settings, store) == (1, 0)
    [msg] = smtp.wait_for(1)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    parser = _Links()
    parser.feed(html)
    assert parser.links and all(u.startswith(("http://", "https://")) for u in parser.links), parser.links
    for body in (html, text):
        for ch in ("\u202e", "\u202c", "\x07"):
            assert ch not in body
    assert "龙门乡\\u202e水停\\u202c三天" in html and "龙门乡\\u202e水停\\u202c三天" in text
    assert "\\u202egnp.exe\\u202c" in html
