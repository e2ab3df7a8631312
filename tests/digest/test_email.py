"""The digest email, received by a real SMTP server on loopback and parsed."""

from __future__ import annotations

from tests.digest.populate import DAY, HOSTILE_TITLE, populate_day
from tests.digest.test_builder import SECTIONS
from yuqing.delivery.outbox import deliver_pending
from yuqing.digest.builder import build_digest
from yuqing.store import Store


def _parts(msg):
    html = msg.get_body(preferencelist=("html",)).get_content()
    text = msg.get_body(preferencelist=("plain",)).get_content()
    return html, text


def test_digest_email_arrives_once_with_sections_and_text_part(dconfig, smtp):
    settings = dconfig('[digest]\nto = ["leader@example.com", "duty@example.com"]\n', alerts=f'notify = ["{smtp.mailto}"]')
    with Store(settings.db_path) as store:
        populate_day(store)
        build_digest(settings, store, DAY)
        assert deliver_pending(settings, store) == (1, 0)
        msgs = smtp.wait_for(1)
        assert len(msgs) == 1
        msg = msgs[0]
        subject = str(msg["Subject"])
        assert "芦山县舆情日报 2024-05-01" in subject and "32 条" in subject and "负面 46.9%" in subject
        assert "预警 1 条" in subject  # one alert still open
        assert {a.strip() for a in str(msg["To"]).split(",")} == {"leader@example.com", "duty@example.com"}
        html, text = _parts(msg)
        positions = [html.index(f">{s}</h2>") for s in SECTIONS]
        assert positions == sorted(positions)
        assert "<svg" not in html
        assert "龙门乡停水三天无人回应" in html and "红色(I级)" in html
        assert "http://127.0.0.1:8080/digest/2024-05-01" in html
        assert "<script>alert" not in html and "&lt;script&gt;" in html
        for section in SECTIONS:
            assert f"【{section}】" in text
        assert HOSTILE_TITLE in text and "HTTP 403" in text
        # a rebuild (e.g. after late posts) neither duplicates nor resends the email
        build_digest(settings, store, DAY)
        assert deliver_pending(settings, store) == (0, 0)
        assert len(smtp.wait_for(2, timeout=1.0)) == 1


def test_digest_goes_to_the_outbox_without_channels(dsettings, dstore, populated):
    build_digest(dsettings, dstore, DAY)
    assert deliver_pending(dsettings, dstore) == (1, 0)
    files = list(dsettings.path(dsettings.alerts.outbox).glob("*.eml"))
    assert len(files) == 1
    import email
    import email.policy

    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert "芦山县舆情日报 2024-05-01" in str(msg["Subject"])
    html, text = _parts(msg)
    assert "热点事件" in html and "【热点事件】" in text
