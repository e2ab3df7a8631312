"""Detection, levels and the alert lifecycle on a real store: spikes alarm, rhythm and volume do not."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.alerts.helpers import T0, add_event, add_post, background, spike
from tests.conftest import remove_store
from yuqing import settings as settings_mod
from yuqing.alerts import detector
from yuqing.alerts.backtest import backtest
from yuqing.store import Store

WEEKS = 3
NOW = T0 + timedelta(weeks=WEEKS, hours=10)


@pytest.fixture
def cfg(write_config):
    def make(extra: str = "") -> settings_mod.Settings:
        return settings_mod.load(write_config("""
            [[sources]]
            name = "board"
            type = "liuyan"
            fid = "539"

            [alerts]
            outbox = "outbox"
            source_weights = { liuyan = 3.0 }
            """ + extra))
    return make


@pytest.fixture
def steady(cfg):
    """Three weeks and a day of calm: 4 posts an hour, one of them negative."""
    settings = cfg()
    store = Store(settings.db_path)
    background(store, T0, 24 * (7 * WEEKS + 2))
    yield settings, store
    store.close()


def _deliveries(store):
    return store.query("SELECT * FROM deliveries WHERE kind = 'alert' ORDER BY id")


def test_calm_stream_raises_nothing_for_days(steady):
    settings, store = steady
    records = backtest(settings, store, T0 + timedelta(weeks=WEEKS), T0 + timedelta(weeks=WEEKS, days=2))
    assert records == []
    assert detector.detect(settings, store, NOW) == []


def test_spike_opens_one_alert_per_scope_and_one_message(steady):
    settings, store = steady
    ev = add_event(store, "龙门乡强拆", NOW, NOW)
    spike(store, NOW + timedelta(minutes=5), 14, title="龙门乡强拆", topics=["征地拆迁"], keywords=["强拆", "补偿"],
          event_id=ev)
    changed = detector.detect(settings, store, NOW + timedelta(minutes=50))
    assert {(a.kind, a.key) for a in changed} == {("locality", "芦山县"), ("topic", "征地拆迁"), ("event", str(ev))}
    assert all(a.state == "open" for a in changed)
    [msg] = _deliveries(store)
    top = max(changed, key=lambda a: ["blue", "yellow", "orange", "red"].index(a.level))
    assert msg["ref"] == f"case1:{top.level}," + ",".join(f"{a.id}:{a.level}" for a in changed)  # one case
    assert "芦山县" in msg["subject"] and "负面" in msg["subject"]
    loc = next(a for a in changed if a.kind == "locality")
    best = loc.explanation["best_window"]
    assert best["window"] == "1h" and best["negative"] >= 14 and best["baseline"] < 2.5
    assert best["baseline_method"] == "weekly" and best["p_value"] < settings.alerts.p_value
    assert [p["url"] for p in loc.explanation["top_posts"]]
    assert loc.explanation["top_terms"][0][0] in ("强拆", "补偿")
    assert loc.explanation["topics"][0][0] == "征地拆迁"
    assert loc.explanation["event"]["title"] == "龙门乡强拆"
    assert loc.explanation["sources"][0][0] == "news"


def test_no_repeat_while_open_then_escalation_notifies_again(steady):
    settings, store = steady
    spike(store, NOW + timedelta(minutes=5), 8)
    first = detector.detect(settings, store, NOW + timedelta(minutes=45))
    assert [a.kind for a in first] == ["locality"]
    level = first[0].level
    assert detector.detect(settings, store, NOW + timedelta(minutes=50)) == []  # same level: silence
    assert len(_deliveries(store)) == 1
    spike(store, NOW + timedelta(minutes=52), 40, minutes=5)
    changed = detector.detect(settings, store, NOW + timedelta(minutes=58))
    [loc] = [a for a in changed if a.kind == "locality"]
    assert loc.id == first[0].id and loc.state == "escalated"
    assert ["blue", "yellow", "orange", "red"].index(loc.level) > ["blue", "yellow", "orange", "red"].index(level)
    deliveries = _deliveries(store)
    assert len(deliveries) == 2 and "升级" in deliveries[1]["subject"]
    assert loc.explanation["timeline"][-1]["event"] == "escalated"


def test_resolves_when_back_to_baseline_then_cooldown(steady):
    settings, store = steady
    spike(store, NOW + timedelta(minutes=5), 10)
    [opened] = detector.detect(settings, store, NOW + timedelta(minutes=45))
    # still elevated in the 6h window for a while; resolved once quiet
    resolved = []
    for k in range(1, 10):
        resolved = detector.detect(settings, store, NOW + timedelta(minutes=45, hours=k))
        if resolved:
            break
    assert resolved and resolved[0].id == opened.id and resolved[0].state == "resolved"
    assert resolved[0].resolved_at is not None
    # a same-size spike during the cooldown stays quiet
    later = NOW + timedelta(minutes=45, hours=k + 1)
    spike(store, later - timedelta(minutes=40), 10)
    assert detector.detect(settings, store, later) == []
    # a bigger one during the cooldown does open
    spike(store, later + timedelta(minutes=1), 45)
    bigger = detector.detect(settings, store, later + timedelta(minutes=20))
    assert [a.kind for a in bigger] == ["locality"] and bigger[0].id != opened.id


def test_min_count_keeps_a_small_county_quiet(cfg):
    settings = cfg()
    with Store(settings.db_path) as store:
        with store.transaction():
            for d in range(21):  # one neutral post a day
                add_post(store, T0 + timedelta(days=d, hours=9), label="neutral")
        now = T0 + timedelta(days=21, hours=10)
        spike(store, now - timedelta(minutes=50), 3, minutes=10)  # improbable, but three posts are not an incident
        assert detector.detect(settings, store, now) == []
        spike(store, now - timedelta(minutes=20), 3, minutes=10)
        assert [a.kind for a in detector.detect(settings, store, now)] == ["locality"]


def test_crawl_volume_jump_is_not_an_incident(steady):
    settings, store = steady
    # a new source triples the volume with the usual mix (a quarter negative): more posts, same share
    background(store, NOW - timedelta(hours=6), 30, per_hour=8, negative_every=4, source="newsite")
    records = backtest(settings, store, NOW, NOW + timedelta(hours=24))
    assert records == []


def test_low_share_does_not_alarm(steady):
    settings, store = steady
    spike(store, NOW + timedelta(minutes=5), 8)
    with store.transaction():
        for i in range(30):
            add_post(store, NOW + timedelta(minutes=6 + i), label="positive")
    settings_share = settings_mod.from_dict(
        {"locality": {"name": "芦山县"}, "store": {"path": str(settings.db_path)},
         "alerts": {"min_share": 0.5, "outbox": "outbox"}}, base_dir=settings.base_dir)
    assert detector.detect(settings_share, store, NOW + timedelta(minutes=45)) == []


def test_source_weight_raises_the_level(cfg):
    levels = {}
    for source in ("news", "board"):
        settings = cfg()
        remove_store(settings.db_path)
        with Store(settings.db_path) as store:
            background(store, T0, 24 * (7 * WEEKS + 1))
            spike(store, NOW + timedelta(minutes=5), 9, source=source)
            [alert] = detector.detect(settings, store, NOW + timedelta(minutes=45))
            levels[source] = alert.level
            assert alert.explanation["top_posts"][0]["weight"] == (3.0 if source == "board" else 1.0)
    order = ["blue", "yellow", "orange", "red"]
    assert order.index(levels["board"]) > order.index(levels["news"])


@pytest.mark.parametrize("count, level", [(7, "blue"), (14, "yellow"), (28, "orange"), (70, "red")])
def test_level_grows_with_the_spike(steady, count, level):
    settings, store = steady
    spike(store, NOW + timedelta(minutes=5), count)
    with store.transaction():  # some neutral coverage alongside, as in life
        for i in range(count // 2):
            add_post(store, NOW + timedelta(minutes=6 + i % 30), label="neutral")
    [alert] = detector.detect(settings, store, NOW + timedelta(minutes=45))
    assert alert.level == level


def test_unanalysed_posts_are_not_counted(steady):
    settings, store = steady
    with store.transaction():
        for i in range(20):
            add_post(store, NOW + timedelta(minutes=5 + i), label="negative", analyzed=False)
    assert detector.detect(settings, store, NOW + timedelta(minutes=45)) == []


def test_backtest_replays_without_writing(steady):
    settings, store = steady
    spike(store, NOW + timedelta(hours=2), 15, topics=["交通"])
    records = backtest(settings, store, NOW, NOW + timedelta(hours=20))
    kinds = {(r["kind"], r["key"]) for r in records}
    assert kinds == {("locality", "芦山县"), ("topic", "交通")}
    loc = next(r for r in records if r["kind"] == "locality")
    assert NOW + timedelta(hours=2) <= settings_mod_from_iso(loc["opened"]) <= NOW + timedelta(hours=3)
    assert loc["resolved"] is not None and loc["peak_negative"] >= 15
    assert store.scalar("SELECT count(*) FROM alerts") == 0
    assert store.scalar("SELECT count(*) FROM deliveries") == 0


def settings_mod_from_iso(value):
    from yuqing.models import from_iso

    return from_iso(value)


def test_explanation_survives_in_the_store(steady):
    settings, store = steady
    spike(store, NOW + timedelta(minutes=5), 10)
    [alert] = detector.detect(settings, store, NOW + timedelta(minutes=45))
    row = store.query("SELECT * FROM alerts WHERE id = ?", [alert.id])[0]
    data = json.loads(row["explanation"])
    assert data["windows"][0]["negative"] >= 10 and data["timeline"][0]["event"] == "opened"
    assert row["title"] == "芦山县" and row["level"] == alert.level
