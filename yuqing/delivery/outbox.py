"""Delivery: every message goes to every channel once, survives restarts, and is retried with backoff.

A message is written to `deliveries` (one row per channel, with its subject, HTML and text) before
anything is sent, so nothing is lost if the process dies. Sending a row is three steps:

1. claim it: in one transaction, `state='sending'`, `attempts+1`, `claimed_by=host:pid`;
2. send it (SMTP, apprise, or an .eml file in the outbox);
3. mark it `sent` (or back to `pending` with a retry time and the error in words, or `failed`).

A row left in `sending` by a process that died between 1 and 3 is claimed again on the next run
(when its process is gone, or its lease has expired). The trade-off, chosen on purpose: a delivery
is *at least once*, never lost. The only window for a duplicate is a kill after the server accepted
the message and before step 3 committed (milliseconds); for email the resend carries the same
Message-ID (derived from the delivery id), so mail clients show it once. A kill at any other moment
(before or during the SMTP transaction) leads to exactly one message.

Email (mailto:// and mailtos:// URLs, parsed with apprise's own URL grammar) is sent with smtplib so
that the message is a real multipart/alternative with our own plain-text part and a stable
Message-ID (apprise derives the text from the HTML and makes a random Message-ID). Every other
apprise URL (dingtalk://, wecombot://, feishu://, json://, ...) goes through apprise with the text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from yuqing.errors import DeliveryError
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
EMAIL_SCHEMES = ("mailto", "mailtos")
SMTP_TIMEOUT = 30.0
LEASE = timedelta(minutes=10)  # a claim older than this is taken over even if its process lives
MAX_BACKOFF = timedelta(hours=6)
SENDER_NAME = "yuqing 舆情监测"
# Fault injection for the kill-during-delivery tests: "before-send" or "after-send" makes the process
# SIGKILL itself at that point. Never set in production.
CRASH_ENV = "YUQING_DELIVERY_CRASH"

_IN_FLIGHT: set[int] = set()


class PermanentDeliveryError(DeliveryError):
    """The channel refused the message for good (e.g. 550 unknown recipient): retrying cannot help."""


# -- channels -----------------------------------------------------------------------------------
def _strip_secret(url: str) -> str:
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
    digest = hashlib.sha1(_strip_secret(url).encode("utf-8")).hexdigest()[:8]
    parts = urlsplit(url)
    if parts.scheme in EMAIL_SCHEMES:
        where = parts.hostname or ""
        if parts.port:
            where = f"{where}:{parts.port}"
        return f"{parts.scheme}://{where}#{digest}"
    return f"{parts.scheme}#{digest}"


def channels(settings: Settings, urls: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
    """channel id -> notify URL (of `urls`, else `[alerts] notify`); the outbox when there is none."""
    chosen = settings.alerts.notify if not urls else urls
    if not chosen:
        return {OUTBOX: OUTBOX}
    return {channel_id(url): url for url in chosen}


def known_channels(settings: Settings) -> dict[str, str]:
    """Every configured URL a row may name: [alerts] notify, the units' and [cases] escalate_to."""
    found = channels(settings)
    for unit in getattr(settings, "units", ()):
        found.update({channel_id(url): url for url in unit.notify})
    cases = getattr(settings, "cases", None)
    found.update({channel_id(url): url for url in (cases.escalate_to if cases else ())})
    return found


