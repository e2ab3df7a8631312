"""Hot-list snapshots in the store: one list per poll, also when two polls share a second."""

from __future__ import annotations

from yuqing.models import utcnow
from yuqing.store import Store
from yuqing.store.hotlist import latest, save_snapshot, trajectory


def test_two_polls_in_one_second_are_one_snapshot_of_the_later_list(tmp_path) -> None:
    now = utcnow().replace(microsecond=0)
    first = [{"title": "芦山县化工厂起火", "rank": 8, "heat": 100, "url": ""},
             {"title": "热点一", "rank": 9, "heat": 90, "url": ""}]
    second = [{"title": "热点一", "rank": 1, "heat": 120, "url": ""},
              {"title": "芦山县化工厂起火", "rank": 2, "heat": 110, "url": ""}]
    with Store(tmp_path / "yuqing.db") as store:
        with store.transaction() as conn:
            save_snapshot(conn, "weibo-hot", now, first)
            save_snapshot(conn, "baidu-hot", now, first)  # another list, same second: kept
        with store.transaction() as conn:
            save_snapshot(conn, "weibo-hot", now.replace(microsecond=400_000), second)
        stamp, entries = latest(store.conn, "weibo-hot")
        assert [(e["rank"], e["title"]) for e in entries] == [(1, "热点一"), (2, "芦山县化工厂起火")]
        assert [p["rank"] for p in trajectory(store.conn, "weibo-hot", "芦山县化工厂起火")] == [2]
        assert [e["rank"] for e in latest(store.conn, "baidu-hot")[1]] == [8, 9]
