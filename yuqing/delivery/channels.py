"""Channels: where a message goes, by a stable name, and one attempt to send there within a deadline.

A message row names its channel, never its URL: `[[alerts.channels]] name = "duty-email"` is looked up
when the row is sent, so fixing a channel's url (a wrong port) while messages wait sends them to the
fixed one. A plain `[alerts] notify` URL is named `channel_id(url)` (scheme, host and a hash of the URL
without its password), the name rows have always carried, so queued rows of older stores still match.

Every attempt has one overall deadline (`[alerts] send_timeout`) covering connect, the server's
banner and the whole transaction. Per-read socket timeouts alone do not bound an attempt: a server
that trickles its banner one byte every few seconds never lets a read time out. A timer shuts the
socket down when the deadline passes, which wakes the blocked read at once.

Email (mailto:// and mailtos:// URLs, parsed with apprise's own URL grammar) is sent with smtplib so
that the message is a real multipart/alternative with our own plain-text part and a stable
Message-ID. Every other apprise URL (dingtalk://, wecombot://, feishu://, json://, ...) goes through
apprise in a worker thread that is abandoned at the deadline (apprise's own socket timeouts end it
later; should that late request still succeed, the message arrives twice: at least once, never lost).
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import formataddr
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from yuqing.delivery.mail import SENDER_NAME, build_email, message_id, write_outbox  # noqa: F401 - re-exported
from yuqing.errors import DeliveryError
from yuqing.settings import Settings

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
EMAIL_SCHEMES = ("mailto", "mailtos")
SMTP_TIMEOUT = 30.0  # one socket read or write; the attempt as a whole is bounded by send_timeout


class PermanentDeliveryError(DeliveryError):
    """The channel refused the message for good (e.g. 550 unknown recipient): retrying cannot help."""


class ChannelDown(DeliveryError):
    """The channel could not be reached or did not answer in time: its other messages wait too."""


@dataclass
class Outgoing:
    id: int
    kind: str
    ref: str
    channel: str
    subject: str
    html: str
    text: str
    recipients: list[str]
    created_at: str
    attachments: list[str] = field(default_factory=list)


# -- names --------------------------------------------------------------------------------------
def strip_secret(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def channel_id(url: str) -> str:
    """A stable name for a notify URL that holds no password: 'mailto://host:port#3fa2b1c0'.

    The hash covers the URL without its password, so rotating a password keeps pending rows valid.
    """
    digest = hashlib.sha1(strip_secret(url).encode("utf-8")).hexdigest()[:8]
    parts = urlsplit(url)
    if parts.scheme in EMAIL_SCHEMES:
        where = parts.hostname or ""
        if parts.port:
            where = f"{where}:{parts.port}"
        return f"{parts.scheme}://{where}#{digest}"
    return f"{parts.scheme}#{digest}"


def channels(settings: Settings, urls: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
    """channel name -> URL: `urls` (a unit's, [cases] escalate_to: apprise URLs by channel_id, or
    [[alerts.channels]] names as themselves), else every named channel and `[alerts] notify` URL;
    the outbox when there is none."""
    if urls:
        return dict(_target(settings, target) for target in urls)
    chosen = {c.name: c.url for c in settings.alerts.channels if c.broadcast}
    chosen.update({channel_id(url): url for url in settings.alerts.notify})
    return chosen or {OUTBOX: OUTBOX}


def _target(settings: Settings, target: str) -> tuple[str, str]:
    """(channel name, URL) of one entry of a unit's notify or escalate_to. A row names the channel,
    whose url is looked up again when it is sent, so it follows an edit of that url."""
    if "://" in target:
        return channel_id(target), target
    for channel in settings.alerts.channels:
        if channel.name == target:
            return channel.name, channel.url
    # config checking refuses this; should it happen, the row is kept and `status` shows it unsent
    logger.warning("no channel named %r in [[alerts.channels]]: its messages wait for it", target)
    return target, ""


def default_targets(settings: Settings) -> tuple[str, ...]:
    """Who hears of a case when nothing more particular is set: every broadcast [[alerts.channels]]
    channel and [alerts] notify URL (empty: the outbox)."""
    return (*(c.name for c in settings.alerts.channels if c.broadcast), *settings.alerts.notify)


def known_channels(settings: Settings) -> dict[str, str]:
    """Every configured channel a row may name: [alerts] channels and notify, units, [cases] escalate_to."""
    found = channels(settings)
    found.setdefault(OUTBOX, OUTBOX)  # rows queued while no channel was set still go to the outbox
    found.update({c.name: c.url for c in settings.alerts.channels})  # broadcast or only named by a unit
    for unit in getattr(settings, "units", ()):
        found.update({channel_id(url): url for url in unit.notify if "://" in url})
    cases = getattr(settings, "cases", None)
    found.update({channel_id(url): url for url in (cases.escalate_to if cases else ()) if "://" in url})
    return found


def describe_url(url: str) -> str:
    """A URL fit for status and logs: no password, no token path of chat hooks."""
    if url == OUTBOX:
        return OUTBOX
    parts = urlsplit(url)
    if parts.scheme in EMAIL_SCHEMES:
        where = parts.hostname or ""
        return f"{parts.scheme}://{where}:{parts.port}" if parts.port else f"{parts.scheme}://{where}"
    return f"{parts.scheme}://{parts.hostname or '…'}"


# -- the deadline -------------------------------------------------------------------------------
_LIVE: set[Deadline] = set()  # attempts in flight, so a shutdown can cut them short
_LIVE_LOCK = threading.Lock()


def abort_attempts(reason: str) -> int:
    """End every attempt in flight now (the daemon stopping); returns how many were cut short."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for deadline in live:
        deadline.abort(reason)
    return len(live)


