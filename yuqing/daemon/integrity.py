"""A damaged store, as the daemon meets it: tell damage from a busy lock, and tell every channel.

The health alert goes straight to the channels, past the delivery queue: the queue lives in the
damaged store, and nothing more may be written there.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from yuqing.errors import StoreError
from yuqing.models import to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store, StoreDamaged

logger = logging.getLogger(__name__)


def damage_in(exc: BaseException, db_path: Path) -> str | None:
    """The damage, in words, when `exc` is a sign of it and quick_check confirms; else None.

    A lock timeout (OperationalError) is never taken for damage.
    """
    if isinstance(exc, StoreDamaged):
        return str(exc)
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return None
    try:
        with Store(db_path, readonly=True) as probe:
            probe.verify()
    except StoreError as damage:
        return str(damage)
    return None


def send_health_alert(settings: Settings, words: str) -> int:
    """Send the damaged-store alert to every configured channel (or the outbox); returns how many took it."""
    from yuqing.delivery.channels import Outgoing, channels, send

    taken = 0
    for name in channels(settings):
        item = Outgoing(id=0, kind="health", ref="store-damaged", channel=name,
                        subject=f"【系统告警】{settings.locality.name}舆情监测数据库损坏",
                        html="", text=f"舆情监测守护进程已停止写入数据库。\n{words}", recipients=[],
                        created_at=to_iso(utcnow()) or "")
        try:
            send(settings, item)
            taken += 1
            logger.info("health alert about the damaged store sent to %s", name)
        except Exception as exc:  # one channel down must not keep the others from hearing it
            logger.error("health alert to %s failed: %s", name, exc)
    return taken
