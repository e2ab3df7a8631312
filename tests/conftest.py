"""Shared fixtures: real servers on 127.0.0.1 (HTTP site, SMTP), configs, stores, shared data."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import textwrap
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- shared third-party data ---------------------------------------------------------------------
def shared_data_dir() -> Path:
    return Path(os.environ.get("YUQING_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (or $YUQING_SHARED_DATA); the test is skipped, with the reason, if absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set YUQING_SHARED_DATA)")
    return path


def shared_file(relative: str) -> Path:
    """A file in the shared data, or skip the test saying which file is missing."""
    path = shared_data_dir() / relative
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent")
    return path


# -- a real HTTP server on loopback ---------------------------------------------------------------
@dataclass
class Response:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts, hangs)


Handler = Callable[[str, dict[str, str], bytes], Response]


class LocalSite:
    """A threaded HTTP server on 127.0.0.1: static routes, callables, or files from a folder.

    `site.routes["/feed.xml"] = Response(...)`, or a callable (path_with_query, headers, body) -> Response.
    Unknown paths are served from `root` if given, else 404. `site.requests` records (method, path).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[tuple[str, str]] = []
        site = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                site.requests.append((method, self.path))
                resp = site.resolve(self.path, dict(self.headers), body)
                if resp.delay:
                    time.sleep(resp.delay)
                data = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
                try:
                    self.send_response(resp.status)
                    self.send_header("Content-Type", resp.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in resp.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if method != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def resolve(self, path: str, headers: dict[str, str], body: bytes) -> Response:
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is not None:
            return route(path, headers, body) if callable(route) else route
        if urlsplit(path).path == "/robots.txt":
            return Response("User-agent: *\nAllow: /\n", content_type="text/plain")
        if self.root is not None:
            from urllib.parse import unquote

            target = (self.root / unquote(urlsplit(path).path).lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if target.is_file() and str(target).startswith(str(self.root.resolve())):
                ctype = {
                    ".xml": "application/xml", ".json": "application/json; charset=utf-8",
                    ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                }.get(target.suffix, "application/octet-stream")
                return Response(target.read_bytes(), content_type=ctype)
        return Response("<h1>404 Not Found</h1>", status=404)

    def start(self) -> LocalSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    """A fresh LocalSite with no routes, started; stopped after the test."""
    s = LocalSite().start()
    yield s
    s.stop()


# -- a real SMTP server on loopback (aiosmtpd) ---------------------------------------------------
class SMTPSink:
    """aiosmtpd on 127.0.0.1: `messages` holds parsed email.message.EmailMessage objects.

    `reject` is a set of recipient addresses answered with 550; `stop()`/`start()` simulate an outage.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.reject: set[str] = set()
        self.controller = None

    def start(self) -> SMTPSink:
        from aiosmtpd.controller import Controller

        sink = self

        class _Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address in sink.reject:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.messages.append(msg)
                return "250 Message accepted for delivery"

        self.controller = Controller(_Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[email.message.EmailMessage]:
        deadline = time.time() + timeout
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.messages

    @property
    def mailto(self) -> str:
        """An apprise URL delivering to this server without TLS or login."""
        return f"mailto://127.0.0.1:{self.port}?from=yuqing@localhost&to=duty@example.com&mode=insecure"


@pytest.fixture
def smtp():
    sink = SMTPSink().start()
    yield sink
    sink.stop()


# -- configs and stores --------------------------------------------------------------------------
BASE_CONFIG = """
[locality]
name = "芦山县"
aliases = ["芦山", "龙门乡", "飞仙关"]
exclude = ["庐山"]

[store]
path = "yuqing.db"

[crawl]
delay = "0s"
autothrottle = false
obey_robots = true
timeout = "60s"
request_timeout = "5s"
retries = 0
"""


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(extra_toml, base=True) -> path of a config in tmp_path (store at tmp_path/yuqing.db)."""
    pg_store: list[str] = []

    def _write(extra: str = "", base: bool = True, name: str = "yuqing.toml") -> Path:
        path = tmp_path / name
        head = BASE_CONFIG
        if base and os.environ.get("YUQING_TEST_STORE", "").startswith("postgres"):
            # the suite's second run (.ci/run): each test's store in a fresh PostgreSQL schema
            from tests.store_pg.cluster import fresh_schema_url

            if not pg_store:
                pg_store.append(fresh_schema_url())
            head = head.replace('path = "yuqing.db"\n', f'path = "yuqing.db"\nurl = "{pg_store[0]}"\n')
        path.write_text((head if base else "") + textwrap.dedent(extra), encoding="utf-8")
        return path

    return _write


def on_postgres() -> bool:
    """Whether this is the suite's second run, on PostgreSQL (.ci/run sets YUQING_TEST_STORE)."""
    return os.environ.get("YUQING_TEST_STORE", "").startswith("postgres")


def not_on_postgres(what: str):
    """Skip a test on the PostgreSQL run only, for code not ported there yet (it fails in those words)."""
    return pytest.mark.skipif(on_postgres(), reason=f"not supported on PostgreSQL yet: {what}")


def store_of(config: Path):
    """The store a test's config names: its SQLite file, or on the PostgreSQL run its schema."""
    from yuqing import settings as s
    from yuqing.store import Store

    return Store(s.load(config).db_path)


def remove_store(target: object) -> None:
    """Drop a test's store so that the next Store() starts empty: the file, or every table of the schema."""
    if isinstance(target, Path):
        target.unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(target.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')


@pytest.fixture
def settings(write_config):
    from yuqing import settings as s

    return s.load(write_config())


@pytest.fixture
def store(settings):
    from yuqing.store import Store

    st = Store(settings.db_path)
    yield st
    st.close()


@pytest.fixture
def artifacts(request) -> Path:
    """A folder for this test's screenshots and outputs (kept after the run)."""
    path = ARTIFACTS / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path
