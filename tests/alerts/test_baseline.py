"""The Poisson tail and the time-of-week baseline, on posts in a real store."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from scipy.stats import poisson

from tests.alerts.helpers import T0, add_post
from yuqing.alerts import baseline as bl


@pytest.mark.parametrize("count, mean", [(0, 2.0), (1, 0.5), (3, 3.0), (6, 1.0), (12, 1.0), (40, 4.0), (200, 150.0)])
def test_poisson_tail_matches_scipy(count, mean):
    expected = poisson.sf(count - 1, mean)
    assert bl.poisson_tail(count, mean) == pytest.approx(expected, rel=1e-6, abs=1e-300)


def test_poisson_tail_edges():
    assert bl.poisson_tail(0, 0.0) == 1.0
    assert bl.poisson_tail(1, 0.0) == 0.0
    assert 0 < bl.poisson_tail(60, 1.0) < 1e-60


def _weekly_store(store, weeks: int, hot_hour: int = 10):
    """Every hour 1 negative, except Mondays at hot_hour with 6 (a weekly rhythm)."""
    with store.transaction():
        for h in range(weeks * 7 * 24):
            ts = T0 + timedelta(hours=h, minutes=30)
            n = 6 if (h % (7 * 24)) == hot_hour else 1
            for i in range(n):
                add_post(store, ts + timedelta(minutes=i), label="negative")
            add_post(store, ts + timedelta(minutes=20), label="neutral")


def _history(store, t):
    return bl.load_history(store, *bl.iso_range(t, 4, 3600))


def test_same_hour_of_week_is_the_baseline(store):
    _weekly_store(store, weeks=3)
    monday = T0 + timedelta(weeks=3, hours=11)  # window 10:00-11:00 on the 4th Monday
    tuesday = monday + timedelta(days=1)
    h = _history(store, tuesday)
    hot = bl.seasonal(h.locality, monday.timestamp(), 3600, 4, h.start)
    calm = bl.seasonal(h.locality, tuesday.timestamp(), 3600, 4, h.start)
    assert hot.method == calm.method == "weekly" and hot.periods == 3
    assert hot.value > 2.5 * calm.value  # smoothed over neighbouring hours and the daily prior
    assert calm.value == pytest.approx(1.0, abs=0.4)


def test_fallbacks_while_history_is_short(store):
    with store.transaction():
        for h in range(60):
            add_post(store, T0 + timedelta(hours=h, minutes=10), label="negative")
    h = _history(store, T0 + timedelta(days=3))
    assert bl.seasonal(h.locality, (T0 + timedelta(hours=5)).timestamp(), 3600, 4, h.start).method == "trailing"
    daily = bl.seasonal(h.locality, (T0 + timedelta(hours=50)).timestamp(), 3600, 4, h.start)
    assert daily.method == "daily" and daily.periods == 1 and daily.value == pytest.approx(1.0)
    assert bl.seasonal(h.locality, (T0 + timedelta(minutes=30)).timestamp(), 3600, 4, h.start).method == "none"
    empty = bl.load_history(store, T0 - timedelta(days=9), T0 - timedelta(days=8))
    assert bl.seasonal(empty.locality, T0.timestamp(), 3600, 4, None).value is None


def test_one_past_incident_does_not_raise_the_baseline(store):
    _weekly_store(store, weeks=3)
    # an incident two weeks ago on Tuesday 10:00
    with store.transaction():
        for i in range(30):
            add_post(store, T0 + timedelta(weeks=1, days=1, hours=10, minutes=i), label="negative")
    t = T0 + timedelta(weeks=3, days=1, hours=11)
    h = _history(store, t)
    value = bl.seasonal(h.locality, t.timestamp(), 3600, 4, h.start).value
    assert value < 2.0  # the incident week is dropped


def test_unanalysed_posts_do_not_count(store):
    with store.transaction():
        add_post(store, T0 + timedelta(minutes=5), label="negative")
        add_post(store, T0 + timedelta(minutes=6), label="negative", analyzed=False)
    h = bl.load_history(store, T0, T0 + timedelta(hours=1))
    assert len(h.ts) == 1 and int(h.locality.count(T0.timestamp(), (T0 + timedelta(hours=1)).timestamp())) == 1
    assert math.isclose(h.start, (T0 + timedelta(minutes=5)).timestamp())
