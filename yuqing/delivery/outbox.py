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

Rows name their channel (yuqing.delivery.channels), looked up when sent. Each attempt is bounded by
`[alerts] send_timeout`; a failed attempt's retry time counts from when the attempt ended, and a
channel that is down (refused, timed out) is not tried again in the same run, so ten queued messages
to a dead server cost one deadline, not ten. The daemon runs this loop in its own worker, beside the
pipeline, so a slow server never holds up analysis, detection or the digest.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from yuqing.delivery.channels import (  # noqa: F401 - re-exported: the queue's callers know them from here
    EMAIL_SCHEMES, OUTBOX, SENDER_NAME, ChannelDown, Outgoing, PermanentDeliveryError, build_email, channel_id,
    channels, describe_url, known_channels, message_id, send, send_chat, send_email, write_outbox,
)
from yuqing.errors import DeliveryError
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import deliveries as book

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a claim older than this is taken over even if its process lives
MAX_BACKOFF = timedelta(hours=6)
# Fault injection for the kill-during-delivery tests: "before-send" or "after-send" makes the process
# SIGKILL itself at that point. Never set in production.
CRASH_ENV = "YUQING_DELIVERY_CRASH"

_IN_FLIGHT: set[int] = set()


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


def _claim(store: Store, now: datetime, skip: set[int], down: set[str]) -> Outgoing | None:
    with store.transaction():
        rows = store.query(
            "SELECT * FROM deliveries WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?))"
            " OR state = 'sending' ORDER BY id" + store.outbox_claim_clause(),  # PostgreSQL: SKIP LOCKED
            [to_iso(now)],
        )
        for row in rows:
            if row["id"] in skip or row["id"] in _IN_FLIGHT or row["channel"] in down:
                continue
            if row["state"] == "sending":
                lease_over = row["next_attempt_at"] is not None and row["next_attempt_at"] <= to_iso(now)
                if not (lease_over or _owner_gone(row["claimed_by"])):
                    continue
                logger.warning("delivery %d was left in 'sending' by %s: sending it again", row["id"], row["claimed_by"])
            store.conn.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?,"
                " last_attempt_at = ? WHERE id = ?",
                (_owner(), to_iso(now + LEASE), to_iso(now), row["id"]),
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


def deliver_pending(settings: Settings, store: Store, now: datetime | None = None,
                    stopping: Any = None) -> tuple[int, int]:
    """Send every due delivery once; returns (sent, failed) for this run.

    `failed` counts attempts that failed this run (retried later, or given up after max_attempts).
    A channel error is recorded in words in `last_error` (and the channel's health) and never raised.
    `now` is the clock of this run (tests move it); each attempt ends at now + the time it took.
    `stopping()`, when given, is asked between messages (the daemon's shutdown).
    """
    start_wall, start_mono = now or utcnow(), time.monotonic()

    def clock() -> datetime:
        return start_wall + timedelta(seconds=time.monotonic() - start_mono)

    sent = failed = 0
    tried: set[int] = set()
    down: set[str] = set()  # channels that could not be reached this run: their other rows wait
    names = known_channels(settings)
    while not (stopping and stopping()) and (item := _claim(store, clock(), tried, down)) is not None:
        tried.add(item.id)
        _IN_FLIGHT.add(item.id)
        try:
            _crash_point("before-send")
            try:
                note = send(settings, item)
            except DeliveryError as exc:
                failed += 1
                if isinstance(exc, ChannelDown):
                    down.add(item.channel)
                _record_failure(settings, store, item, exc, clock())
                continue
            except Exception as exc:  # a bug in a channel plugin must not stop the other deliveries
                logger.exception("delivery %d to %s crashed", item.id, item.channel)
                failed += 1
                _record_failure(settings, store, item, DeliveryError(f"unexpected error: {exc!r}"), clock())
                continue
            _crash_point("after-send")
            ended = clock()
            with store.transaction():
                store.conn.execute(
                    "UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = ?, claimed_by = NULL,"
                    " next_attempt_at = NULL WHERE id = ?",
                    (to_iso(utcnow()), note if note and not note.startswith("written to") else None, item.id),
                )
            book.record_attempt(store, item.channel, describe_url(names.get(item.channel, "")), ended, None)
            sent += 1
            logger.info("delivered %s %s to %s%s", item.kind, item.ref, item.channel, f" ({note})" if note else "")
        finally:
            _IN_FLIGHT.discard(item.id)
    return sent, failed


def _record_failure(settings: Settings, store: Store, item: Outgoing, exc: DeliveryError, ended: datetime) -> None:
    """The attempt that ended at `ended` failed: retry from then (backoff), or give up in words."""
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
        state, retry_at = "pending", to_iso(ended + delay)
        logger.warning("delivery %d to %s failed (attempt %d), retry at %s: %s", item.id, item.channel, attempts,
                       retry_at, reason)
    with store.transaction():
        store.conn.execute(
            "UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?, claimed_by = NULL WHERE id = ?",
            (state, retry_at, reason, item.id),
        )
    url = known_channels(settings).get(item.channel)
    book.record_attempt(store, item.channel, describe_url(url) if url else "(no longer configured)", ended, str(exc))


def retry_failed(settings: Settings, store: Store, *, channel: str | None = None,
                 to: str | None = None) -> tuple[list[int], list[int]]:
    """Put failed messages (of `channel`, or all) back in the queue, to `to` when given.

    Returns (requeued ids, skipped ids); a DeliveryError names an unknown `to` channel.
    """
    if to is not None and to not in known_channels(settings):
        known = ", ".join(sorted(known_channels(settings)))
        raise DeliveryError(f"--to {to}: no such channel (configured: {known})")
    requeued, skipped = book.requeue_failed(store, channel=channel, to=to)
    logger.info("re-queued %d failed message(s)%s", len(requeued), f" to {to}" if to else "")
    return requeued, skipped


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
