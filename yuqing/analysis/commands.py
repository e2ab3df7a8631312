"""CLI commands of this stage (registered by yuqing.cli): analyze, classify, train-sentiment."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from yuqing.cli import App, fail, pass_app

if TYPE_CHECKING:
    from yuqing.store import Store

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

    \b
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
def classify(app: App, file: TextIO) -> None:
    """Classify text lines: one JSON object a line (label, negative_prob, topics, keywords).

    Reads FILE, or standard input when FILE is - or absent. Uses the config's analysis settings
    when the config file exists, otherwise the embedded defaults (shipped model and topics).
    Blank lines give a neutral result, so output lines match input lines.

    Example:

    \b
        echo "小区停水三天了，物业电话打不通，没人管" | yuqing classify
    """
    from yuqing.analysis.analyzer import for_settings

    settings = app.settings if app.config_path.exists() else None
    analyzer = for_settings(settings)
    for line in file:
        result = analyzer.analyze(line.rstrip("\n"))
        # click.echo, not sys.stdout: it writes UTF-8 even under a C locale (get_text_stream is deprecated)
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))


def _default_data_dir() -> Path:
    from yuqing.analysis.corpora import default_data_dir

    return default_data_dir()


@click.command("train-sentiment")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Train from scratch on the labelled corpora in this folder (needs scikit-learn). "
                   "Without it, the model in use is refined with the analysts' corrections (numpy only).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (.npz; a model card .md is written beside it) "
                   "[default: `[analysis] model`, else models/sentiment_model.npz beside the config].")
@click.option("--seed", type=int, default=13, show_default=True, help="Random seed (same seed, same model).")
@click.option("--store/--no-store", "use_store", default=None,
              help="Add the analysts' corrections from the store [default: when the config file exists].")
@click.option("--rollback", is_flag=True, help="Put the previous model back (a second rollback undoes the first).")
@click.option("--force", is_flag=True, help="Keep a retrain even if a dev accuracy falls by more than 1 point.")
@click.option("--check-corpora/--no-check-corpora", default=True, show_default=True,
              help="Also measure the retrain on the corpora's dev splits when the corpus folder exists.")
@pass_app
def train_sentiment(app: App, data_dir: Path | None, output: Path | None, seed: int, use_store: bool | None,
                    rollback: bool, force: bool, check_corpora: bool) -> None:
    """Retrain the sentiment model with the analysts' corrections, or train it from the corpora.

    Without --data (a field install: no corpora, no scikit-learn) the model in use is refined with
    the corrections made in the web app. A fifth of the corrections (by text checksum) is held out
    to measure the old and new model; a retrain that loses more than 1 point of dev accuracy is
    refused unless --force. The previous model is kept (--rollback puts it back), the figures go
    into the model card, and a running daemon picks the new model up at its next analysis batch.

    Examples:

    \b
        yuqing --config yuqing.toml train-sentiment
        yuqing --config yuqing.toml train-sentiment --rollback
        yuqing --config yuqing.toml train-sentiment --data ../shared/data/sentiment -o models/full.npz
    """
    from yuqing.analysis import retrain
    from yuqing.analysis.analyzer import LOCAL_MODEL
    from yuqing.analysis.sentiment import DEFAULT_MODEL, LinearModel
    from yuqing.analysis.training import load_corrections, write_card
    from yuqing.errors import ConfigError, YuqingError

    has_config = app.config_path.exists()
    if output is None:
        if has_config and app.settings.analysis.model:
            output = app.settings.path(app.settings.analysis.model)
        else:
            base = app.settings.path(".") if has_config else Path(os.getcwd())
            output = base / LOCAL_MODEL
    if rollback:
        try:
            retrain.rollback(output)
        except (YuqingError, ConfigError) as exc:
            fail(str(exc), 1)
        click.echo(f"rolled back: {output} is the previous model again (the replaced one is now "
                   f"{retrain.previous_path(output).name})")
        return
    if use_store is None:
        use_store = has_config
    store = app.store() if use_store else None
    if data_dir is not None:
        _train_from_corpora(data_dir, output, seed, store)
        return
    if store is None:
        fail("a retrain learns from the analysts' corrections: give a config whose store holds them "
             "(or --data DIR to train from the corpora)", 2)
    source = output if output.exists() else DEFAULT_MODEL
    try:
        current = LinearModel.load(source)
    except ConfigError as exc:
        fail(f"{exc} (--rollback puts the previous model back)", 2)
    dev = retrain.corpus_dev_sets(_default_data_dir()) if check_corpora else {}
    try:
        outcome = retrain.retrain(current, load_corrections(store), dev)
    except YuqingError as exc:
        fail(str(exc), 1)
    for line in retrain.describe(outcome):
        click.echo(line)
    if outcome.drops and not force:
        fail("retrain refused, dev accuracy fell by more than 1 point: " + "; ".join(outcome.drops)
             + f". The model in use ({source}) is unchanged; --force keeps the retrain anyway.", 1)
    retrain.record(outcome, forced=bool(outcome.drops))
    path = retrain.install(outcome.model, output, source)
    card = retrain.card_path(path)
    if not card.exists():
        card.write_text(retrain.card_path(source).read_text(encoding="utf-8"), encoding="utf-8")
    write_card(outcome.model, card, path)
    click.echo(f"model written to {path}; previous kept as {retrain.previous_path(path).name}; model card {card}")


def _train_from_corpora(data_dir: Path, output: Path, seed: int, store: Store | None) -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        fail("training from the corpora needs scikit-learn: pip install 'yuqing[train]' "
             "(without --data, the model is retrained from the corrections with numpy only)", 2)
    from yuqing.analysis import retrain
    from yuqing.analysis.training import TrainOptions, train, write_card

    if not data_dir.is_dir():
        fail(f"no training data folder at {data_dir} (use --data or set YUQING_SHARED_DATA)", 2)
    model = train(TrainOptions(data_dir=data_dir, seed=seed), store=store, echo=click.echo)
    if output.exists():
        path = retrain.install(model, output, output)
    else:
        path = model.save(output)
    card = write_card(model, retrain.card_path(path), path)
    click.echo(f"model written to {path} ({path.stat().st_size // 1024} KB); model card {card}")


commands: list[click.Command] = [analyze, classify, train_sentiment]
