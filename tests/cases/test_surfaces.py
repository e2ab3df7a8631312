"""The same case through the CLI (JSON), the web app in Debian's Chromium and the emails: the same
states and names everywhere; every bad input a sentence and exit 2 or 1, no traceback."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.alerts.helpers import T0, add_event, background, spike
from tests.conftest import not_on_postgres
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.cli import cli
from yuqing.delivery import outbox
from yuqing.store import Store

NOW = T0 + timedelta(weeks=3, hours=10)
CHROMIUM = "/usr/bin/chromium"
FIELDS = {"id", "state", "level", "title", "opened_at", "alerts", "events", "posts", "unit", "due_at", "overdue",
          "timeline"}


@pytest.fixture
def world(write_config, smtp):
    unit = smtp.mailto.replace("duty@example.com", "water@example.com")
    path = write_config(f"""
        [alerts]
        notify = [{json.dumps(smtp.mailto)}]

        [[units]]
        name = "县水务局"
        notify = [{json.dumps(unit)}]
        """)
    settings = settings_mod.load(path)
    with Store(settings.db_path) as store:
        background(store, T0, 24 * (7 * 3 + 1))
        ev = add_event(store, "城东片区停水三天", NOW, NOW)
        spike(store, NOW + timedelta(minutes=5), 14, title="城东停水三天<b>没人管</b>", topics=["民生"], event_id=ev)
        detector.detect(settings, store, NOW + timedelta(minutes=50))
        outbox.deliver_pending(settings, store)
    return path, settings


def _cli(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(path), "cases", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_walks_a_case_to_its_end_with_json_fields(world, smtp):
    path, _ = world
    code, out, _ = _cli(path, "list", "--json")
    assert code == 0
    [case] = json.loads(out)
    assert FIELDS <= set(case)
    assert case["state"] == "待研判" and len(case["alerts"]) == 3 and case["events"]
    assert case["title"].startswith("城东停水三天") and case["posts"][0]["url"].startswith("http")
    cid = str(case["id"])
    assert _cli(path, "assess", cid, "--verdict", "属实", "--level", "橙", "--by", "张三")[0] == 0
    code, out, _ = _cli(path, "assign", cid, "--unit", "县水务局", "--due", "6h", "--by", "张三", "--json")
    assert code == 0
    [assigned] = json.loads(out)
    assert assigned["state"] == "处置中" and assigned["unit"] == "县水务局" and assigned["due_at"]
    mail = smtp.wait_for(2)[1]
    assert "【舆情交办】" in str(mail["Subject"]) and "处置中" in mail.get_body(("plain",)).get_content()
    assert _cli(path, "respond", cid, "--url", "https://www.example.gov.cn/1.html", "--by", "李四")[0] == 0
    assert _cli(path, "close", cid, "--summary", "已恢复供水", "--by", "张三")[0] == 0
    code, out, _ = _cli(path, "show", cid, "--json")
    [shown] = json.loads(out)
    assert shown["state"] == "办结" and shown["verdict"] == "属实" and shown["level"] == "orange"
    assert [s["state"] for s in shown["timeline"]][-4:] == ["已研判", "处置中", "已回应", "办结"]
    assert [c["id"] for c in json.loads(_cli(path, "list", "--state", "办结", "--json")[1])] == [case["id"]]
    assert json.loads(_cli(path, "list", "--state", "待研判", "--json")[1]) == []
    code, out, _ = _cli(path, "check")
    assert code == 0 and "no deadline passed" in out


@pytest.mark.parametrize("args, code, words", [
    (["show", "99"], 1, "no case #99"),
    (["assess", "1", "--verdict", "假的"], 2, "unknown verdict"),
    (["assess", "1", "--verdict", "属实", "--level", "紫"], 2, "unknown level"),
    (["assign", "1", "--unit", "县水务局", "--due", "后天"], 2, "--due"),
    (["assign", "1", "--unit", "县教育局"], 2, "no unit named"),
    (["respond", "1", "--url", "https://x.cn/1"], 1, "cannot respond"),
    (["close", "1", "--summary", "x"], 1, "cannot close"),
    (["list", "--state", "已完成"], 2, "unknown state"),
    (["open", "--post", "999999"], 1, "no post"),
    (["open"], 2, "exactly one"),
])
def test_bad_inputs_are_words_and_exit_codes(world, args, code, words):
    path, _ = world
    got, out, err = _cli(path, *args)
    assert got == code, (out, err)
    assert words in err and "Traceback" not in err + out


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
@not_on_postgres("the web app's sessions (PRAGMA table_info in store/sessions.py)")
def test_the_web_app_walks_the_case_with_the_same_words(world, smtp, artifacts: Path):
    from playwright.sync_api import sync_playwright

    from yuqing.web.app import make_server
    from yuqing.web.auth import add_user

    path, settings = world
    with Store(settings.db_path) as store:
        add_user(store, "zhang", "correct-horse")
    server = make_server(settings, "127.0.0.1", 0)
    server.start()
    requests: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900}).new_page()
            page.set_default_timeout(10_000)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{server.url}/cases")
            assert page.locator(".case-column[data-state='待研判'] .case-row").count() == 1
            page.locator(".case-row a").first.click()
            assert page.locator("#case-state").inner_text() == "待研判"
            assert "<b>" in page.locator("h1").inner_text()  # a post's markup is shown as words
            page.goto(f"{server.url}/login?next=/case/1")
            page.fill("input[name=name]", "zhang")
            page.fill("input[name=password]", "correct-horse")
            page.click("button:has-text('登录')")
            page.select_option("#form-assess select[name=verdict]", "属实")
            page.click("#form-assess button")
            assert page.locator("#case-state").inner_text() == "已研判"
            page.fill("#form-assign input[name=due]", "3h")
            page.click("#form-assign button")
            assert page.locator("#case-state").inner_text() == "处置中"
            assert page.locator("#case-unit").inner_text() == "县水务局"
            page.fill("#form-respond input[name=url]", "https://www.example.gov.cn/1.html")
            page.click("#form-respond button")
            page.screenshot(path=str(artifacts / "case.png"), full_page=True)
            assert page.locator("#case-state").inner_text() == "已回应"
            page.fill("#form-close input[name=summary]", "已恢复供水")
            page.click("#form-close button")
            assert page.locator("#case-state").inner_text() == "办结"
            steps = page.locator("#timeline .step-state").all_inner_texts()
            assert steps[-4:] == ["已研判", "处置中", "已回应", "办结"]
            page.goto(f"{server.url}/alert/1")
            assert "案件 #1" in page.locator("#case-link").inner_text()
            page.goto(f"{server.url}/cases")
            page.screenshot(path=str(artifacts / "board.png"), full_page=True)
            assert page.locator(".case-column[data-state='办结'] .case-row").count() == 1
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert all("127.0.0.1" in u for u in requests)
    _code, out, _ = _cli(path, "show", "1", "--json")
    [shown] = json.loads(out)
    assert [s["state"] for s in shown["timeline"]][-4:] == steps[-4:]  # CLI and web say the same
    with Store(settings.db_path) as store:  # the web app queues; the daemon's delivery job sends
        assert outbox.deliver_pending(settings, store) == (1, 0)
    texts = [m.get_body(("plain",)).get_content() for m in smtp.wait_for(2)]
    assert "状态：待研判" in texts[0] and "状态：处置中" in texts[1]
    with Store(settings.db_path) as store:
        audit = [r["action"] for r in store.query("SELECT action FROM audit_log WHERE user = 'zhang' ORDER BY id")]
    assert audit[-4:] == ["case.assess", "case.assign", "case.respond", "case.close"]


@not_on_postgres("the web app's sessions (PRAGMA table_info in store/sessions.py)")
def test_web_actions_need_login_and_csrf_and_refuse_bad_input_in_words(world):
    from tests.digest.test_web import Client
    from yuqing.web.app import make_server
    from yuqing.web.auth import add_user

    _, settings = world
    with Store(settings.db_path) as store:
        add_user(store, "zhang", "correct-horse")
    server = make_server(settings, "127.0.0.1", 0)
    server.start()
    try:
        client = Client(server.url)
        token = client.csrf("/login")  # a pre-login token is not a login
        status, _, html = client.request("POST", "/case/1/assess", {"csrf": token, "verdict": "属实"})
        assert status == 403 and "登录" in html
        assert client.login() == 303
        status, _, _ = client.request("POST", "/case/1/assess", {"csrf": "0" * 64, "verdict": "属实"})
        assert status == 403
        good = client.csrf("/case/1")
        for action, form, code, words in [
            ("assess", {"verdict": "真的"}, 400, "unknown verdict"),
            ("assign", {"unit": "县水务局", "due": "明天"}, 400, "--due"),
            ("close", {"summary": "x"}, 409, "cannot close"),
            ("respond", {"url": "https://x.cn/1"}, 409, "cannot respond"),
        ]:
            status, _, html = client.request("POST", f"/case/1/{action}", {"csrf": good, **form})
            assert status == code and words in html and "Traceback" not in html, (action, status)
        status, _, html = client.get("/case/999")
        assert status == 404 and "案件 999 不存在" in html
        status, _, html = client.request("POST", "/cases/open", {"csrf": good, "post": "abc"})
        assert status == 400
        status, headers, _ = client.request("POST", "/cases/open", {"csrf": good, "event": "1", "level": "橙"})
        assert status == 303 and headers["location"] == "/case/2?done=open"
    finally:
        server.shutdown()
        server.server_close()
    with Store(settings.db_path) as store:
        first = store.query("SELECT state, verdict FROM cases WHERE id = 1")[0]
        assert first == {"state": "待研判", "verdict": None}  # nothing the refusals touched
        assert store.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'case.%'") == 1  # the 立案 only
        assert store.query("SELECT origin, level, state FROM cases WHERE id = 2") == [
            {"origin": "manual", "level": "orange", "state": "待研判"}]
