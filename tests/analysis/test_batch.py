"""`analyze_pending` over a real store: every post gets its analysis and an event, resumably."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from yuqing import settings as settings_mod
from yuqing.analysis import analyzer as analyzer_mod
from yuqing.analysis.batch import analyze_pending
from yuqing.models import Post
from yuqing.store import Store

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
PLACES = ["龙门乡", "飞仙关", "芦阳镇", "思延乡", "清仁乡", "太平镇", "宝盛乡", "双石镇"]
PROBLEMS = ["小区停水三天没人管", "化工厂偷排污水河里死鱼", "学校食堂饭菜变质学生腹泻", "道路塌方车辆无法通行",
            "农民工讨薪无果", "物业乱收费业主维权", "县医院急诊排队太久", "城管暴力执法掀翻菜摊"]


def make_posts(n: int) -> list[Post]:
    posts = []
    for i in range(n):
        place, problem = PLACES[i % len(PLACES)], PROBLEMS[(i // len(PLACES)) % len(PROBLEMS)]
        posts.append(Post(url=f"https://example.com/p/{i}", source=("weibo", "tieba", "news")[i % 3],
                          title=f"芦山{place}{problem}" if i % 2 else "",
                          text=f"芦山县{place}网友反映{problem}，第{i}次发帖，希望有关部门尽快处理。",
                          published_at=T0 + timedelta(minutes=i)))
    return posts


def check_invariants(store: Store, n: int) -> None:
    assert store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL") == 0
    assert store.scalar("SELECT count(*) FROM posts") == n
    # every post is counted in exactly one event, once
    assert store.scalar("SELECT sum(size) FROM events") == n
    assert store.scalar("SELECT count(*) FROM posts p LEFT JOIN events e ON e.id = p.event_id WHERE e.id IS NULL") == 0
    bad = store.query("SELECT e.id, e.size, count(p.id) AS c FROM events e LEFT JOIN posts p ON p.event_id = e.id "
                      "GROUP BY e.id, e.size HAVING e.size != count(p.id)")
    assert bad == []


def test_every_post_gets_analysis_and_an_event(settings, store):
    store.add_posts(make_posts(40))
    assert analyze_pending(settings, store) == 40
    rows = store.query("SELECT * FROM posts ORDER BY id")
    for row in rows:
        assert row["label"] in ("negative", "neutral", "positive")
        assert 0 <= row["negative_prob"] <= 1
        assert isinstance(json.loads(row["topics"]), list)
        assert isinstance(json.loads(row["topic_terms"]), dict)
        assert json.loads(row["keywords"])
        assert row["simhash"] is not None and row["event_id"] is not None and row["analyzed_at"]
    water = [r for r in rows if "停水" in r["text"]]
    assert all("水电气民生" in json.loads(r["topics"]) for r in water)
    assert sum(r["label"] == "negative" for r in rows) >= 30
    check_invariants(store, 40)
    # posts about the same incident in the same place share an event, across sources
    ev = store.query("SELECT * FROM events ORDER BY size DESC LIMIT 1")[0]
    assert ev["size"] >= 2 and len(json.loads(ev["sources"])) >= 2
    assert ev["negative"] >= 1 and json.loads(ev["keywords"]) and ev["title"]
    assert analyze_pending(settings, store) == 0  # nothing left: nothing done twice


def test_limit_and_incremental_runs(settings, store):
    store.add_posts(make_posts(30))
    assert analyze_pending(settings, store, limit=7) == 7
    assert store.backlog()["unanalysed_posts"] == 23
    assert analyze_pending(settings, store) == 23
    store.add_posts(make_posts(40)[30:])  # new posts about the same incidents join the old events
    events_before = store.scalar("SELECT count(*) FROM events")
    assert analyze_pending(settings, store) == 10
    assert store.scalar("SELECT count(*) FROM events") < events_before + 10
    check_invariants(store, 40)


def test_a_failure_mid_run_keeps_committed_batches_and_loses_nothing(write_config, monkeypatch):
    settings = settings_mod.load(write_config("\n[analysis]\nbatch = 5\n"))
    store = Store(settings.db_path)
    store.add_posts(make_posts(20))
    real = analyzer_mod.Analyzer.analyze_full
    calls = {"n": 0}

    def flaky(self, text):
        calls["n"] += 1
        if calls["n"] == 13:
            raise RuntimeError("disk on fire")
        return real(self, text)

    monkeypatch.setattr(analyzer_mod.Analyzer, "analyze_full", flaky)
    with pytest.raises(RuntimeError):
        analyze_pending(settings, store)
    assert store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL") == 10  # two whole batches
    assert store.scalar("SELECT sum(size) FROM events") == 10
    monkeypatch.setattr(analyzer_mod.Analyzer, "analyze_full", real)
    assert analyze_pending(settings, store) == 10
    check_invariants(store, 20)
    store.close()


def test_killed_analyze_resumes_where_it_stopped(write_config):
    cfg = write_config("\n[analysis]\nbatch = 10\n")
    settings = settings_mod.load(cfg)
    store = Store(settings.db_path)
    n = 3000
    store.add_posts(make_posts(n))
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--config", str(cfg), "analyze", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = 0
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        done = store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL")
        if done >= 50:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "analyze finished before it could be killed"
    after_kill = store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL")
    assert 50 <= after_kill < n and after_kill % 10 == 0  # only whole batches were committed
    assert store.scalar("SELECT sum(size) FROM events") == after_kill
    out = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(cfg), "analyze", "-q"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"analysed {n - after_kill} posts" in out.stdout
    check_invariants(store, n)
    store.close()
