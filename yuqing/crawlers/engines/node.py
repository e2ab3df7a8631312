"""One scrapyd node over its JSON API, with every failure a sentence that names the node.

    NodeError   the node answered, but not with what was asked ("project 'yuqing' not found")
    NodeDown    nothing answered: refused, timed out, no such host

A node URL may carry a user and password (`http://user:secret@host:6800`, scrapyd's basic auth);
they go into an Authorization header and never into a message.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from yuqing.errors import YuqingError

logger = logging.getLogger(__name__)


class NodeError(YuqingError):
    """A scrapyd node refused or failed a request; str() says which node and why."""


class NodeDown(NodeError):
    """A scrapyd node did not answer at all."""


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "no answer in time"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    text = str(getattr(reason, "strerror", None) or reason)
    return text or type(reason).__name__


class Node:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        self.url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self._auth = None
        if parts.username is not None:
            pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(pair.encode()).decode()

    def __repr__(self) -> str:
        return f"Node({self.url})"

    def link(self, path: str) -> str:
        """A URL on the node from a path scrapyd gave (log_url is "/logs/...")."""
        return urllib.parse.urljoin(self.url + "/", path.lstrip("/"))

    def _open(self, request: urllib.request.Request) -> bytes:
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            hint = " (wrong user or password in [crawl] scrapyd?)" if exc.code == 401 else ""
            raise NodeError(f"scrapyd node {self.url} answered HTTP {exc.code} to {request.full_url.split('?')[0]}"
                            f"{hint}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NodeDown(f"scrapyd node {self.url} is not answering: {_reason(exc)}") from None

    def _json(self, body: bytes, endpoint: str) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            raise NodeError(f"scrapyd node {self.url} answered {endpoint} with something that is not JSON "
                            f"(is it scrapyd?)") from None
        if not isinstance(data, dict) or data.get("status") != "ok":
            message = str(data.get("message") if isinstance(data, dict) else data).strip()
            raise NodeError(f"scrapyd node {self.url} refused {endpoint}: {_last_line(message)}")
        return data

    def get(self, endpoint: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._json(self._open(urllib.request.Request(f"{self.url}/{endpoint}{query}")), endpoint)

    def post(self, endpoint: str, fields: dict[str, Any] | list[tuple[str, Any]]) -> dict[str, Any]:
        body = urllib.parse.urlencode(fields).encode("ascii")
        request = urllib.request.Request(f"{self.url}/{endpoint}", data=body, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        return self._json(self._open(request), endpoint)

    def text(self, path: str) -> str | None:
        """A text file the node serves (a job's log); None when it is gone."""
        try:
            return self._open(urllib.request.Request(self.link(path))).decode("utf-8", errors="replace")
        except NodeDown:
            raise
        except NodeError:
            return None


def _last_line(message: str) -> str:
    """scrapyd puts a child's whole traceback in its message; the last line says what happened."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no reason given"