# -- enqueue ------------------------------------------------------------------------------------
def enqueue_rows(store: Store, settings: Settings, *, kind: str, ref: str, subject: str, html: str, text: str,
                 recipients: list[str] | None = None, urls: list[str] | tuple[str, ...] | None = None,
                 attachments: list[str] | None = None) -> list[int]:
    """Like `enqueue`, inside the caller's open transaction (detection writes alert + rows atomically).

    `urls` sends to those apprise URLs instead of `[alerts] notify` (a unit, `[cases] escalate_to`).
    """
    ids: list[int] = []
    created = to_iso(utcnow())
    for channel in channels(settings, urls):
        store.conn.execute(
            "INSERT OR IGNORE INTO deliveries(kind, ref, channel, subject, state, attempts, created_at, html, text,"
            " recipients, attachments) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)",
            (kind, ref, channel, subject, created, html, text, json.dumps(list(recipients or []), ensure_ascii=False),
             json.dumps([str(a) for a in attachments or []], ensure_ascii=False)),
        )
        row = store.conn.execute(
            "SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND channel = ?", (kind, ref, channel)
        ).fetchone()
        ids.append(int(row[0]))
    return ids


def enqueue(store: Store, settings: Settings, *, kind: str, ref: str, subject: str, html: str, text: str,
            recipients: list[str] | None = None, attachments: list[str] | None = None) -> list[int]:
    """Queue one message for every channel in `[alerts] notify` (or the outbox); returns the row ids.

    Idempotent on (kind, ref, channel): queueing the same ref again keeps the first message and
    never sends it twice. `recipients` replaces the `to=` of email URLs (the digest's own list);
    chat channels ignore it. `attachments` are file paths read when the mail is sent (email and the
    outbox attach them; chat channels ignore them). Nothing is sent here: `deliver_pending` sends.
    """
    with store.transaction():
        ids = enqueue_rows(store, settings, kind=kind, ref=ref, subject=subject, html=html, text=text,
                           recipients=recipients, attachments=attachments)
    logger.info("queued %s %s for %d channel(s)", kind, ref, len(ids))
    return ids


# -- sending ------------------------------------------------------------------------------------
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


def message_id(delivery_id: int, kind: str, ref: str) -> str:
    """The same delivery always has the same Message-ID, so a resend after a crash reads as one mail."""
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in f"{kind}-{ref}")
    return f"<yuqing.{delivery_id}.{safe}@{socket.getfqdn() or 'localhost'}>"


