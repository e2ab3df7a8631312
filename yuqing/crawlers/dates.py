"""Times as Chinese sites write them, turned into aware UTC datetimes.

Sites mix absolute stamps (RFC 822, ISO, unix seconds or milliseconds, `Wed Oct 19 23:44:36 +0800
2022`) with relative ones ("刚刚", "5分钟前", "昨天 12:00", "06-14", "回复于 3小时前"). Relative and
zone-less times are read in the site's zone (default Asia/Shanghai), against `now`, so tests can pin
the clock. Anything unreadable gives None: a post without a time is still a post.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

SITE_TZ = ZoneInfo("Asia/Shanghai")

_PREFIX = re.compile(r"^\s*(回复于|发布于|发表于|更新于|创建于|发布时间[:：]?|时间[:：]?)\s*")
_AGO = re.compile(r"^(\d+)\s*(秒|分钟|分|小时|天|周|个月)前$")
_AGO_UNITS = {"秒": 1, "分钟": 60, "分": 60, "小时": 3600, "天": 86400, "周": 604800, "个月": 30 * 86400}
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})(?::(\d{2}))?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_FULL = re.compile(
    r"^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:[\sT]+(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2}))?秒?)?"
    r"(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_YEAR_MONTH = re.compile(r"^(\d{4})[-/年](\d{1,2})月?$")
_WEIBO = "%a %b %d %H:%M:%S %z %Y"
# A zone written after the clock time: an offset, a name, or a name with an offset (GMT+8), and an
# optional trailing comment as mail headers write it ("+0800 (CST)").
_ZONED = re.compile(
    r"^(?P<rest>.*?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*"
    r"(?P<zone>Z|[+-]\S*|[A-Za-z][A-Za-z_/]*(?:[+-]\S*)?)(?:\s*\([^()]*\))?$"
)
_OFFSET = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")
# Abbreviations read as RFC 822 and feeds use them (US names per RFC 822; CST is US Central there).
_NAMED = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "WET": 0, "WEST": 60, "BST": 60,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AST": -240, "ADT": -180, "AKST": -540, "AKDT": -480, "HST": -600,
    "MET": 60, "MEST": 120, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "JST": 540, "KST": 540, "HKT": 480, "SGT": 480,
}


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(microsecond=0)


def from_timestamp(value: float) -> datetime | None:
    """Unix seconds or milliseconds (values past 1e11 are taken as milliseconds)."""
    if value <= 0:
        return None
    if value > 1e11:
        value /= 1000.0
    try:
        return datetime.fromtimestamp(value, timezone.utc).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def _at(day: date, hour: int, minute: int, second: int, tz: tzinfo) -> datetime | None:
    try:
        return _utc(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz))
    except ValueError:
        return None


def parse_time(value: Any, now: datetime | None = None, tz: tzinfo = SITE_TZ) -> datetime | None:
    """Read a site's time stamp; None when it cannot be read (never raises)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _utc(value if value.tzinfo else value.replace(tzinfo=tz))
    if isinstance(value, (int, float)):
        return from_timestamp(float(value))
    text = str(value).strip().replace("\u00a0", " ").replace("\u3000", " ")
    if not text:
        return None
    text = _PREFIX.sub("", text).strip()
    now = now or datetime.now(timezone.utc)
    if (m := _ZONED.match(text)) and m.group("zone").upper() not in ("AM", "PM"):
        # Only a stamp without a zone is read in the site's zone: a zone we cannot read gives no
        # date rather than one hours off.
        zone = _zone(m.group("zone"))
        return parse_time(m.group("rest"), now, zone) if zone is not None else None
    local_now = now.astimezone(tz)
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return from_timestamp(float(text))
    if text in ("刚刚", "刚才", "just now"):
        return _utc(now)
    if m := _AGO.match(text):
        return _utc(now - timedelta(seconds=int(m.group(1)) * _AGO_UNITS[m.group(2)]))
    if m := _DAY_WORD.match(text):
        back = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        return _at(local_now.date() - timedelta(days=back), int(m.group(2)), int(m.group(3)), int(m.group(4) or 0), tz)
    if m := _CLOCK.match(text):
        found = _at(local_now.date(), int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), tz)
        # "23:10" read at noon is last night's
        if found and found > now + timedelta(minutes=10):
            found = _at(local_now.date() - timedelta(days=1), int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), tz)
        return found
    if m := _MONTH_DAY.match(text):
        month, day_ = int(m.group(1)), int(m.group(2))
        hour, minute, second = int(m.group(3) or 0), int(m.group(4) or 0), int(m.group(5) or 0)
        if not _valid(local_now.year, month, day_) and not _valid(local_now.year - 1, month, day_):
            return None
        year = local_now.year if _valid(local_now.year, month, day_) else local_now.year - 1
        found = _at(date(year, month, day_), hour, minute, second, tz)
        # "12-30" read on 1 January is last year's
        if found and found > now + timedelta(days=1) and _valid(local_now.year - 1, month, day_):
            found = _at(date(local_now.year - 1, month, day_), hour, minute, second, tz)
        return found
    if m := _FULL.match(text):
        year, month, day_ = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not _valid(year, month, day_):
            return None
        stamp_zone: tzinfo = tz
        if m.group(7):
            stamp_zone = timezone.utc if m.group(7) == "Z" else _offset(m.group(7))
        return _at(date(year, month, day_), int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0),
                   stamp_zone)
    if m := _YEAR_MONTH.match(text):
        if _valid(int(m.group(1)), int(m.group(2)), 1):
            return _at(date(int(m.group(1)), int(m.group(2)), 1), 0, 0, 0, tz)
        return None
    try:
        return _utc(datetime.strptime(text, _WEIBO))
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
        return _utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = datetime.fromisoformat(text)
        return _utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz))
    except ValueError:
        return None


def _valid(year: int, month: int, day_: int) -> bool:
    try:
        date(year, month, day_)
    except ValueError:
        return False
    return 1900 <= year <= 2200


def _offset(text: str) -> tzinfo:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _zone(text: str) -> tzinfo | None:
    """The zone a stamp names: +08:00, -0000, Z, GMT, EST, MEST, GMT+8, Etc/GMT-8; None if unknown."""
    if m := _OFFSET.match(text):
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        sign = -1 if m.group(1) == "-" else 1
        # -0000 (RFC 5322: UTC, local zone unknown) is still UTC
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if "/" in text:
        try:
            return ZoneInfo(text)
        except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            return None
    parts = re.match(r"^([A-Za-z_]+)(.*)$", text)
    if parts is None:
        return None
    name, offset = parts.groups()
    base = _NAMED.get(name.upper())
    if base is None:
        return None
    if not offset:
        return timezone(timedelta(minutes=base))
    if base != 0:
        return None  # "EST+3" means nothing
    return _zone(offset)
