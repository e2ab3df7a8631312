"""The hostile tester's findings against `yuqing serve`, each replayed over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from click.testing import CliRunner

from tests.digest.conftest import start_web
from tests.digest.test_web import Client
from yuqing.cli import cli
from yuqing.web import auth
from yuqing.web.app import Response, _send, make_server, safe_next


@pytest.fixture
def client(web) -> Client:
    return Client(web.url)


def _login_post(client: Client, name: str, password: str, next_: str = "/") -> tuple[int, dict[str, str], str]:
    token = client.csrf("/login")
    return client.request("POST", "/login", {"csrf": token, "name": name, "password": password, "next": next_})


def test_next_cannot_inject_a_header(web, client):
    status, headers, body = _login_post(client, "zhang", "correct-horse", "/\r\nSet-Cookie: yq_session=attacker")
    assert status == 303 and headers["location"] == "/"
    assert "attacker" not in str(headers) and "attacker" not in body
    assert client.cookies["yq_session"] != "attacker"


def test_next_cannot_leave_the_site(web, client):
    status, headers, _ = _login_post(client, "zhang", "correct-horse", "/\t/evil.example/")
    assert status == 303 and headers["location"] == "/"
    for bad in ["/\t/evil.example/", "//evil.example", "/\\evil.example", "https://evil.example/", "javascript:x",
                "/\r\nX: y", "/\x00", "/\u202eevil", "", None, "relative", "/%0d%0a"[:1] + "\n"]:
        assert safe_next(bad) == "/", bad
    assert safe_next("/search?q=%E5%81%9C") == "/search?q=%E5%81%9C"
    assert safe_next("/alert/3?done=1") == "/alert/3?done=1"


def test_no_header_can_carry_cr_or_lf():
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    bad = Response.redirect("/x\r\nSet-Cookie: a=b")
    body = _send(lambda status, headers: seen.append((status, headers)), bad, head=False)
    status, headers = seen[0]
    assert status.startswith("500") and all("\n" not in v and "\r" not in v for _, v in headers)
    assert not any(n == "Location" for n, _ in headers) and b"a=b" not in b"".join(body)


def _ack(client: Client, alert_id: int, cookie: str, token: str) -> int:
    client.cookies = {"yq_session": cookie}
    return client.request("POST", f"/alert/{alert_id}/ack", {"csrf": token, "note": "replayed"})[0]


def test_logout_revokes_the_session_server_side(web, client, dstore):
    alert_id = web.populated.alerts["red"]
    assert client.login() == 303
    cookie = client.cookies["yq_session"]
    token = client.csrf(f"/alert/{alert_id}")
    assert client.request("POST", "/logout", {"csrf": token})[0] == 303
    assert _ack(client, alert_id, cookie, token) == 403  # the old cookie, kept by an attacker
    assert dstore.query("SELECT acknowledged_by FROM alerts WHERE id = ?", [alert_id])[0]["acknowledged_by"] is None


@pytest.mark.parametrize("command", [["user", "passwd", "zhang", "--password-stdin"], ["user", "disable", "zhang"],
                                     ["user", "remove", "zhang"]])
def test_password_change_disable_and_remove_end_sessions(web, client, dstore, dsettings, command):
    alert_id = web.populated.alerts["red"]
    assert client.login() == 303
    cookie = client.cookies["yq_session"]
    token = client.csrf(f"/alert/{alert_id}")
    assert 'action="/logout"' in client.get("/digests")[2]
    result = CliRunner().invoke(cli, ["--config", dsettings.config_file, *command], input="brand-new-pass\n")
    assert result.exit_code == 0, result.output
    assert "session" in result.output
    assert _ack(client, alert_id, cookie, token) == 403
    assert not dstore.query("SELECT * FROM audit_log WHERE action = 'alert.ack'")
    fresh = Client(web.url)
    expect = 303 if command[1] == "passwd" else 401
    assert fresh.login("zhang", "brand-new-pass" if command[1] == "passwd" else "correct-horse") == expect


def test_user_commands_refuse_unknown_names(dsettings, dstore):
    runner = CliRunner()
    for command in (["disable", "nobody"], ["remove", "nobody"], ["passwd", "nobody", "--password-stdin"]):
        result = runner.invoke(cli, ["--config", dsettings.config_file, "user", *command], input="long-enough-pw\n")
        assert result.exit_code == 2 and "no user 'nobody'" in result.output and "Traceback" not in result.output
    auth.add_user(dstore, "wu", "long-enough-pw")
    assert runner.invoke(cli, ["--config", dsettings.config_file, "user", "disable", "wu"]).exit_code == 0
    assert "disabled" in runner.invoke(cli, ["--config", dsettings.config_file, "user", "list"]).output
    assert not auth.check_login(dstore, "wu", "long-enough-pw")
    assert runner.invoke(cli, ["--config", dsettings.config_file, "user", "disable", "wu", "--enable"]).exit_code == 0
    assert auth.check_login(dstore, "wu", "long-enough-pw")


def test_wrong_passwords_lock_the_name_out(web, client, dstore):
    for _ in range(auth.USER_FAILURES):
        assert _login_post(client, "zhang", "wrong-password")[0] == 401
    status, _, html = _login_post(client, "zhang", "correct-horse")
    assert status == 429 and "锁定" in html and "分钟后再试" in html
    assert "yq_session" not in client.cookies
    locked = dstore.query("SELECT * FROM audit_log WHERE action = 'login.locked'")
    assert locked and locked[0]["user"] == "zhang" and "127.0.0.1" in locked[0]["detail"]


def test_one_client_guessing_many_names_is_locked_out(web, client, dstore):
    for i in range(auth.CLIENT_FAILURES):
        assert _login_post(client, f"guess{i}", "wrong-password")[0] == 401
    assert _login_post(client, "zhang", "correct-horse")[0] == 429


def test_a_pre_login_token_works_once(web, client):
    token = client.csrf("/login")
    pre = dict(client.cookies)
    form = {"csrf": token, "name": "zhang", "password": "wrong-password", "next": "/"}
    assert client.request("POST", "/login", form)[0] == 401
    client.cookies = pre  # replay the same cookie and token
    status, _, html = client.request("POST", "/login", {**form, "password": "correct-horse"})
    assert status == 403 and "只能提交一次" in html


def test_password_hashing_is_bounded():
    slots = auth.HASH_SLOTS
    busy = []
    peak = [0]
    lock = threading.Lock()
    active = [0]
    real = auth.hashlib.scrypt

    def counting(*args, **kwargs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    auth.hashlib.scrypt = counting
    try:
        threads = [threading.Thread(target=lambda: busy.append(auth.hash_password("pw-" * 4))) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        auth.hashlib.scrypt = real
    assert len(busy) == 12 and peak[0] <= slots._initial_value  # type: ignore[attr-defined]


def test_host_header_must_be_allowed(web, client, dconfig, populated):
    status, _, body = client.request("GET", "/digests", headers={"Host": "evil.example:8080"})
    assert status == 421 and "allowed_hosts" in body and "2024-05-01" not in body
    port = web.server_address[1]
    assert client.request("GET", "/digests", headers={"Host": f"localhost:{port}"})[0] == 200
    settings = dconfig('[web]\nallowed_hosts = ["yuqing.office.lan"]\nsecure_cookies = true\n')
    server = start_web(settings)
    try:
        c = Client(server.url)
        assert c.request("GET", "/login", headers={"Host": "127.0.0.1"})[0] == 421
        status, headers, _ = c.request("GET", "/login", headers={"Host": "yuqing.office.lan"})
        assert status == 200 and "Secure" in headers["set-cookie"]
    finally:
        server.shutdown()


def test_ids_out_of_range_are_404(web, client):
    for path in ["/post/99999999999999999999", "/event/99999999999999999999", "/alert/9223372036854775808"]:
        status, _, html = client.get(path)
        assert status == 404 and "不存在" in html, path


def _raw(url_port: int, data: bytes, wait: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", url_port), timeout=wait) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        except ConnectionResetError:  # refused before it finished reading what we sent
            chunks.append(b"RESET ")
        return b"".join(chunks)


def test_request_size_limits(web):
    port = web.server_address[1]
    huge_header = b"GET /digests HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 40_000 + b"\r\n\r\n"
    reply = _raw(port, huge_header)
    assert reply.split(b"\r\n")[0].split(b" ")[1] in (b"431", b"400") or reply == b"RESET ", reply[:60]
    assert _raw(port, b"GET /digests HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: short\r\nConnection: close\r\n\r\n"
                ).startswith(b"HTTP/1.1 200")
    big_body = (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 200000\r\nConnection: close\r\n\r\n" + b"a" * 200_000)
    assert _raw(port, big_body).split(b" ")[1] == b"413"


def test_an_idle_half_sent_request_is_closed(dsettings, populated, dstore):
    server = make_server(dsettings, "127.0.0.1", 0, idle_timeout=2)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=15) as s:
            s.sendall(b"GET /digests HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
            started = time.monotonic()
            assert s.recv(100) == b""  # closed by the server, not by our timeout
            assert time.monotonic() - started < 10
    finally:
        server.shutdown()


def test_200_concurrent_page_loads_are_all_answered(web):
    port = web.server_address[1]
    results: list[float | str] = []
    lock = threading.Lock()
    gate = threading.Barrier(200)

    def load() -> None:
        try:
            gate.wait(10)
            t0 = time.monotonic()
            reply = _raw(port, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", wait=10)
            ok = reply.startswith(b"HTTP/1.1 200")
            with lock:
                results.append(time.monotonic() - t0 if ok else reply[:40].decode("latin-1"))
        except Exception as exc:  # a refused or reset connection is a failure to report
            with lock:
                results.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    failures = [r for r in results if isinstance(r, str)]
    assert len(results) == 200 and not failures, failures[:3]
    assert max(r for r in results if isinstance(r, float)) < 5.0
