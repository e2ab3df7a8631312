"""The stage's commands: classify (with and without a config), analyze, train-sentiment."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from yuqing.cli import cli
from yuqing.models import Post


def test_classify_stdin_without_a_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    text = "停水三天没人管\n\n县气象台发布大风蓝色预警信号。\n"
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "absent.toml"), "classify"], input=text)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 3  # one line out per line in, the blank one too
    assert rows[0]["label"] == "negative" and "水电气民生" in rows[0]["topics"]
    assert rows[1] == {"label": "neutral", "negative_prob": 0.0, "topics": [], "topic_terms": {}, "keywords": []}
    assert rows[2]["label"] != "negative"
    assert set(rows[0]) >= {"label", "negative_prob", "topics", "keywords"}


def test_classify_a_file_with_a_config(write_config, tmp_path):
    cfg = write_config()
    src = tmp_path / "lines.txt"
    src.write_text("芦山县医院排队三个小时，医生态度很差\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "classify", str(src)])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["label"] == "negative" and "医疗卫生" in row["topics"]
    assert "芦山县" not in row["keywords"]  # the locality is no keyword


def test_classify_a_missing_file_is_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "a.toml"), "classify", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2 and "nope.txt" in result.output


def test_bad_topics_setting_exits_2_with_the_key(write_config, tmp_path):
    cfg = write_config('\n[analysis]\ntopics = "missing-topics.toml"\n')
    result = CliRunner().invoke(cli, ["--config", str(cfg), "classify"], input="测试\n")
    assert result.exit_code == 2 and "analysis.topics" in result.output


def test_analyze_command(write_config):
    from yuqing.store import Store

    cfg = write_config()
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    store = Store(cfg.parent / "yuqing.db")
    store.add_posts([Post(url=f"https://e.com/{i}", source="weibo", text=f"芦山县第{i}小区停水三天没人管") for i in range(5)])
    result = runner.invoke(cli, ["--config", str(cfg), "analyze"])
    assert result.exit_code == 0, result.output
    assert "analysed 5 posts" in result.output
    assert store.scalar("SELECT count(*) FROM posts WHERE label = 'negative'") == 5
    assert runner.invoke(cli, ["--config", str(cfg), "analyze"]).output.strip() == "analysed 0 posts"
    store.close()


def _tiny_corpus(folder: Path) -> Path:
    """A small Weibo-format corpus written for this test (no third-party text)."""
    rng = random.Random(3)
    bad = ["太差了", "气死了", "真失望", "很生气", "糟透了", "受不了"]
    good = ["真开心", "太好了", "很满意", "好喜欢", "超级棒", "很幸福"]
    things = ["今天的饭", "这部电影", "新手机", "周末出游", "这家店", "演唱会"]
    lines = []
    for i in range(120):
        neg = i % 2 == 0
        lines.append(f"{1000 + i},{0 if neg else 1},{rng.choice(things)}{rng.choice(bad if neg else good)}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weibo2018_train.txt").write_text("\n".join(lines) + "\nnot,a,valid,row\n", encoding="utf-8")
    return folder


def test_train_sentiment_with_corrections_then_use_the_model(write_config, tmp_path):
    from yuqing.analysis.sentiment import LinearModel
    from yuqing.store import Store

    data = _tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "models" / "mine.npz"
    cfg = write_config(f'\n[analysis]\nmodel = "{out}"\n')
    store = Store(cfg.parent / "yuqing.db")
    store.add_posts([Post(url="https://e.com/1", source="weibo", text="窗口办事拖拖拉拉"),
                     Post(url="https://e.com/2", source="weibo", text="社区送来了慰问品")])
    with store.transaction() as conn:
        conn.execute("INSERT INTO corrections(post_id, label, who, at) VALUES (1, 'positive', 'a', '2024-01-01')")
        conn.execute("INSERT INTO corrections(post_id, label, who, at) VALUES (1, 'negative', 'b', '2024-01-02')")
        conn.execute("INSERT INTO corrections(post_id, label, who, at) VALUES (2, 'positive', 'a', '2024-01-02')")
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(cfg), "train-sentiment", "--data", str(data), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "dev weibo2018" in result.output and out.exists()
    model = LinearModel.load(out)
    assert model.meta["seed"] == 7
    # the stacked negative head: head B's weights and idf, and the stacker's numbers from validation rows
    assert model.second is not None and model.second.shape == model.weights.shape and model.concession
    assert (model.second[:, 1] >= 1).all() and model.stack[1] != 0
    assert set(model.meta["calibration"]) >= {"stack_a", "stack_b", "stack_c"}
    assert model.meta["sources"]["corrections"]["train"] == 2  # latest label per post
    assert model.meta["sources"]["weibo2018"]["train"] + model.meta["sources"]["weibo2018"]["dev"] == 120
    card = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "weibo2018" in card and "seed 7" in card
    # same seed, same data: the same numbers
    again = tmp_path / "again.npz"
    again.with_suffix(".md").write_text("old card\n<!-- kept across retraining -->\n## Bench notes\n", encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(cfg), "train-sentiment", "--data", str(data), "--seed", "7",
                                 "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert np.array_equal(LinearModel.load(again).weights, model.weights)
    card = again.with_suffix(".md").read_text(encoding="utf-8")
    assert "old card" not in card and "## Bench notes" in card and "`again.npz`" in card
    # the configured model is the one classify uses
    result = runner.invoke(cli, ["--config", str(cfg), "classify"], input="今天的饭太差了\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["label"] == "negative"
    store.close()


def test_train_sentiment_without_data_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "a.toml"), "train-sentiment",
                                      "--data", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no training data folder" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "a.toml"), "train-sentiment", "--data", str(empty),
                                      "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 1 and "no training data in" in result.output
