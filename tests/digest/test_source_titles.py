"""A source's `title` ("清溪问政") is what people see in the digest, its email, the web pages and alert
emails; a source without one is shown by its config name."""

from __future__ import annotations

from tests.digest.populate import SOURCES_TOML
from tests.digest.test_web import Client

TITLED = SOURCES_TOML.replace('name = "county-news"\n', 'name = "county-news"\ntitle = "清溪问政"\n')


def test_titles_in_digest_web_pages_and_alert_emails(write_config, tmp_path):
    from tests.digest.conftest import start_web
    from tests.digest.populate import populate_day
    from yuqing.alerts.lifecycle import to_alert
    from yuqing.alerts.message import render_alerts
    from yuqing.digest.builder import build_digest, collect
    from yuqing.digest.render import email_html
    from yuqing.models import utcnow
    from yuqing.store import Store

    from yuqing import settings as settings_mod

    settings = settings_mod.load(write_config(TITLED + f'\n[alerts]\noutbox = "{tmp_path / "outbox"}"\n'))
    assert settings.source_title("county-news") == "清溪问政" and settings.source_title("liuyan") == "liuyan"
    with Store(settings.db_path) as store:
        populated = populate_day(store)
        data = collect(settings, store, populated.day)
        names = {s["name"] for s in data["sources"]}
        assert "清溪问政" in names and "county-news" not in names
        assert all(p["source"] != "county-news" for p in data["negatives"])
        html = email_html(data, base="http://127.0.0.1:8080")
        assert "清溪问政" in html and ">county-news<" not in html
        build_digest(settings, store, populated.day, send=False)
        row = store.query("SELECT * FROM alerts WHERE id = ?", [populated.alerts["red"]])[0]
        alert = to_alert(row)
        alert.explanation["top_posts"] = [{"title": "芦山停水", "url": "https://example.org/1", "source": "county-news",
                                           "ts": "2024-05-01T02:00:00+00:00"},
                                          {"title": "留言", "url": "https://example.org/2", "source": "liuyan"}]
        _subject, mail_html, mail_text = render_alerts(settings, [alert], utcnow())
        assert "清溪问政" in mail_text and "county-news" not in mail_text and "liuyan" in mail_text
        assert "清溪问政" in mail_html
        post_id = store.query("SELECT id FROM posts WHERE source = 'county-news' LIMIT 1")[0]["id"]
    server = start_web(settings)
    try:
        client = Client(server.url)
        status, _, page = client.get(f"/post/{post_id}")
        assert status == 200
        assert '<span class="tag">清溪问政</span>' in page and '<span class="tag">county-news</span>' not in page
        status, _, page = client.get("/search?q=芦山")
        assert status == 200 and '<span class="tag">county-news</span>' not in page
    finally:
        server.shutdown()
        server.server_close()