class Deadline:
    """One attempt's overall time limit: `left()` for timeouts, and sockets shut down when it passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.reason = ""  # set when the attempt was cut short for another reason than time
        self._fds: list[int] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def left(self) -> float:
        return max(0.05, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        # a duplicate descriptor of the same socket: shutdown(2) acts on the socket itself, and it
        # stays valid when smtplib wraps or replaces its socket object (STARTTLS, SMTP_SSL)
        with self._lock:
            self._fds.append(os.dup(sock.fileno()))
            if self.expired:
                self._shutdown()

    def _shutdown(self) -> None:
        for fd in self._fds:
            try:
                probe = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            try:
                probe.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                probe.close()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def abort(self, reason: str) -> None:
        self.reason = reason
        self._expire()

    def __enter__(self) -> Deadline:
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        with self._lock:
            for fd in self._fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._fds.clear()


class _SMTP(smtplib.SMTP):
    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # smtplib's own hook for opening the connection; typeshed leaves private methods out
        sock = super()._get_socket(host, port, min(timeout, self.deadline.left()))  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _SMTPSSL(smtplib.SMTP_SSL):
    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((host, port), min(timeout, self.deadline.left()), self.source_address)
        self.deadline.watch(raw)
        # SMTP_SSL keeps the host it connects to in _host (private, so not in typeshed)
        return self.context.wrap_socket(raw, server_hostname=self._host)  # type: ignore[attr-defined]


# -- email --------------------------------------------------------------------------------------
def _smtp_reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


def _refusal(error: str, code: int) -> DeliveryError:
    return (PermanentDeliveryError if code >= 500 else DeliveryError)(error)


def send_email(url: str, item: Outgoing, timeout: float = 60.0) -> str | None:
    """Send through the SMTP server a mailto(s):// URL names, all within `timeout` seconds;
    returns a note (partly refused) or None."""
    import apprise

    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
        # only apprise's email plugin (it has smtp_host) is used here: its attributes are not on NotifyBase
        plugin: Any = apprise.Apprise.instantiate(url)
    if plugin is None or not hasattr(plugin, "smtp_host"):
        said = "; ".join(line.strip() for line in logs.getvalue().splitlines() if "Invalid" in line)
        raise PermanentDeliveryError(f"not a usable email URL: {channel_id(url)} ({said or 'apprise cannot read it'}; "
                                     "it needs a sender, user@host or ?from=..., and ?to=...)")
    host, port = plugin.smtp_host or plugin.host, int(plugin.port or 25)
    where = f"{host}:{port}"
    from_name, from_addr = (list(plugin.from_addr) + [""])[:2] if plugin.from_addr else ("", "")
    if not from_addr:
        from_addr = f"yuqing@{host}"
    if not from_name or from_name == "Apprise":
        from_name = SENDER_NAME
    to = list(item.recipients) or [addr for _, addr in plugin.targets]
    if not to:
        raise PermanentDeliveryError(f"no recipient for {channel_id(url)}: add ?to=... or recipients")
    msg = build_email(item, formataddr((from_name, from_addr)), to)
    mode = str(plugin.secure_mode)
    per_read = min(SMTP_TIMEOUT, timeout)
    deadline = Deadline(timeout)
    try:
        with deadline:
            if mode == "ssl":
                client: smtplib.SMTP = _SMTPSSL(timeout=per_read, context=ssl.create_default_context())
            else:
                client = _SMTP(timeout=per_read)
            client.deadline = deadline  # type: ignore[attr-defined]
            client._host = host  # type: ignore[attr-defined]  # for the TLS server name
            try:
                client.connect(host, port)
                if mode == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if plugin.user and plugin.password:
                    client.login(plugin.user, plugin.password)
                refused = client.send_message(msg, from_addr=from_addr, to_addrs=to)
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    pass  # the message was taken: a rude goodbye changes nothing
            finally:
                client.close()
    except smtplib.SMTPRecipientsRefused as exc:
        words = "; ".join(f"{addr}: {_smtp_reply(code, reply)}" for addr, (code, reply) in exc.recipients.items())
        codes = [code for code, _ in exc.recipients.values()]
        raise _refusal(f"SMTP server {where} refused every recipient ({words})", min(codes)) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _refusal(f"SMTP server {where} refused sender {from_addr}: {_smtp_reply(exc.smtp_code, exc.smtp_error)}",
                       exc.smtp_code) from None
    except smtplib.SMTPDataError as exc:
        raise _refusal(f"SMTP server {where} refused the message: {_smtp_reply(exc.smtp_code, exc.smtp_error)}",
                       exc.smtp_code) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login as {plugin.user} at {where} failed: "
                            f"{_smtp_reply(exc.smtp_code, exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"SMTP server {where} does not support what the URL asks ({exc}); "
                            "try mode=insecure or mode=ssl") from None
    except ConnectionRefusedError:
        raise ChannelDown(f"cannot reach SMTP server {where}: connection refused") from None
    except (smtplib.SMTPException, OSError) as exc:
        if deadline.reason:
            raise ChannelDown(f"sending mail through {where} was cut short: {deadline.reason}") from None
        if deadline.expired:
            raise ChannelDown(f"SMTP server {where} did not finish within {timeout:g}s ([alerts] send_timeout: "
                              "connect, greeting and sending together); it is too slow or not answering") from None
        if isinstance(exc, (socket.timeout, TimeoutError)):
            raise ChannelDown(f"SMTP server {where} did not answer within {per_read:g}s") from None
        if isinstance(exc, ssl.SSLError):
            raise DeliveryError(f"TLS with SMTP server {where} failed: {exc.reason or exc}") from None
        if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
            raise ChannelDown(f"sending mail through {where} failed: {exc}") from None
        raise DeliveryError(f"sending mail through {where} failed: {exc}") from None
    if refused:
        words = "; ".join(f"{addr}: {_smtp_reply(code, reply)}" for addr, (code, reply) in refused.items())
        return f"sent, but SMTP server {where} refused some recipients ({words})"
    return None


# -- chat ------------------------------------------------------------------------
def send_chat(url: str, item: Outgoing, timeout: float = 60.0) -> None:
    """Any other apprise URL: the subject as title and the plain text as body, within `timeout`."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise PermanentDeliveryError(f"apprise does not understand the notify URL {channel_id(url)}")
    outcome: dict[str, Any] = {}

    def _notify() -> None:
        try:
            with apprise.LogCapture(level=logging.WARNING) as logs:
                outcome["ok"] = notifier.notify(title=item.subject, body=item.text or item.subject,
                                                body_format=apprise.NotifyFormat.TEXT)
            outcome["said"] = logs.getvalue()
        except Exception as exc:  # a plugin bug is reported as this attempt's error
            outcome["error"] = exc

    worker = threading.Thread(target=_notify, name=f"send {channel_id(url)}", daemon=True)
    with Deadline(timeout) as deadline:
        worker.start()
        while worker.is_alive() and not deadline.expired:
            worker.join(0.1)
    if worker.is_alive():
        if deadline.reason:
            raise ChannelDown(f"sending to {channel_id(url)} was cut short: {deadline.reason}")
        raise ChannelDown(f"{channel_id(url)} did not answer within {timeout:g}s ([alerts] send_timeout)")
    if "error" in outcome:
        raise DeliveryError(f"{channel_id(url)} failed: {outcome['error']!r}")
    if not outcome.get("ok"):
        said = " ".join(line.strip() for line in str(outcome.get("said", "")).splitlines() if line.strip())
        raise DeliveryError(f"{channel_id(url)} did not take the message: {said or 'no reason given'}")


def send(settings: Settings, item: Outgoing) -> str | None:
    """Send one row to its channel (looked up by name now); returns a note, raises DeliveryError."""
    url = known_channels(settings).get(item.channel)
    if url is None:
        raise PermanentDeliveryError(
            f"channel {item.channel} is no longer configured ([[alerts.channels]], [alerts] notify, [[units]] or "
            f"[cases]); send it elsewhere with `yuqing deliver --retry-failed --to NAME`")
    if url == OUTBOX:
        path = write_outbox(settings.path(settings.alerts.outbox), item)
        return f"written to {path}"
    timeout = float(getattr(settings.alerts, "send_timeout", 60.0))
    if urlsplit(url).scheme in EMAIL_SCHEMES:
        return send_email(url, item, timeout)
    send_chat(url, item, timeout)
    return None
