"""The text pipeline: one jieba cut per post feeds keywords, topics, sentiment and the SimHash.

Cutting is most of the cost of analysing a post, so the text is normalised once (simplified
script, half-width), cut once, and every later step reads those words.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from yuqing.analysis import features, keywords, segment, sentiment, topics
from yuqing.analysis.events import simhash
from yuqing.errors import ConfigError
from yuqing.models import Analysis
from yuqing.settings import AnalysisConfig, Settings

logger = logging.getLogger(__name__)

MAX_CHARS = 20_000  # a post longer than this is analysed on its first 20,000 characters
# jieba's HMM guesses words missing from its dictionary; it costs 40% of the cut and changed no
# measured figure (the character n-grams cover unknown words), so the pipeline cuts without it.
HMM = False
# A model retrained on this machine (`yuqing train-sentiment`) lives here, beside the config, and
# replaces the shipped one when `[analysis] model` is not set.
LOCAL_MODEL = Path("models") / "sentiment_model.npz"


@dataclass
class Result:
    """An Analysis plus what the event stage needs and classify does not print."""

    analysis: Analysis
    weights: dict[str, float]  # TF-IDF weight of each candidate word, locality names left out


class Analyzer:
    """Everything a process needs to analyse text, loaded once: dictionary, taxonomy, model."""

    def __init__(self, config: AnalysisConfig | None = None, locality_terms: tuple[str, ...] = (),
                 base_dir: str | Path = "") -> None:
        self.config = config or AnalysisConfig()
        base = Path(base_dir)

        def resolve(value: str) -> Path:
            p = Path(value).expanduser()
            return p if p.is_absolute() else base / p

        self.locality_terms = tuple(t.lower() for t in locality_terms if t.strip())
        self.taxonomy = topics.load(resolve(self.config.topics) if self.config.topics else None)
        stop = set(segment.default_stopwords())
        if self.config.stopwords:
            stop |= segment.load_wordlist(resolve(self.config.stopwords))
        self.stopwords = frozenset(stop)
        self.tokenizer = prepare_tokenizer(self.taxonomy, self.locality_terms)
        if self.config.userdict:
            segment.load_userdict(resolve(self.config.userdict))
        self._resolve = resolve
        self._local = base / LOCAL_MODEL if str(base_dir) else None  # no config: no local folder
        path = self.model_file()
        self._stamp = _stamp(path)
        self.sentiment = sentiment.backend(self.config.sentiment, path)
        self.threshold = self.config.negative_threshold

    def model_file(self) -> Path | None:
        """The model file in use: `[analysis] model`, else a locally retrained one, else None (shipped)."""
        if self.config.sentiment != "model":
            return None
        if self.config.model:
            return self._resolve(self.config.model)
        if self._local is not None and self._local.exists():
            return self._local
        return None

    def refresh(self) -> bool:
        """Load the model file again if it changed on disk (a retrain or rollback); True if it did.

        A file that does not load is logged and the model in use is kept: a bad file never stops
        the analysis.
        """
        path = self.model_file()
        stamp = _stamp(path)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            model = sentiment.LinearModel.load(path)
        except ConfigError as exc:
            logger.warning("sentiment model not reloaded, the one in use is kept: %s", exc)
            return False
        self.sentiment = model
        logger.info("sentiment model reloaded from %s (%s)", path or "the shipped file", model.meta.get("created"))
        return True

    def analyze_full(self, text: str) -> Result:
        norm = features.normalize(text[:MAX_CHARS])
        words = [w for w in self.tokenizer.lcut(norm, HMM=HMM) if w.strip()] if norm else []
        tokens = [w for w in words if segment.is_word(w)]
        scored = keywords.weights(tokens, self.stopwords)
        for term in self.locality_terms:
            scored.pop(term, None)
        senti = self.sentiment.predict(norm, words, self.threshold)
        analysis = Analysis(
            label=senti.label,  # type: ignore[arg-type]
            negative_prob=senti.negative_prob,
            topics=self.taxonomy.match(norm),
            keywords=keywords.top(scored, self.config.keywords),
            tokens=tokens,
            simhash=simhash(scored),
        )
        return Result(analysis, scored)

    def analyze(self, text: str) -> Analysis:
        return self.analyze_full(text).analysis


def _stamp(path: Path | None) -> tuple | None:
    """What tells a replaced model file apart: inode, mtime and size (a rollback keeps old mtimes)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def prepare_tokenizer(taxonomy: topics.Taxonomy | None = None, extra: tuple[str, ...] = ()):
    """jieba with the taxonomy's terms (and locality names) kept whole; training calls this too."""
    taxonomy = taxonomy or topics.load()
    segment.add_words(taxonomy.terms)
    segment.add_words(extra)
    return segment.tokenizer()


_lock = threading.Lock()
_analyzers: dict[tuple, Analyzer] = {}


def for_settings(settings: Settings | None = None) -> Analyzer:
    """The process-wide Analyzer for these settings (None: embedded defaults, no locality)."""
    if settings is None:
        key: tuple = (AnalysisConfig(), (), "")
    else:
        key = (settings.analysis, settings.locality.terms, settings.base_dir)
    with _lock:
        if key not in _analyzers:
            _analyzers[key] = Analyzer(*key)
        else:
            _analyzers[key].refresh()
        return _analyzers[key]


def analyze_text(text: str, settings: Settings | None = None) -> dict:
    """label, negative_prob, topics, topic_terms, keywords of one text (the `classify` shape)."""
    return for_settings(settings).analyze(text).to_json()
