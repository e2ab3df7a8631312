"""`yuqing serve`: a small web app over the store, on the standard library's ThreadingHTTPServer.

No framework: a list of (method, path pattern, view) routes, a Request and a Response. Views live
in `yuqing.web.views`. Browsing opens the store read-only, one connection per request (each
request has its own thread); only the analysts' actions (acknowledge, correct, login's audit row)
open it for writing, briefly. Every page is sent with a Content-Security-Policy that allows no
script and nothing from another origin, so even a markup bug could not load or run anything.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from yuqing.web import auth
from yuqing.errors import StoreError
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

SESSION_COOKIE = "yq_session"
PRE_COOKIE = "yq_pre"  # pre-login nonce for the login form's CSRF token
MAX_BODY = 64 * 1024
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    headers: dict[str, str]
    client: str
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    session: auth.Session | None = None
    pre_nonce: str | None = None  # set when a fresh pre-login nonce must be sent as a cookie

    @property
    def user(self) -> str | None:
        return self.session.user if self.session else None

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.client).is_loopback
        except ValueError:
            return False


@dataclass
class Response:
    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> "Response":
        return cls("", status, headers=[("Location", location)])


View = Callable[["WebApp", Request], Response]


class HTTPError(Exception):
    """Raised by a view to answer with an error page; the message is shown to the reader."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no //host or scheme: open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


class WebApp:
    """Routes requests to views; owns the signing key and the store path."""

    def __init__(self, settings: Settings) -> None:
        from yuqing.web import views

        self.settings = settings
        self.db_path = settings.db_path
        with Store(self.db_path) as store:  # creates/migrates once, and keeps the signing key
            self.key = auth.secret(settings, store)
        # access: "public" (login page), "read" (open_read on loopback, else login), "login"
        self.routes: list[tuple[str, re.Pattern[str], View, str]] = []
        for method, pattern, view, access in views.ROUTES:
            self.routes.append((method, re.compile(f"^{pattern}$"), view, access))

    # -- stores -------------------------------------------------------------------------------
    def reader(self) -> Store:
        return Store(self.db_path, readonly=True)

    def writer(self) -> Store:
        return Store(self.db_path, migrate=False)

    # -- auth helpers -------------------------------------------------------------------------
    def csrf(self, req: Request) -> str:
        if req.session:
            return auth.csrf_token(self.key, req.session.nonce)
        nonce = req.cookies.get(PRE_COOKIE) or req.pre_nonce
        if not nonce:
            nonce = req.pre_nonce = auth.new_nonce()
        return auth.csrf_token(self.key, nonce)

    def can_read(self, req: Request) -> bool:
        return bool(req.session) or (self.settings.web.open_read and req.loopback)

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        from yuqing.web import views

        req.session = auth.read_session(self.key, req.cookies.get(SESSION_COOKIE))
        try:
            resp = self._dispatch(req)
        except HTTPError as exc:
            resp = views.error_page(self, req, exc.status, exc.message)
        except StoreError as exc:
            resp = views.error_page(self, req, 503, str(exc))
        except Exception:
            logger.exception("error serving %s %s", req.method, req.path)
            resp = views.error_page(self, req, 500, "服务器内部错误，已记录日志。")
        if req.pre_nonce:
            resp.headers.append(("Set-Cookie", f"{PRE_COOKIE}={req.pre_nonce}; Path=/; HttpOnly; SameSite=Strict"))
        return resp

    def _dispatch(self, req: Request) -> Response:
        allowed = []
        for method, pattern, view, access in self.routes:
            match = pattern.match(req.path)
            if not match:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            req.params = match.groupdict()
            if req.method == "POST":
                self._check_post(req)
                if access == "login" and not req.session:
                    raise HTTPError(403, "此操作需要登录。")
            elif (access == "login" and not req.session) or (access == "read" and not self.can_read(req)):
                return Response.redirect("/login?next=" + quote(req.path + _qs(req.query)))
            return view(self, req)
        if allowed:
            raise HTTPError(405, f"此地址不支持 {req.method} 请求。")
        raise HTTPError(404, "页面不存在。")

    def _check_post(self, req: Request) -> None:
        """Same-origin POSTs with a valid CSRF token only."""
        origin = req.headers.get("origin")
        host = req.headers.get("host", "")
        if origin and origin != "null" and urlsplit(origin).netloc != host:
            raise HTTPError(403, "跨站请求被拒绝。")
        nonce = req.session.nonce if req.session else req.cookies.get(PRE_COOKIE)
        if not auth.check_csrf(self.key, nonce, req.form.get("csrf")):
            raise HTTPError(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(query) if query else ""


def _parse_cookies(header: str | None) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def _first(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in values.items() if v}


def make_handler(app: WebApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "yuqing"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), fmt % args)

        def _run(self, method: str, head: bool = False) -> None:
            url = urlsplit(self.path)
            form: dict[str, str] = {}
            if method == "POST":
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:
                    self._send(Response("请求过大。", 413, "text/plain; charset=utf-8"))
                    return
                raw = self.rfile.read(length).decode("utf-8", "replace")
                form = _first(parse_qs(raw, keep_blank_values=True))
            req = Request(
                method=method, path=url.path, query=_first(parse_qs(url.query, keep_blank_values=True)), form=form,
                cookies=_parse_cookies(self.headers.get("Cookie")),
                headers={k.lower(): v for k, v in self.headers.items()}, client=self.client_address[0],
            )
            self._send(app.handle(req), head=head)

        def _send(self, resp: Response, head: bool = False) -> None:
            body = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
            try:
                self.send_response(resp.status, HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else None)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("X-Frame-Options", "DENY")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Cache-Control", "no-store")
                for name, value in resp.headers:
                    self.send_header(name, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self) -> None:  # noqa: N802
            self._run("GET")

        def do_HEAD(self) -> None:  # noqa: N802
            self._run("GET", head=True)

        def do_POST(self) -> None:  # noqa: N802
            self._run("POST")

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    app: WebApp

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests); stop with shutdown() then server_close()."""
        thread = threading.Thread(target=self.serve_forever, name="yuqing-web", daemon=True)
        thread.start()
        return thread


def make_server(settings: Settings, host: str, port: int) -> Server:
    """A ready (bound, not yet serving) web server; port 0 picks a free one."""
    app = WebApp(settings)
    server = Server((host, port), make_handler(app))
    server.app = app
    return server


def parse_bind(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    server = make_server(settings, host, port)
    logger.info("serving on %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
