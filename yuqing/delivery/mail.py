"""The email itself: one multipart/alternative message per delivery, with a stable Message-ID,
and the .eml file the outbox keeps when no channel is set."""

from __future__ import annotations

import os
import socket
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING

from yuqing.models import utcnow

if TYPE_CHECKING:
    from yuqing.delivery.channels import Outgoing

SENDER_NAME = "yuqing 舆情监测"


def message_id(delivery_id: int, kind: str, ref: str) -> str:
    """The same delivery always has the same Message-ID, so a resend after a crash reads as one mail."""
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in f"{kind}-{ref}")
    return f"<yuqing.{delivery_id}.{safe}@{socket.getfqdn() or 'localhost'}>"


_MIME = {
    ".pdf": ("application", "pdf"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


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
            from yuqing.delivery.channels import PermanentDeliveryError

            raise PermanentDeliveryError(f"attachment {path} cannot be read: {exc.strerror or exc}") from None
        maintype, subtype = _MIME.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


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
