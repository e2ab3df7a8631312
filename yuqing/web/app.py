"""`yuqing serve`: a small web app over the store, served as WSGI by waitress.

The app keeps its own tiny router: a list of (method, path pattern, view, access) routes, a Request
and a Response; views live in `yuqing.web.views` (and modules appended to its ROUTES). Under it,
waitress (a production WSGI server, pure Python) does the sockets: a real listen backlog, a thread
pool, limits on header and body size, and idle connections closed after `channel_timeout`.

Browsing opens the store read-only, one connection per request; only the analysts' actions
(acknowledge, correct, login) open it for writing, briefly. Every page is sent with a
Content-Security-Policy that allows no script and nothing from another origin. Sessions are rows in
the store (`yuqing.store.sessions`), so logout, a password change, `user disable` and `user remove`
end them at once. Requests whose Host header is not one of `[web] allowed_hosts` are refused, so
a page on another site cannot read the store through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from yuqing.errors import StoreError
from yuqing.settings import Settings
from yuqing.store import Store, sessions
from yuqing.web import auth

logger = logging.getLogger(__name__)

SESSION_COOKIE = "yq_session"
PRE_COOKIE = "yq_pre"  # pre-login nonce for the login form's CSRF token
MAX_BODY = 64 * 1024
MAX_HEADERS = 16 * 1024
IDLE_TIMEOUT = 30  # seconds a connection may sit without sending anything
BACKLOG = 1024
THREADS = 8
# a streamed download waits for a slow client once this much is queued, instead of waitress's 16 MB
OUTBUF_HIGH = 2 * 1024 * 1024
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


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
    body: str | bytes | Iterable[bytes] = ""  # an iterable is streamed (downloads), without Content-Length
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response:
        return cls("", status, headers=[("Location", location)])


View = Callable[["WebApp", Request], Response]


class HTTPError(Exception):
    """Raised by a view to answer with an error page; the message is shown to the reader."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_next(target: str | None) -> str:
    """Only a same-origin path is followed after login: no scheme, no host, no `//` or `/\\`, and no
    control character (a CR/LF would split the Location header, a tab is dropped by browsers so
    `/\\t/evil` becomes `//evil`)."""
    if not target or not target.startswith("/") or _CONTROL.search(target) or "\\" in target:
        return "/"
    if target.startswith("//") or urlsplit(target).scheme or urlsplit(target).netloc:
        return "/"
    return target


def default_hosts(bind_host: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys([bind_host.lower(), "localhost", "127.0.0.1", "::1"]))


def host_name(header: str) -> str:
    """The host part of a Host header ("[::1]:8080" -> "::1"); lower case."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class WebApp:
    """Routes requests to views; owns the signing key and the store path. A WSGI application."""

    def __init__(self, settings: Settings, bind_host: str | None = None) -> None:
        from yuqing.web import views

        self.settings = settings
        self.db_path = settings.db_path
        with Store(self.db_path) as store:  # creates/migrates once, and keeps the signing key
            self.key = auth.secret(settings, store)
            sessions.ensure(store)
        host = bind_host if bind_host is not None else settings.web.bind.rpartition(":")[0].strip("[]")
        configured = getattr(settings.web, "allowed_hosts", ())
        self.allowed_hosts = {h.lower() for h in (configured or default_hosts(host))}
        self.secure = bool(getattr(settings.web, "secure_cookies", False))
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
        nonce = req.pre_nonce or req.cookies.get(PRE_COOKIE)
        if not nonce:
            nonce = req.pre_nonce = auth.new_nonce()
        return auth.csrf_token(self.key, nonce)

    def can_read(self, req: Request) -> bool:
        return bool(req.session) or (self.settings.web.open_read and req.loopback)

    def cookie(self, name: str, value: str, *, max_age: int | None = None) -> str:
        """A Set-Cookie value: HttpOnly, SameSite=Strict, Secure when [web] secure_cookies."""
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def start_session(self, user: str) -> str:
        """A new session for `user`: a signed cookie value whose nonce is a row in the store."""
        value = auth.make_session(self.key, user)
        found = auth.read_session(self.key, value)
        assert found is not None
        with self.writer() as store:
            sessions.open_session(store, found.nonce, user, datetime.fromtimestamp(found.expires, timezone.utc))
        return value

    def end_session(self, req: Request) -> None:
        if req.session:
            with self.writer() as store:
                sessions.revoke(store, nonce=req.session.nonce, reason="logout")

    def _session(self, cookie: str | None) -> auth.Session | None:
        found = auth.read_session(self.key, cookie)
        if not found:
            return None
        with self.reader() as store:
            return found if sessions.session_valid(store, found.nonce, found.user) else None

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        from yuqing.web import views

        try:
            if host_name(req.headers.get("host", "")) not in self.allowed_hosts:
                # no page (and no store access) for a name we do not serve: DNS rebinding
                return Response("Host not allowed (see [web] allowed_hosts)\n", 421, "text/plain; charset=utf-8")
            req.session = self._session(req.cookies.get(SESSION_COOKIE))
            resp = self._dispatch(req)
        except HTTPError as exc:
            resp = views.error_page(self, req, exc.status, exc.message)
        except StoreError as exc:
            resp = views.error_page(self, req, 503, str(exc))
        except auth.Busy as exc:
            resp = views.error_page(self, req, 503, f"服务器繁忙：{exc}")
        except Exception:
            logger.exception("error serving %s %s", req.method, req.path)
            resp = views.error_page(self, req, 500, "服务器内部错误，已记录日志。")
        if req.pre_nonce:
            resp.headers.append(("Set-Cookie", self.cookie(PRE_COOKIE, req.pre_nonce)))
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
        """Same-origin POSTs with a valid CSRF token only; a pre-login token works once."""
        origin = req.headers.get("origin")
        host = req.headers.get("host", "")
        if origin and origin != "null" and urlsplit(origin).netloc != host:
            raise HTTPError(403, "跨站请求被拒绝。")
        nonce = req.session.nonce if req.session else req.cookies.get(PRE_COOKIE)
        if not auth.check_csrf(self.key, nonce, req.form.get("csrf")):
            raise HTTPError(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")
        if not req.session and nonce:
            with self.writer() as store:
                fresh = sessions.use_token(store, nonce)
            req.pre_nonce = auth.new_nonce()  # the next form gets a new token either way
            if not fresh:
                raise HTTPError(403, "表单已使用过（每个登录表单只能提交一次），请刷新页面后重试。")

    # -- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        head = method == "HEAD"
        if head:
            method = "GET"
        path = _wsgi_str(environ.get("PATH_INFO", "")) or "/"
        headers = {k[5:].replace("_", "-").lower(): _wsgi_str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        form: dict[str, str] = {}
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                return _send(start_response, Response("请求过大。", 413, "text/plain; charset=utf-8"), head)
            raw = environ["wsgi.input"].read(length).decode("utf-8", "replace")
            form = _first(parse_qs(raw, keep_blank_values=True))
        req = Request(
            method=method, path=path, query=_first(parse_qs(_wsgi_str(environ.get("QUERY_STRING", "")),
                                                            keep_blank_values=True)),
            form=form, cookies=_parse_cookies(headers.get("cookie")), headers=headers,
            client=environ.get("REMOTE_ADDR", ""),
        )
        return _send(start_response, self.handle(req), head)


def _wsgi_str(value: str) -> str:
    """WSGI hands over bytes as latin-1 text; the app speaks UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value


