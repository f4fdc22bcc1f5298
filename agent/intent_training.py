"""Training of the intent head (`helloword intents train`).

The corpus is every `prompts/intents/corpus/<lang>.<writer>.yaml` file (messages written per
intent, in batches by independent writers) plus the examples of the intent lexicons. Each
message is reduced to its request (emails and order numbers out, as at serving time),
embedded once (vectors are kept in the cache folder, so a second training only embeds what
changed), and a multinomial logistic regression is fitted.

A stratified tenth of the corpus is held back first to choose the regularisation, the
temperature that calibrates the probabilities and the threshold under which a message is
`other`; the head is then fitted again on everything with those choices.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.intent_head import IntentHead, Matrix, blend_keywords, corpus_digest, scale_label, softmax
from agent.understanding import (
    DEFAULT_DIRECTORY,
    INTENTS,
    LANGUAGES,
    keyword_distribution,
    load_lexicons,
    read_lexicon_files,
    request_text,
)
from knowledge.embedders import Embedder

CORPUS_DIRECTORY = DEFAULT_DIRECTORY / "corpus"
DEV_SHARE = 0.1
C_GRID = (2.0, 8.0, 32.0)
TEMPERATURES = tuple(round(t, 2) for t in np.arange(0.4, 3.01, 0.1))
# Out-of-scope messages must not swallow in-scope ones: the threshold is the highest that keeps
# in-scope dev messages read as `other` under this share.
MAX_IN_SCOPE_OTHER = 0.02
KEYWORD_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
OTHER_SCALES = (1.0, 0.7, 0.5, 0.35, 0.25)

Progress = Callable[[int, int], None]


class CorpusError(ValueError):
    """A corpus file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Record:
    language: str
    intent: str
    text: str
    source: str


def read_corpus(directory: Path | None = None, lexicons: Path | None = None) -> list[Record]:
    """Every training message, deduplicated per (language, text)."""
    records: list[Record] = []
    seen: set[tuple[str, str]] = set()

    def add(language: str, intent: str, text: Any, source: str) -> None:
        if not isinstance(text, str) or not text.strip():
            return
        key = (language, text.strip().lower())
        if key in seen:
            return
        seen.add(key)
        records.append(Record(language, intent, text.strip(), source))

    folder = directory or CORPUS_DIRECTORY
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise CorpusError(f"{path.name}: not valid YAML: {e}") from e
        language = str(data.get("language") or path.name.split(".")[0])
        if language not in LANGUAGES:
            raise CorpusError(f"{path.name}: unknown language {language!r}")
        for intent, texts in (data.get("examples") or {}).items():
            if intent not in INTENTS:
                raise CorpusError(f"{path.name}: unknown intent {intent!r}")
            for text in texts or []:
                add(language, intent, text, path.name)
    parsed, _ = read_lexicon_files(lexicons or DEFAULT_DIRECTORY)
    for language, lexicon in sorted(parsed.items()):
        for intent, texts in sorted(lexicon.examples.items()):
            for text in texts:
                add(language, intent, text, f"{language}.yaml")
    return records


def _text_key(embedder: Embedder, text: str) -> str:
    return hashlib.sha1(f"{embedder.name}\0{text}".encode()).hexdigest()


def embed_corpus(
    embedder: Embedder, texts: list[str], cache_dir: Path | None = None, progress: Progress | None = None, batch: int = 64
) -> Matrix:
    """The texts' query vectors, reusing those kept in `cache_dir` from an earlier run."""
    keys = [_text_key(embedder, t) for t in texts]
    known: dict[str, np.ndarray[Any, Any]] = {}
    path = cache_dir / f"corpus-vectors.{hashlib.sha1(embedder.name.encode()).hexdigest()[:12]}.npz" if cache_dir else None
    if path is not None and path.exists():
        try:
            with np.load(path) as data:
                known = dict(zip((str(k) for k in data["keys"]), np.asarray(data["vectors"], dtype=np.float32), strict=True))
        except (OSError, ValueError, KeyError):
            known = {}
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    done = len(texts) - len(missing)
    if progress:
        progress(done, len(texts))
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        vectors = embedder.embed_queries([t for _, t in chunk])
        for (key, _), vector in zip(chunk, vectors, strict=True):
            known[key] = vector
        done += len(chunk)
        if progress:
            progress(done, len(texts))
    if path is not None and missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        partial.replace(path)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _fit(x: Matrix, y: np.ndarray[Any, Any], c: float, seed: int) -> tuple[Matrix, Matrix]:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(x, y)
    return model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32)