def build_email(item: Outgoing, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = item.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id(item.id, item.kind, item.ref)
    msg["X-Yuqing-Delivery"] = f"{item.kind}/{item.ref}"
    msg.set_content(item.text or " ", subtype="plain", charset="utf-8")
    if item.html:
        msg.add_alternative(item.html, subtype="html", charset="utf-8")
    for name in item.attachments:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            # a report file removed meanwhile cannot be sent later either: say which, for good
            raise PermanentDeliveryError(f"attachment {path} cannot be read: {exc.strerror or exc}") from None
        maintype, subtype = _MIME.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


_MIME = {
    ".pdf": ("application", "pdf"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _smtp_reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


def send_email(url: str, item: Outgoing) -> str | None:
    """Send through the SMTP server a mailto(s):// URL names; returns a note (partly refused) or None."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None or not hasattr(plugin, "smtp_host"):
        raise PermanentDeliveryError(f"not a usable email URL: {channel_id(url)}")
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
    try:
        if mode == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with client:
            if mode == "starttls":
                client.starttls(context=ssl.create_default_context())
            if plugin.user and plugin.password:
                client.login(plugin.user, plugin.password)
            refused = client.send_message(msg, from_addr=from_addr, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        words = "; ".join(f"{addr}: {_smtp_reply(code, reply)}" for addr, (code, reply) in exc.recipients.items())
        error = f"SMTP server {where} refused every recipient ({words})"
        codes = [code for code, _ in exc.recipients.values()]
        raise (PermanentDeliveryError if all(c >= 500 for c in codes) else DeliveryError)(error) from None
    except smtplib.SMTPSenderRefused as exc:
        error = f"SMTP server {where} refused sender {from_addr}: {_smtp_reply(exc.smtp_code, exc.smtp_error)}"
        raise (PermanentDeliveryError if exc.smtp_code >= 500 else DeliveryError)(error) from None
    except smtplib.SMTPDataError as exc:
        error = f"SMTP server {where} refused the message: {_smtp_reply(exc.smtp_code, exc.smtp_error)}"
        raise (PermanentDeliveryError if exc.smtp_code >= 500 else DeliveryError)(error) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login as {plugin.user} at {where} failed: "
                            f"{_smtp_reply(exc.smtp_code, exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"SMTP server {where} does not support what the URL asks ({exc}); "
                            "try mode=insecure or mode=ssl") from None
    except ConnectionRefusedError:
        raise DeliveryError(f"cannot reach SMTP server {where}: connection refused") from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(f"SMTP server {where} did not answer within {SMTP_TIMEOUT:g}s") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS with SMTP server {where} failed: {exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"sending mail through {where} failed: {exc}") from None
    if refused:
        words = "; ".join(f"{addr}: {_smtp_reply(code, reply)}" for addr, (code, reply) in refused.items())
        return f"sent, but SMTP server {where} refused some recipients ({words})"
    return None


def send_chat(url: str, item: Outgoing) -> None:
    """Any other apprise URL: the subject as title and the plain text as body."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise PermanentDeliveryError(f"apprise does not understand the notify URL {channel_id(url)}")
    with apprise.LogCapture(level=logging.WARNING) as logs:
        ok = notifier.notify(title=item.subject, body=item.text or item.subject, body_format=apprise.NotifyFormat.TEXT)
    if not ok:
        said = " ".join(line.strip() for line in logs.getvalue().splitlines() if line.strip())
        raise DeliveryError(f"{channel_id(url)} did not take the message: {said or 'no reason given'}")


def write_outbox(folder: Path, item: Outgoing) -> Path:
    """An .eml file per delivery; the name depends only on the row, so a retry overwrites, never adds."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = item.created_at.replace(":", "").replace("-", "")[:15]
    safe = "".join(ch if ch.isalnum() or ch in "-" else "-" for ch in item.ref)
    path = folder / f"{stamp}-{item.kind}-{safe}-{item.id}.eml"
    msg = build_email(item, formataddr((SENDER_NAME, "yuqing@localhost")), item.recipients)
    tmp = path.with_suffix(".eml.tmp")
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, path)
    return path


def send(settings: Settings, item: Outgoing) -> str | None:
    """Send one row to its channel; returns a note for the record, raises DeliveryError on failure."""
    if item.channel == OUTBOX:
        path = write_outbox(settings.path(settings.alerts.outbox), item)
        return f"written to {path}"
    url = known_channels(settings).get(item.channel)
    if url is None:
        raise PermanentDeliveryError(f"channel {item.channel} is no longer in [alerts] notify, [[units]] or [cases]")
    if urlsplit(url).scheme in EMAIL_SCHEMES:
        return send_email(url, item)
    send_chat(url, item)
    return None


# -- the loop -----------------------------------------------------------------------------------
def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(claimed_by: str | None) -> bool:
    """True when the claim's process is not running on this host any more (it died mid-delivery)."""
    if not claimed_by or ":" not in claimed_by:
        return True
    host, _, pid_text = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's claim: wait for its lease
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # ours, but not in flight (handled by _IN_FLIGHT)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(store: Store, now: datetime, skip: set[int]) -> Outgoing | None:
    with store.transaction():
        rows = store.query(
            "SELECT * FROM deliveries WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?))"
            " OR state = 'sending' ORDER BY id" + store.outbox_claim_clause(),  # PostgreSQL: SKIP LOCKED
            [to_iso(now)],
        )
        for row in rows:
            if row["id"] in skip or row["id"] in _IN_FLIGHT:
                continue
            if row["state"] == "sending":
                lease_over = row["next_attempt_at"] is not None and row["next_attempt_at"] <= to_iso(now)
                if not (lease_over or _owner_gone(row["claimed_by"])):
                    continue
                logger.warning("delivery %d was left in 'sending' by %s: sending it again", row["id"], row["claimed_by"])
            store.conn.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (_owner(), to_iso(now + LEASE), row["id"]),
            )
            return Outgoing(id=row["id"], kind=row["kind"], ref=row["ref"], channel=row["channel"],
                            subject=row["subject"], html=row["html"] or "", text=row["text"] or "",
                            recipients=json.loads(row["recipients"] or "[]"), created_at=row["created_at"],
                            attachments=json.loads(row.get("attachments") or "[]"))
    return None


def _crash_point(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        logger.error("fault injection: killing this process at %s", point)
        os.kill(os.getpid(), signal.SIGKILL)


def deliver_pending(settings: Settings, store: Store, now: datetime | None = None) -> tuple[int, int]:
    """Send every due delivery once; returns (sent, failed) for this run.

    `failed` counts attempts that failed this run (retried later, or given up after max_attempts).
    A channel error is recorded in words in `last_error` and never raised.
    """
    now = now or utcnow()
    sent = failed = 0
    tried: set[int] = set()
    while (item := _claim(store, now, tried)) is not None:
        tried.add(item.id)
        _IN_FLIGHT.add(item.id)
        try:
            _crash_point("before-send")
            try:
                note = send(settings, item)
            except DeliveryError as exc:
                failed += 1
                _record_failure(settings, store, item, exc, now)
                continue
            except Exception as exc:  # a bug in a channel plugin must not stop the other deliveries
                logger.exception("delivery %d to %s crashed", item.id, item.channel)
                failed += 1
                _record_failure(settings, store, item, DeliveryError(f"unexpected error: {exc!r}"), now)
                continue
            _crash_point("after-send")
            with store.transaction():
                store.conn.execute(
                    "UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = ?, claimed_by = NULL,"
                    " next_attempt_at = NULL WHERE id = ?",
                    (to_iso(utcnow()), note if note and not note.startswith("written to") else None, item.id),
                )
            sent += 1
            logger.info("delivered %s %s to %s%s", item.kind, item.ref, item.channel, f" ({note})" if note else "")
        finally:
            _IN_FLIGHT.discard(item.id)
    return sent, failed


def _record_failure(settings: Settings, store: Store, item: Outgoing, exc: DeliveryError, now: datetime) -> None:
    attempts = int(store.scalar("SELECT attempts FROM deliveries WHERE id = ?", [item.id]) or 1)
    reason = str(exc)
    if isinstance(exc, PermanentDeliveryError):
        state, retry_at = "failed", None
        logger.error("delivery %d (%s %s) to %s failed for good: %s", item.id, item.kind, item.ref, item.channel, reason)
    elif attempts >= settings.alerts.max_attempts:
        state, retry_at = "failed", None
        reason = f"gave up after {attempts} attempts: {reason}"
        logger.error("delivery %d to %s: %s", item.id, item.channel, reason)
    else:
        delay = min(timedelta(seconds=settings.alerts.retry * 2 ** (attempts - 1)), MAX_BACKOFF)
        state, retry_at = "pending", to_iso(now + delay)
        logger.warning("delivery %d to %s failed (attempt %d), retry at %s: %s", item.id, item.channel, attempts,
                       retry_at, reason)
    with store.transaction():
        store.conn.execute(
            "UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?, claimed_by = NULL WHERE id = ?",
            (state, retry_at, reason, item.id),
        )


def deliveries(store: Store, *, kind: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
    """The delivery rows (without bodies), newest first, for `yuqing alerts show` and status pages."""
    where, params = [], []
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if ref is not None:
        # alert messages have refs like "12:yellow,13:orange" (one message per detection run)
        where.append("(ref = ? OR (',' || ref || ',') LIKE ?)")
        params += [ref, f"%,{ref}:%"]
    sql = ("SELECT id, kind, ref, channel, subject, state, attempts, next_attempt_at, last_error, created_at, sent_at"
           " FROM deliveries")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.query(sql + " ORDER BY id DESC", params)
