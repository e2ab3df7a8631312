"""Field retraining: `yuqing train-sentiment` from the analysts' corrections, numpy only.

The corrections here are sentences written for these tests: posts about loud square dancing
(广场舞) in the evening, phrased plainly, that the analysts of this imagined county count as 负面
(a recurring noise complaint), and that the shipped model reads as neutral.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from yuqing.analysis import corpora
from yuqing.analysis.sentiment import DEFAULT_MODEL, LinearModel
from yuqing.cli import cli
from yuqing.models import Post
from yuqing.store import Store

PLACES = ["城关镇", "龙门乡", "飞仙关", "新华路", "滨河路", "文昌街", "南街", "北环路", "东城", "西河村",
          "清仁乡", "太平镇", "双石镇", "大川镇", "宝盛乡", "思延镇"]
TIMES = ["昨晚", "今天凌晨", "半夜", "每天晚上", "周末夜里"]
PHRASES = ["{p}{t}广场舞音响开得很大声", "{t}{p}的广场舞音乐声音特别大", "{p}广场舞{t}一直放到十点多",
           "{p}这边{t}的广场舞音响很响"]


def square_dance_posts() -> list[str]:
    texts = []
    for i, p in enumerate(PLACES):
        for j, t in enumerate(TIMES):
            texts.append(PHRASES[(i + j) % len(PHRASES)].format(p=p, t=t))
    return texts


def _store_with_corrections(cfg: Path, items: list[tuple[str, str]]) -> Store:
    store = Store(cfg.parent / "yuqing.db")
    posts = [Post(url=f"https://e.com/{i}", source="weibo", text=text) for i, (text, _) in enumerate(items)]
    store.add_posts(posts)
    with store.transaction() as conn:
        for post, (_, label) in zip(posts, items, strict=True):
            conn.execute("INSERT INTO corrections(post_id, label, who, at) VALUES (?, ?, 'analyst', '2026-01-01')",
                         (post.id, label))
    return store


def _labels(model: LinearModel, texts: list[str]) -> list[str]:
    from yuqing.analysis.features import normalize

    return [model.predict(normalize(t), (), 0.5).label for t in texts]


def _run(cfg: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(cfg), "train-sentiment", "--no-check-corpora", *args])


def test_the_test_sentences_start_wrong_and_some_are_held_out():
    texts = square_dance_posts()
    assert _labels(LinearModel.load(), texts).count("negative") <= len(texts) // 2
    assert 5 <= sum(corpora.is_dev(t) for t in texts) <= 30


def test_retrain_from_corrections_writes_figures_and_keeps_the_previous_model(write_config):
    cfg = write_config()
    texts = square_dance_posts()
    store = _store_with_corrections(cfg, [(t, "negative") for t in texts])
    result = _run(cfg)
    assert result.exit_code == 0, result.output
    target = cfg.parent / "models" / "sentiment_model.npz"
    model = LinearModel.load(target)
    dev = [t for t in texts if corpora.is_dev(t)]
    assert _labels(model, dev).count("negative") >= 0.8 * len(dev)  # held out, never trained on
    assert "dev corrections" in result.output and "accuracy" in result.output
    history = model.meta["retrains"][-1]
    assert history["corrections_trained"] == len(texts) - len(dev)
    assert history["corrections_held_out"] == len(dev)
    assert history["after"]["corrections"]["accuracy"] > history["before"]["corrections"]["accuracy"]
    card = target.with_suffix(".md").read_text(encoding="utf-8")
    assert "### Retrains" in card and str(history["after"]["corrections"]["accuracy"]) in card
    assert "## Benchmark" in card  # the shipped card's benchmark notes carry over
    previous = target.with_name("sentiment_model.previous.npz")
    assert previous.read_bytes() == DEFAULT_MODEL.read_bytes()  # first retrain: the shipped model is kept
    # ordinary text still reads as before
    assert _labels(model, ["社区工作人员很耐心，帮我们把问题解决了，点赞！"]) == ["positive"]
    # only head A (and head 1) move: head B, the stacker and the 转折 rule stay as shipped
    shipped = LinearModel.load()
    assert model.second is not None and (model.second == shipped.second).all()
    assert list(model.stack) == list(shipped.stack) and model.concession == shipped.concession
    assert model.meta["format"] == shipped.meta["format"]
    store.close()


def test_rollback_swaps_back_and_forth(write_config):
    cfg = write_config()
    store = _store_with_corrections(cfg, [(t, "negative") for t in square_dance_posts()])
    assert _run(cfg).exit_code == 0
    target = cfg.parent / "models" / "sentiment_model.npz"
    retrained = target.read_bytes()
    result = _run(cfg, "--rollback")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == DEFAULT_MODEL.read_bytes()
    assert _run(cfg, "--rollback").exit_code == 0
    assert target.read_bytes() == retrained  # nothing lost
    store.close()


def test_rollback_without_a_previous_model_is_a_clear_error(write_config):
    cfg = write_config()
    result = _run(cfg, "--rollback")
    assert result.exit_code == 1
    assert "no previous model to roll back to" in result.output
    assert "Traceback" not in result.output


def test_a_retrain_that_loses_dev_accuracy_is_refused_unless_forced(write_config):
    cfg = write_config()
    texts = square_dance_posts()
    store = _store_with_corrections(cfg, [(t, "negative") for t in texts])
    assert _run(cfg).exit_code == 0  # the model in use now reads these posts as negative
    target = cfg.parent / "models" / "sentiment_model.npz"
    before = target.read_bytes()
    # then the analysts contradict themselves: the trained posts are relabelled positive, the
    # held-out ones stay negative
    with store.transaction() as conn:
        for post_id, text in conn.execute("SELECT id, text FROM posts").fetchall():
            if not corpora.is_dev(text):
                conn.execute("INSERT INTO corrections(post_id, label, who, at) VALUES (?, 'positive', 'b', '2026-01-02')",
                             (post_id,))
    result = _run(cfg)
    assert result.exit_code == 1, result.output
    assert "retrain refused" in result.output and "corrections:" in result.output and "->" in result.output
    assert target.read_bytes() == before  # the model in use is unchanged
    result = _run(cfg, "--force")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != before
    assert target.with_name("sentiment_model.previous.npz").read_bytes() == before
    assert LinearModel.load(target).meta["retrains"][-1]["forced"] is True
    assert "| yes |" in target.with_suffix(".md").read_text(encoding="utf-8")
    store.close()


def test_no_corrections_is_a_clear_error(write_config):
    cfg = write_config()
    Store(cfg.parent / "yuqing.db").close()
    result = _run(cfg)
    assert result.exit_code == 1 and "no analysts' corrections" in result.output
    assert not (cfg.parent / "models").exists()


def test_corrections_all_held_out_is_a_clear_error(write_config):
    cfg = write_config()
    dev_only = [t for t in square_dance_posts() if corpora.is_dev(t)][:3]
    _store_with_corrections(cfg, [(t, "negative") for t in dev_only]).close()
    result = _run(cfg)
    assert result.exit_code == 1 and "fall in the dev split" in result.output


def test_a_broken_model_file_is_reported_and_left_alone(write_config):
    cfg = write_config()
    _store_with_corrections(cfg, [(t, "negative") for t in square_dance_posts()]).close()
    target = cfg.parent / "models" / "sentiment_model.npz"
    target.parent.mkdir()
    target.write_bytes(b"half a file")
    result = _run(cfg)
    assert result.exit_code == 2 and "not a yuqing sentiment model" in result.output and "--rollback" in result.output
    assert target.read_bytes() == b"half a file"


def test_retrain_needs_a_store(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "absent.toml"), "train-sentiment"])
    assert result.exit_code == 2 and "corrections" in result.output


def test_running_analysis_picks_up_a_retrained_model(write_config):
    """The batch loop the daemon runs reloads the model file when it changes; no restart."""
    from yuqing import settings as s
    from yuqing.analysis.batch import analyze_pending

    cfg = write_config()
    settings = s.load(cfg)
    texts = square_dance_posts()
    store = _store_with_corrections(cfg, [(t, "negative") for t in texts])
    assert analyze_pending(settings, store) == len(texts)
    before = store.scalar("SELECT count(*) FROM posts WHERE label = 'negative'")
    assert _run(cfg).exit_code == 0
    fresh = [t.replace("广场舞", "坝坝舞广场舞") for t in texts if corpora.is_dev(t)]
    store.add_posts([Post(url=f"https://e.com/new/{i}", source="weibo", text=t) for i, t in enumerate(fresh)])
    assert analyze_pending(settings, store) == len(fresh)
    rows = store.conn.execute("SELECT label FROM posts WHERE url LIKE '%/new/%'").fetchall()
    assert [r[0] for r in rows].count("negative") >= 0.8 * len(fresh) > before * len(fresh) / len(texts)
    # a broken file written later does not stop the analysis: the model in use is kept
    (cfg.parent / "models" / "sentiment_model.npz").write_bytes(b"broken")
    store.add_posts([Post(url="https://e.com/after", source="weibo", text=fresh[0] + "，吵得睡不着")])
    assert analyze_pending(settings, store) == 1
    assert store.scalar("SELECT label FROM posts WHERE url = 'https://e.com/after'") == "negative"
    store.close()


def test_field_retrain_runs_without_corpora_or_scikit_learn(write_config, tmp_path):
    cfg = write_config()
    _store_with_corrections(cfg, [(t, "negative") for t in square_dance_posts()]).close()
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sklearn', 'scipy'): raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from yuqing.cli import cli\n"
        f"cli(['--config', {str(cfg)!r}, 'train-sentiment'])\n"
    )
    env = dict(os.environ, YUQING_SHARED_DATA=str(tmp_path / "nothing-here"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "model written to" in out.stdout
    result = CliRunner().invoke(cli, ["--config", str(cfg), "classify"], input="北环路今晚的广场舞音响开得很大声\n")
    assert json.loads(result.output)["label"] == "negative"


@pytest.mark.parametrize("label", ["neutral", "positive"])
def test_corrections_can_also_calm_the_model_down(write_config, label):
    cfg = write_config()
    texts = [f"{p}{t}停电检修，请提前安排" for p in PLACES for t in TIMES]
    _store_with_corrections(cfg, [(t, label) for t in texts]).close()
    result = _run(cfg, "--force")
    assert result.exit_code == 0, result.output
    model = LinearModel.load(cfg.parent / "models" / "sentiment_model.npz")
    dev = [t for t in texts if corpora.is_dev(t)]
    assert _labels(model, dev).count(label) >= 0.8 * len(dev)


def test_a_retrain_with_nothing_held_out_says_it_is_not_measured(write_config):
    cfg = write_config()
    trained_only = [t for t in square_dance_posts() if not corpora.is_dev(t)][:5]
    _store_with_corrections(cfg, [(t, "negative") for t in trained_only]).close()
    result = _run(cfg)
    assert result.exit_code == 0, result.output
    assert "this retrain is not measured" in result.output
    card = (cfg.parent / "models" / "sentiment_model.md").read_text(encoding="utf-8")
    assert "(no dev rows)" in card


def test_the_running_daemon_picks_up_a_retrained_model(write_config):
    """The daemon itself, running in this process: posts it analyses after a retrain read with the new model."""
    import threading
    import time

    from yuqing import settings as s
    from yuqing.scheduler import Daemon

    cfg = write_config('[daemon]\npipeline_every = "1s"\ndeliver_every = "1s"\n')
    settings = s.load(cfg)
    texts = square_dance_posts()
    store = _store_with_corrections(cfg, [(t, "negative") for t in texts])

    def wait_analysed(what: str) -> None:
        deadline = time.time() + 60
        while time.time() < deadline and store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL"):
            time.sleep(0.2)
        assert not store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL"), f"the daemon left {what} unanalysed"

    daemon = Daemon(settings)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(daemon.run()))
    thread.start()
    try:
        wait_analysed("the first posts")
        before = store.scalar("SELECT count(*) FROM posts WHERE label = 'negative'")
        assert before < 0.5 * len(texts)  # the shipped model reads them as not negative
        assert _run(cfg).exit_code == 0  # while the daemon runs
        fresh = [t.replace("广场舞", "坝坝舞广场舞") for t in texts if corpora.is_dev(t)]
        store.add_posts([Post(url=f"https://e.com/new/{i}", source="weibo", text=t) for i, t in enumerate(fresh)])
        wait_analysed("the posts added after the retrain")
        rows = store.conn.execute("SELECT label FROM posts WHERE url LIKE '%/new/%'").fetchall()
        assert [r[0] for r in rows].count("negative") >= 0.8 * len(fresh)
    finally:
        daemon.request_stop("test")
        thread.join(30)
        store.close()
    assert codes == [0]