def _dev_split(records: list[Record], seed: int) -> np.ndarray[Any, Any]:
    """A boolean mask of held-back records: a tenth of every (language, intent) group."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault((r.language, r.intent), []).append(i)
    mask = np.zeros(len(records), dtype=bool)
    for members in groups.values():
        if len(members) < 5:
            continue
        chosen = rng.choice(members, size=max(1, round(len(members) * DEV_SHARE)), replace=False)
        mask[chosen] = True
    return mask


def _calibrated_fit(
    vectors: Matrix, y: np.ndarray[Any, Any], dev: np.ndarray[Any, Any], seed: int, say: Callable[[str], None] | None
) -> tuple[float, float, Matrix, Matrix, float]:
    """Fitted on all but the held-back part: the regularisation with the best held-back accuracy,
    then the temperature with the lowest held-back log loss. (accuracy, C, weights, bias, temperature)."""
    best: tuple[float, float, Matrix, Matrix] | None = None
    for c in C_GRID:
        weights, bias = _fit(vectors[~dev], y[~dev], c, seed)
        accuracy = float(np.mean(softmax(vectors[dev], weights, bias, 1.0).argmax(axis=1) == y[dev]))
        if say:
            say(f"C={c:g}: held-back accuracy {accuracy:.1%}")
        if best is None or accuracy > best[0]:
            best = (accuracy, c, weights, bias)
    assert best is not None
    accuracy, c, weights, bias = best
    y_dev = y[dev]
    nll = {
        t: float(-np.mean(np.log(softmax(vectors[dev], weights, bias, t)[np.arange(len(y_dev)), y_dev] + 1e-9)))
        for t in TEMPERATURES
    }
    return accuracy, c, weights, bias, min(nll, key=nll.__getitem__)


def keyword_matrix(records: list[Record], labels: tuple[str, ...], inputs: list[str]) -> Matrix:
    """Each record's keyword vote, as the classifier computes it at serving time."""
    lexicons = load_lexicons()
    return np.stack([keyword_distribution(text, r.language, labels, lexicons) for r, text in zip(records, inputs, strict=True)])


def _decide(probs: Matrix, labels: tuple[str, ...], threshold: float) -> list[str]:
    best = probs.argmax(axis=1)
    return [labels[b] if probs[i, b] >= threshold else "other" for i, b in enumerate(best)]


