"""CLI commands of this stage (registered by yuqing.cli): analyze, classify, train-sentiment."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from yuqing.cli import App, fail, pass_app

logger = logging.getLogger(__name__)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Analyse at most this many posts.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_app
def analyze(app: App, limit: int | None, quiet: bool) -> None:
    """Analyse stored posts not analysed yet: topics, keywords, sentiment, events.

    Works in batches of `[analysis] batch` posts, one transaction each: after a kill, the next run
    continues where the last committed batch ended.

    Example:

        yuqing --config yuqing.toml analyze
    """
    from yuqing.analysis.batch import analyze_pending

    store = app.store()
    count = analyze_pending(app.settings, store, limit=limit, progress=not quiet and sys.stderr.isatty())
    left = store.backlog()["unanalysed_posts"]
    click.echo(f"analysed {count} posts" + (f", {left} left" if left else ""))


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8-sig"), default="-")
@pass_app
def classify(app: App, file) -> None:  # type: ignore[no-untyped-def]
    """Classify text lines: one JSON object a line (label, negative_prob, topics, keywords).

    Reads FILE, or standard input when FILE is - or absent. Uses the config's analysis settings
    when the config file exists, otherwise the embedded defaults (shipped model and topics).
    Blank lines give a neutral result, so output lines match input lines.

    Example:

        echo "小区停水三天了，物业电话打不通，没人管" | yuqing classify
    """
    from yuqing.analysis.analyzer import for_settings

    settings = app.settings if app.config_path.exists() else None
    analyzer = for_settings(settings)
    out = click.get_text_stream("stdout")
    for line in file:
        result = analyzer.analyze(line.rstrip("\n"))
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    out.flush()


def _default_data_dir() -> Path:
    from yuqing.analysis.corpora import default_data_dir

    return default_data_dir()


@click.command("train-sentiment")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of labelled corpora [default: $YUQING_SHARED_DATA/sentiment or ../shared/data/sentiment].")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (.npz; a model card .md is written beside it) "
                   "[default: `[analysis] model`, else models/sentiment_model.npz beside the config].")
@click.option("--seed", type=int, default=13, show_default=True, help="Random seed (same seed, same model).")
@click.option("--store/--no-store", "use_store", default=None,
              help="Add the analysts' corrections from the store [default: when the config file exists].")
@pass_app
def train_sentiment(app: App, data_dir: Path | None, output: Path | None, seed: int, use_store: bool | None) -> None:
    """Train the sentiment model from the labelled corpora and analysts' corrections.

    Needs scikit-learn (pip install 'yuqing[train]'). Reports accuracy on a held-out split that is
    never trained on, and writes the model with its model card. Point `[analysis] model` at the
    file to use it.

    Example:

        yuqing --config yuqing.toml train-sentiment --output models/sentiment.npz
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        fail("training needs scikit-learn: pip install 'yuqing[train]'", 2)
    from yuqing.analysis.training import TrainOptions, train, write_card

    data_dir = data_dir or _default_data_dir()
    if not data_dir.is_dir():
        fail(f"no training data folder at {data_dir} (use --data or set YUQING_SHARED_DATA)", 2)
    has_config = app.config_path.exists()
    if use_store is None:
        use_store = has_config
    store = app.store() if use_store else None
    if output is None:
        if has_config and app.settings.analysis.model:
            output = app.settings.path(app.settings.analysis.model)
        else:
            base = app.settings.path("models") if has_config else Path(os.getcwd()) / "models"
            output = base / "sentiment_model.npz"
    model = train(TrainOptions(data_dir=data_dir, seed=seed), store=store, echo=click.echo)
    path = model.save(output)
    from yuqing.analysis.sentiment import DEFAULT_MODEL

    # the shipped model's card keeps the conventional name; others sit beside their model
    card_path = path.with_name("MODEL_CARD.md") if path.resolve() == DEFAULT_MODEL.resolve() else path.with_suffix(".md")
    card = write_card(model, card_path, path)
    click.echo(f"model written to {path} ({path.stat().st_size // 1024} KB); model card {card}")


commands: list[click.Command] = [analyze, classify, train_sentiment]