def _clean_header(name: str, value: str) -> tuple[str, str]:
    """No header may carry CR, LF or another control character: a view's bug must not split it."""
    if _CONTROL.search(name) or re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError(f"control character in response header {name!r}")
    return name, value


def _send(start_response: Callable[..., Any], resp: Response, head: bool) -> Iterable[bytes]:
    if not isinstance(resp.body, (str, bytes)):
        return _stream(start_response, resp, head)
    body = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
    try:
        extra = [_clean_header(n, v) for n, v in resp.headers]
    except ValueError:
        logger.error("refused a response with a control character in a header (status %d)", resp.status)
        words = "服务器内部错误，已记录日志。"
        resp, extra = Response(words, 500, "text/plain; charset=utf-8"), []
        body = words.encode("utf-8")
    phrase = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else "Status"
    headers = [
        ("Content-Type", resp.content_type), ("Content-Length", str(len(body))),
        ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"), *extra,
    ]
    start_response(f"{resp.status} {phrase}", headers)
    return [] if head else [body]


def _stream(start_response: Callable[..., Any], resp: Response, head: bool) -> Iterable[bytes]:
    """A streamed body: waitress sends it chunked as the iterable yields; its close() runs at the end."""
    chunks = resp.body
    try:
        extra = [_clean_header(n, v) for n, v in resp.headers]
    except ValueError:
        getattr(chunks, "close", lambda: None)()
        logger.error("refused a response with a control character in a header (status %d)", resp.status)
        return _send(start_response, Response("服务器内部错误，已记录日志。", 500, "text/plain; charset=utf-8"), head)
    headers = [
        ("Content-Type", resp.content_type), ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"), *extra,
    ]
    start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", headers)
    if head:
        getattr(chunks, "close", lambda: None)()
        return []
    return chunks  # type: ignore[return-value]


def _qs(query: dict[str, str]) -> str:
    return "?" + urlencode(query) if query else ""


def _parse_cookies(header: str | None) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def _first(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in values.items() if v}


class Server:
    """waitress serving a WebApp; `start()` in a background thread (tests), `serve_forever()` in front."""

    def __init__(self, app: WebApp, host: str, port: int, idle_timeout: int = IDLE_TIMEOUT) -> None:
        from waitress.server import create_server

        self.app = app
        self._server = create_server(
            app, host=host, port=port, threads=THREADS, backlog=BACKLOG, connection_limit=1000,
            channel_timeout=idle_timeout, cleanup_interval=max(1, min(30, idle_timeout // 2)),
            max_request_header_size=MAX_HEADERS, max_request_body_size=MAX_BODY,
            outbuf_high_watermark=OUTBUF_HIGH,
            ident="yuqing", expose_tracebacks=False, clear_untrusted_proxy_headers=True,
        )
        self.server_address = (host, int(getattr(self._server, "effective_port", port)))

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not getattr(self, "_stopped", False):  # the loop's sockets were closed by shutdown()
                raise

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests); stop with shutdown() then server_close()."""
        thread = threading.Thread(target=self.serve_forever, name="yuqing-web", daemon=True)
        thread.start()
        self._thread = thread
        return thread

    def shutdown(self) -> None:
        self._stopped = True
        server = self._server
        while server._map:  # closing every channel (and the listener) ends waitress's loop
            for channel in list(server._map.values()):
                channel.handle_close()
        server.task_dispatcher.shutdown()
        thread = getattr(self, "_thread", None)
        if thread:
            thread.join(5)

    def server_close(self) -> None:
        pass  # shutdown() closed the sockets already


def make_server(settings: Settings, host: str, port: int, *, idle_timeout: int = IDLE_TIMEOUT) -> Server:
    """A ready (bound, not yet serving) web server; port 0 picks a free one."""
    return Server(WebApp(settings, bind_host=host), host, port, idle_timeout)


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
