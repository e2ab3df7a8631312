"""Time zones in stamps: read when written, refused when unreadable, the site's zone only when absent."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from yuqing.crawlers.dates import parse_time

NOW = datetime(2024, 6, 1, 4, 0, tzinfo=timezone.utc)
UTC = timezone.utc


@pytest.mark.parametrize(("stamp", "expected"), [
    ("Tue, 02 Jan 2024 12:00:00 -0000", datetime(2024, 1, 2, 12, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 +0000", datetime(2024, 1, 2, 12, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 Etc/GMT", datetime(2024, 1, 2, 12, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 Etc/GMT+5", datetime(2024, 1, 2, 17, 0, tzinfo=UTC)),  # POSIX sign
    ("Tue, 02 Jan 2024 12:00:00 MET", datetime(2024, 1, 2, 11, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 MEST", datetime(2024, 1, 2, 10, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 EST", datetime(2024, 1, 2, 17, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 EDT", datetime(2024, 1, 2, 16, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 CST", datetime(2024, 1, 2, 18, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 CDT", datetime(2024, 1, 2, 17, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 MST", datetime(2024, 1, 2, 19, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 MDT", datetime(2024, 1, 2, 18, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 PST", datetime(2024, 1, 2, 20, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 PDT", datetime(2024, 1, 2, 19, 0, tzinfo=UTC)),
    ("2024-01-02T12:00:00-01:01", datetime(2024, 1, 2, 13, 1, tzinfo=UTC)),
    ("2024-01-02T12:00:00Z", datetime(2024, 1, 2, 12, 0, tzinfo=UTC)),
    ("2024-01-02T12:00:00.25+08:00", datetime(2024, 1, 2, 4, 0, tzinfo=UTC)),
    ("Tue, 02 Jan 2024 12:00:00 +0800 (CST)", datetime(2024, 1, 2, 4, 0, tzinfo=UTC)),
    ("2024-01-02 12:00 GMT+8", datetime(2024, 1, 2, 4, 0, tzinfo=UTC)),
    ("Tue Jan 02 12:00:00 +0800 2024", datetime(2024, 1, 2, 4, 0, tzinfo=UTC)),  # Weibo
])
def test_written_zones_are_read(stamp, expected):
    assert parse_time(stamp, NOW) == expected


@pytest.mark.parametrize("stamp", [
    "2024-01-02T12:00:00+zz:00",
    "Tue, 02 Jan 2024 12:00:00 +zz:00",
    "Tue, 02 Jan 2024 12:00:00 FOO",
    "Tue, 02 Jan 2024 12:00:00 Nowhere/Zone",
    "2024-01-02T12:00:00+25:00",
    "2024-01-02T12:00:00+08:75",
    "2024-01-02 12:00 EST+3",
])
def test_unreadable_zones_give_no_date(stamp):
    assert parse_time(stamp, NOW) is None


@pytest.mark.parametrize("stamp", ["Tue, 02 Jan 2024 12:00:00", "2024-01-02 12:00:00", "2024年01月02日 12:00"])
def test_only_zoneless_stamps_use_the_site_zone(stamp):
    assert parse_time(stamp, NOW) == datetime(2024, 1, 2, 4, 0, tzinfo=UTC)
