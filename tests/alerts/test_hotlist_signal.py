"""Hot-list alerts through the real lifecycle and store: one 红 alert at rank 8, none twice on return."""

from __future__ import annotations

from datetime import timedelta

from yuqing.alerts import lifecycle
from yuqing.alerts.hotlist import detect
from yuqing.models import utcnow
from yuqing.store import Store
from yuqing.store.hotlist import save_snapshot


def _entries(with_locality: bool) -> list[dict]:
    rows = [{"title": f"热点{i}", "rank": i, "heat": 1000 - i, "url": ""} for i in range(1, 21)]
    if with_locality:
        rows[7] = {"title": "某县化工厂爆炸", "rank": 8, "heat": 992, "url": ""}
    return rows


def _poll(settings, store, entries, now):
    with store.transaction() as conn:
        save_snapshot(conn, "weibo-hot", now, entries)
    findings = detect(store.conn, "weibo-hot", entries, lambda t: "某县" in t, now,
                      settings.alerts.cooldown, settings.alerts.hotlist_level)
    return lifecycle.apply(settings, store, findings, now)


def test_rank_8_opens_one_red_alert_and_return_within_cooldown_is_not_a_second(settings, store) -> None:
    t0 = utcnow()
    assert _poll(settings, store, _entries(False), t0) == []
    opened = _poll(settings, store, _entries(True), t0 + timedelta(minutes=10))
    assert [(a.kind, a.key, a.level) for a in opened] == [("hotlist", "hotlist:某县化工厂爆炸", "red")]
    assert [p["rank"] for p in opened[0].explanation["trajectory"]] == [8]
    path = store.path
    store.close()
    store2 = Store(path)  # restart in the middle
    assert _poll(settings, store2, _entries(False), t0 + timedelta(minutes=20)) == []
    assert _poll(settings, store2, _entries(True), t0 + timedelta(minutes=30)) == []
    alerts = store2.query("SELECT level, state FROM alerts WHERE kind = 'hotlist'")
    assert alerts == [{"level": "red", "state": "open"}]
    assert store2.query("SELECT count(*) AS n FROM deliveries")[0]["n"] == 1
    # gone for longer than the cooldown: resolved
    late = t0 + timedelta(minutes=30, seconds=settings.alerts.cooldown + 60)
    _poll(settings, store2, _entries(False), late)
    assert store2.query("SELECT state FROM alerts WHERE kind = 'hotlist'") == [{"state": "resolved"}]


def test_bad_hotlist_level_is_a_config_error_naming_the_key(write_config) -> None:
    import pytest

    from yuqing.errors import ConfigError
    from yuqing.settings import load

    path = write_config(extra='[alerts]\nhotlist_level = "purple"\n')
    with pytest.raises(ConfigError, match="alerts.hotlist_level"):
        load(path)