def train_head(
    records: list[Record],
    vectors: Matrix,
    embedder_name: str,
    *,
    seed: int = 7,
    say: Callable[[str], None] | None = None,
    keywords: Matrix | None = None,
) -> IntentHead:
    """`keywords` (records × INTENTS order of the labels) lets the held-back split choose how much
    the keyword lexicons count."""
    labels = tuple(i for i in INTENTS if any(r.intent == i for r in records))
    index = {label: n for n, label in enumerate(labels)}
    y = np.array([index[r.intent] for r in records])
    dev = _dev_split(records, seed)
    gold = [r.intent for r, d in zip(records, dev, strict=True) if d]
    _, c, weights, bias, temperature = _calibrated_fit(vectors, y, dev, seed, say)
    plain = softmax(vectors[dev], weights, bias, temperature)
    dev_keywords = keywords[dev] if keywords is not None else None
    in_scope = np.array([g != "other" for g in gold])
    best_choice: tuple[float, float, float, float] = (-1.0, 0.0, 0.0, 1.0)  # accuracy, keyword weight, threshold, other scale
    other_index = labels.index("other") if "other" in labels else None
    grid = [(w, o) for w in (KEYWORD_WEIGHTS if keywords is not None else (0.0,)) for o in OTHER_SCALES]
    for keyword_weight, other_scale in grid:
        scaled = scale_label(plain, other_index, other_scale) if other_index is not None else plain
        probs = blend_keywords(scaled, dev_keywords, keyword_weight)
        threshold = 0.0
        for candidate in np.arange(0.0, 0.61, 0.02):
            guesses = _decide(probs, labels, float(candidate))
            swallowed = np.mean([g == "other" for g, s in zip(guesses, in_scope, strict=True) if s]) if in_scope.any() else 0
            if swallowed <= MAX_IN_SCOPE_OTHER:
                threshold = float(candidate)
        guesses = _decide(probs, labels, threshold)
        accuracy = float(np.mean([g == t for g, t in zip(guesses, gold, strict=True)]))
        if accuracy > best_choice[0]:
            best_choice = (accuracy, keyword_weight, threshold, other_scale)
    dev_accuracy, keyword_weight, threshold, other_scale = best_choice
    if say:
        say(
            f"chosen C={c:g}, temperature {temperature:.2f}, keyword weight {keyword_weight:.1f}, other scale "
            f"{other_scale:.2f}, threshold {threshold:.2f}: held-back accuracy {dev_accuracy:.1%}"
        )
    weights, bias = _fit(vectors, y, c, seed)
    report = {
        "examples": len(records),
        "per_language": dict(sorted(Counter(r.language for r in records).items())),
        "per_intent": dict(sorted(Counter(r.intent for r in records).items())),
        "held_back_accuracy": round(dev_accuracy, 4),
        "C": c,
    }
    return IntentHead(
        labels=labels,
        weights=weights,
        bias=bias,
        temperature=float(temperature),
        threshold=threshold,
        keyword_weight=keyword_weight,
        other_scale=other_scale,
        embedder=embedder_name,
        digest=corpus_digest([(r.language, r.intent, r.text) for r in records]),
        report=report,
    )


def training_inputs(records: list[Record]) -> list[str]:
    """What the head reads of each message: its request, as at serving time."""
    return [request_text(r.text) for r in records]


# ---------------------------------------------------------------- policy topics

TOPIC_DIRECTORY = Path(__file__).resolve().parents[1] / "knowledge" / "topics"


def read_topic_corpus(directory: Path | None = None) -> list[Record]:
    """Questions about the shop's policies, each labelled with the document (topic) that answers
    it: `knowledge/topics/<lang>.<writer>.yaml`. The record's `intent` holds the topic."""
    records: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted((directory or TOPIC_DIRECTORY).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as e:
            raise CorpusError(f"{path.name}: not valid YAML: {e}") from e
        language = path.name.split(".")[0]
        if not isinstance(data, list):
            raise CorpusError(f"{path.name}: expected a list of questions")
        for item in data:
            if not isinstance(item, dict) or not str(item.get("text") or "").strip() or not item.get("topic"):
                raise CorpusError(f"{path.name}: every question needs a text and a topic")
            key = (language, str(item["text"]).strip().lower())
            if key not in seen:
                seen.add(key)
                records.append(Record(language, str(item["topic"]), str(item["text"]).strip(), path.name))
    return records


def train_topic_head(
    records: list[Record], vectors: Matrix, embedder_name: str, *, seed: int = 7, say: Callable[[str], None] | None = None
) -> IntentHead:
    """A head that reads which policy document a question is about; the knowledge search uses it
    as a prior over the sections it finds."""
    labels = tuple(sorted({r.intent for r in records}))
    index = {label: n for n, label in enumerate(labels)}
    y = np.array([index[r.intent] for r in records])
    dev = _dev_split(records, seed)
    accuracy, c, weights, bias, temperature = _calibrated_fit(vectors, y, dev, seed, None)
    if say:
        say(f"policy topics: C={c:g}, temperature {temperature:.2f}, held-back accuracy {accuracy:.1%}")
    weights, bias = _fit(vectors, y, c, seed)
    return IntentHead(
        labels=labels,
        weights=weights,
        bias=bias,
        temperature=float(temperature),
        threshold=0.0,
        embedder=embedder_name,
        digest=corpus_digest([(r.language, r.intent, r.text) for r in records]),
        report={"examples": len(records), "held_back_accuracy": round(accuracy, 4), "C": c},
    )
