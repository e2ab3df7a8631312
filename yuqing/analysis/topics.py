"""Topics: a taxonomy of weighted terms (TOML), matched in one pass over a post's text.

All terms and exclusion phrases of every topic are compiled into one regular expression, longest
first, so a single scan finds them all; an exclusion phrase (精神污染) swallows the term inside it
(污染), which is how exclusions work without a second pass.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from yuqing.errors import ConfigError
from yuqing.models import TopicMatch

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "topics.toml"


@dataclass(frozen=True)
class Topic:
    name: str
    terms: dict[str, float]
    exclude: tuple[str, ...] = ()
    min_score: float = 1.0


@dataclass
class Taxonomy:
    topics: list[Topic]
    source: str = ""
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    _owners: dict[str, list[tuple[int, float]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        owners: dict[str, list[tuple[int, float]]] = {}
        for i, topic in enumerate(self.topics):
            for term, weight in topic.terms.items():
                owners.setdefault(term, []).append((i, weight))
            for phrase in topic.exclude:
                owners.setdefault(phrase, [])  # matched, counts for nothing
        self._owners = owners
        if owners:
            alternatives = sorted(owners, key=lambda t: (-len(t), t))
            self._pattern = re.compile("|".join(re.escape(t) for t in alternatives))

    @property
    def terms(self) -> list[str]:
        return [t for t, owners in self._owners.items() if owners]

    def match(self, text: str) -> list[TopicMatch]:
        """Topics of a (normalised) text, best first, each with the terms that matched."""
        if not text or self._pattern is None:
            return []
        seen: set[str] = set(self._pattern.findall(text))
        scores: dict[int, float] = {}
        found: dict[int, list[str]] = {}
        for term in seen:
            for i, weight in self._owners[term]:
                scores[i] = scores.get(i, 0.0) + weight
                found.setdefault(i, []).append(term)
        result = [
            TopicMatch(self.topics[i].name, round(score, 3), sorted(found[i], key=lambda t: (-self.topics[i].terms[t], t)))
            for i, score in scores.items()
            if score >= self.topics[i].min_score
        ]
        result.sort(key=lambda m: (-m.score, m.name))
        return result


def parse(raw: dict, source: str = "") -> Taxonomy:
    """Build a taxonomy from parsed TOML; raises ConfigError naming the bad key."""
    table = raw.get("topics")
    if not isinstance(table, dict) or not table:
        raise ConfigError("topics", f"{source or 'taxonomy'}: expected [topics.\"name\"] tables")
    topics = []
    for name, spec in table.items():
        path = f"topics.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(path, "expected a table with terms = { \"word\" = weight }")
        unknown = set(spec) - {"terms", "exclude", "min_score"}
        if unknown:
            raise ConfigError(f"{path}.{sorted(unknown)[0]}", "unknown key (known: exclude, min_score, terms)")
        terms = spec.get("terms")
        if isinstance(terms, list):  # a plain list means weight 1 each
            terms = {t: 1.0 for t in terms}
        if not isinstance(terms, dict) or not terms:
            raise ConfigError(f"{path}.terms", "expected at least one term: { \"word\" = weight }")
        clean: dict[str, float] = {}
        for term, weight in terms.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                raise ConfigError(f"{path}.terms.{term}", f"weight must be a positive number, got {weight!r}")
            term = term.strip().lower()
            if term:
                clean[term] = float(weight)
        exclude = spec.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
            raise ConfigError(f"{path}.exclude", "expected a list of phrases")
        min_score = spec.get("min_score", 1.0)
        if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or min_score <= 0:
            raise ConfigError(f"{path}.min_score", f"expected a positive number, got {min_score!r}")
        topics.append(Topic(name, clean, tuple(e.strip().lower() for e in exclude if e.strip()), float(min_score)))
    return Taxonomy(topics, source)


def load(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at `path`, or the shipped default."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError("analysis.topics", f"topic taxonomy not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("analysis.topics", f"{path} is not valid TOML: {exc}") from None
    return parse(raw, str(path))
