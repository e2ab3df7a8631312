"""The web app over real HTTP on loopback: pages, access, login, CSRF, actions and their audit."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import quote, urlencode, urlsplit

import pytest

from tests.digest.conftest import start_web
from yuqing.web import auth
from yuqing.web.app import Request, WebApp, safe_next


class Client:
    """A tiny HTTP client that keeps cookies and does not follow redirects."""

    def __init__(self, base: str) -> None:
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, quote(path, safe="/?=&%:"), body=body, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                val = rest.split(";")[0]
                if "Max-Age=0" in value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def csrf(self, path: str) -> str:
        status, _, html = self.get(path)
        assert status == 200, html
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    def login(self, name: str = "zhang", password: str = "correct-horse") -> int:
        token = self.csrf("/login")
        status, _, _ = self.request("POST", "/login", {"csrf": token, "name": name, "password": password, "next": "/"})
        return status


@pytest.fixture
def client(web) -> Client:
    return Client(web.url)


def test_pages_are_utf8_html_with_a_strict_policy(web, client):
    p = web.populated
    for path, expect in [
        ("/digests", "2024-05-01"),
        ("/digest/2024-05-01", "热点事件"),
        (f"/event/{p.events['water']}", "龙门乡停水三天无人回应"),
        (f"/alert/{p.alerts['red']}", "龙门乡停水负面激增"),
        ("/alerts", "交通出行负面上升"),
        (f"/post/{p.post_ids['road0']}", "飞仙关隧道发生塌方"),
        ("/search?q=停水", "龙门乡<mark>停水</mark>"),
    ]:
        status, headers, html = client.get(path)
        assert status == 200, (path, html)
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src" not in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert expect in html, path
        assert "<script" not in html
    status, headers, _ = client.get("/")
    assert status == 303 and headers["location"] == "/digest/2024-05-01"


def test_search_filters(web, client):
    p = web.populated
    _, _, html = client.get("/search?" + urlencode({"q": "停水", "label": "negative", "source": "liuyan"}))
    assert html.count('class="h"') == 4  # the four liuyan water posts
    _, _, html = client.get("/search?" + urlencode({"q": "塌方", "since": "2024-05-01", "until": "2024-05-01"}))
    assert html.count('class="h"') == 5 and "<mark>塌方</mark>" in html
    _, _, html = client.get("/search?" + urlencode({"topic": "文旅"}))
    assert html.count('class="h"') == 8
    _, _, html = client.get("/search?" + urlencode({"q": "塌方", "since": "2024-05-02"}))
    assert "没有符合条件的信息" in html
    _, _, html = client.get("/search?" + urlencode({"q": "停水 onerror"}))
    assert f"/post/{p.post_ids['hostile']}" in html and "<img src=x" not in html


def test_bad_input_is_answered_in_words(web, client):
    for path, status, words in [
        ("/search?since=yesterday", 400, "起始日期不是有效日期"),
        ("/search?label=angry", 400, "情感筛选必须是"),
        ("/digest/2024-13-45", 400, "不是有效日期"),
        ("/digest/2023-01-01", 404, "尚未生成"),
        ("/event/999", 404, "事件 999 不存在"),
        ("/alert/999", 404, "预警 999 不存在"),
        ("/nowhere", 404, "页面不存在"),
    ]:
        got, headers, html = client.get(path)
        assert got == status and words in html, path
        assert headers["content-type"] == "text/html; charset=utf-8"


def test_login_then_acknowledge_is_audited(web, client, dstore):
    alert_id = web.populated.alerts["red"]
    assert client.login(password="wrong-password") == 401
    assert client.login() == 303
    token = client.csrf(f"/alert/{alert_id}")
    status, headers, _ = client.request("POST", f"/alert/{alert_id}/ack", {"csrf": token, "note": "已转交水务局<b>"})
    assert status == 303 and headers["location"] == f"/alert/{alert_id}?done=1"
    row = dstore.query("SELECT * FROM alerts WHERE id = ?", [alert_id])[0]
    assert row["acknowledged_by"] == "zhang" and row["ack_note"] == "已转交水务局<b>" and row["acknowledged_at"]
    actions = [(r["user"], r["action"]) for r in dstore.query("SELECT * FROM audit_log ORDER BY id")]
    assert ("zhang", "login.failed") in actions and ("zhang", "login") in actions and ("zhang", "alert.ack") in actions
    _, _, html = client.get(f"/alert/{alert_id}")
    assert "已由 zhang" in html and "已转交水务局&lt;b&gt;" in html


def test_actions_need_login_and_a_valid_csrf_token(web, client, dstore):
    alert_id = web.populated.alerts["red"]
    token = client.csrf("/login")  # a pre-login token is not a login
    status, _, html = client.request("POST", f"/alert/{alert_id}/ack", {"csrf": token, "note": "x"})
    assert status == 403 and "需要登录" in html
    client.login()
    status, _, html = client.request("POST", f"/alert/{alert_id}/ack", {"note": "no token"})
    assert status == 403 and "CSRF" in html
    status, _, _ = client.request("POST", f"/alert/{alert_id}/ack", {"csrf": "0" * 64, "note": "forged"})
    assert status == 403
    good = client.csrf(f"/alert/{alert_id}")
    status, _, _ = client.request("POST", f"/alert/{alert_id}/ack", {"csrf": good, "note": "x"},
                                  headers={"Origin": "http://evil.example"})
    assert status == 403
    assert dstore.query("SELECT acknowledged_by FROM alerts WHERE id = ?", [alert_id])[0]["acknowledged_by"] is None
    assert not dstore.query("SELECT * FROM audit_log WHERE action = 'alert.ack'")


def test_correct_a_post_writes_a_correction(web, client, dstore):
    post_id = web.populated.post_ids["misc0"]
    client.login()
    token = client.csrf(f"/post/{post_id}")
    status, _, _ = client.request("POST", f"/post/{post_id}/correct",
                                  {"csrf": token, "label": "negative", "topics": "水电气暖，民生", "note": "其实在抱怨"})
    assert status == 303
    fix = dstore.query("SELECT * FROM corrections WHERE post_id = ?", [post_id])
    assert len(fix) == 1 and fix[0]["label"] == "negative" and fix[0]["who"] == "zhang"
    assert json.loads(fix[0]["topics"]) == ["水电气暖", "民生"]
    post = dstore.get_post_row(post_id)
    assert post["label"] == "negative" and json.loads(post["topics"]) == ["水电气暖", "民生"]
    audit = dstore.query("SELECT detail FROM audit_log WHERE action = 'post.correct'")
    assert json.loads(audit[0]["detail"])["label"] == ["neutral", "negative"]
    # bad input: a clear error, nothing written
    for form, words in [({"label": "angry"}, "情感标签必须是"), ({}, "至少更正")]:
        status, _, html = client.request("POST", f"/post/{post_id}/correct", {"csrf": token, **form})
        assert status == 400 and words in html
    assert dstore.scalar("SELECT count(*) FROM corrections") == 1


def test_logout_ends_the_session(web, client):
    client.login()
    token = client.csrf("/digests")
    assert client.request("POST", "/logout", {"csrf": token})[0] == 303
    assert "yq_session" not in client.cookies
    assert 'href="/login"' in client.get("/digests")[2]


def test_closed_reading_requires_login(dconfig, populated, dstore):
    settings = dconfig("[web]\nopen_read = false\n")
    auth.add_user(dstore, "li", "long-enough-pw")
    server = start_web(settings)
    try:
        c = Client(server.url)
        status, headers, _ = c.get("/search?q=停水")
        assert status == 303 and headers["location"].startswith("/login?next=/search")
        assert c.login("li", "long-enough-pw") == 303
        assert c.get("/search?q=停水")[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_open_reading_is_for_loopback_only(dsettings, populated):
    app = WebApp(dsettings)
    req = dict(method="GET", path="/", query={}, form={}, cookies={}, headers={})
    assert app.can_read(Request(client="127.0.0.1", **req))
    assert app.can_read(Request(client="::1", **req))
    assert not app.can_read(Request(client="10.1.2.3", **req))


def test_sessions_and_redirects_cannot_be_forged():
    key = b"k" * 32
    cookie = auth.make_session(key, "zhang")
    assert auth.read_session(key, cookie).user == "zhang"
    name, expires, nonce, sig = cookie.split(".")
    forged = ".".join([auth.base64.urlsafe_b64encode(b"admin").decode().rstrip("="), expires, nonce, sig])
    assert auth.read_session(key, forged) is None
    assert auth.read_session(b"other" * 8, cookie) is None
    assert auth.read_session(key, auth.make_session(key, "zhang", ttl=-1)) is None
    assert auth.read_session(key, "garbage") is None
    assert safe_next("//evil.example/x") == "/" and safe_next("https://evil.example") == "/"
    assert safe_next("/alert/3") == "/alert/3"


def test_passwords_and_users(dstore):
    stored = auth.hash_password("correct-horse")
    assert stored.startswith("scrypt$") and "correct-horse" not in stored
    assert auth.verify_password("correct-horse", stored) and not auth.verify_password("wrong", stored)
    assert not auth.verify_password("x", "not-a-hash")
    auth.add_user(dstore, "wang", "long-enough-pw")
    with pytest.raises(auth.AuthError, match="exists already"):
        auth.add_user(dstore, "wang", "another-password")
    with pytest.raises(auth.AuthError, match="too short"):
        auth.add_user(dstore, "zhao", "short")
    with pytest.raises(auth.AuthError, match="not allowed"):
        auth.add_user(dstore, "bad name!", "long-enough-pw")
    assert dstore.scalar("SELECT count(*) FROM users") == 1
    auth.add_user(dstore, "wang", "a-new-password", replace=True)
    assert auth.check_login(dstore, "wang", "a-new-password") and not auth.check_login(dstore, "wang", "long-enough-pw")


def test_cli_user_add(dsettings, dstore):
    from click.testing import CliRunner

    from yuqing.cli import cli

    runner = CliRunner()
    cfg = dsettings.config_file
    ok = runner.invoke(cli, ["--config", cfg, "user", "add", "chen", "--password-stdin"], input="pass-word-1\n")
    assert ok.exit_code == 0, ok.output
    assert auth.check_login(dstore, "chen", "pass-word-1")
    prompted = runner.invoke(cli, ["--config", cfg, "user", "add", "liu"], input="pass-word-2\npass-word-2\n")
    assert prompted.exit_code == 0 and auth.check_login(dstore, "liu", "pass-word-2")
    short = runner.invoke(cli, ["--config", cfg, "user", "add", "sun", "--password-stdin"], input="abc\n")
    assert short.exit_code == 2 and "too short" in short.output
    listed = runner.invoke(cli, ["--config", cfg, "user", "list"])
    assert "chen" in listed.output and "liu" in listed.output and "sun" not in listed.output


def test_alert_page_lays_out_the_explanation_escaped(web, client):
    p = web.populated
    status, _, html = client.get(f"/alert/{p.alerts['red']}")
    assert status == 200
    assert "代表帖子" in html and f'href="/post/{p.post_ids["hostile"]}"' in html
    assert "&lt;script&gt;alert(&#34;pwn&#34;)" in html and "<script" not in html
    assert "javascript:" not in html
    assert "&lt;b&gt;龙门乡&lt;/b&gt; 9" in html and "&lt;i&gt;extra&lt;/i&gt;" in html  # unknown keys kept as text
    assert "92.9%" in html and "1.2" in html  # counts vs baseline
    assert f'href="/event/{p.events["water"]}"' in html


def test_yuqing_serve_runs_and_refuses_a_bad_bind(dsettings, populated, dstore):
    import subprocess
    import sys
    import time

    from click.testing import CliRunner

    from tests.conftest import free_port
    from yuqing.cli import cli
    from yuqing.digest.builder import build_digest

    bad = CliRunner().invoke(cli, ["--config", dsettings.config_file, "serve", "--bind", "localhost"])
    assert bad.exit_code == 2 and "--bind" in bad.output and "host:port" in bad.output
    build_digest(dsettings, dstore, populated.day, send=False)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--config", dsettings.config_file, "serve",
                             "--bind", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while True:
            try:
                status, headers, html = Client(f"http://127.0.0.1:{port}").get("/digests")
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()
                time.sleep(0.2)
        assert status == 200 and "2024-05-01" in html
        assert headers["content-type"] == "text/html; charset=utf-8"
    finally:
        proc.terminate()
        proc.wait(10)


def test_links_in_alert_emails_open_the_alert_page(web, client, dstore, dsettings):
    """The alert email's 查看 link must land on this app's alert page."""
    import re
    from urllib.parse import urlsplit

    from yuqing.alerts.lifecycle import to_alert
    from yuqing.alerts.message import render_alerts
    from yuqing.models import utcnow

    row = dstore.query("SELECT * FROM alerts WHERE id = ?", [web.populated.alerts["red"]])[0]
    _subject, html, text = render_alerts(dsettings, [to_alert(row)], utcnow())
    links = {urlsplit(u).path for u in re.findall(r"http://127\.0\.0\.1:8080(/alert[^\s\"'<]*)", text + html)}
    assert links, "the email carries no link to the alert page"
    for path in links:
        status, _, page = client.get(path)
        assert status == 200 and "龙门乡停水负面激增" in page, path
