"""Triage of an inbox: language, intent, urgency and order number for each message, in
batches so a day's messages take seconds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from agent.language import detect_language
from agent.understanding import IntentClassifier, assess_urgency, extract_slots, read_signals
from config import Settings
from knowledge.embedders import make_embedder

BATCH = 64


def _parse(number: int, line: str) -> tuple[Any, str] | dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        return {"line": number, "error": f"not valid JSON: {e.msg}"}
    if not isinstance(record, dict) or "text" not in record:
        return {
            "line": number,
            "id": record.get("id") if isinstance(record, dict) else None,
            "error": "expected an object with 'id' and 'text'",
        }
    text = str(record.get("text") or "").strip()
    if not text:
        return {"line": number, "id": record.get("id"), "error": "empty text"}
    return record.get("id"), text[:4000]


def triage_batch(classifier: IntentClassifier, batch: list[tuple[Any, str]]) -> list[dict[str, Any]]:
    languages = [detect_language(text).language for _, text in batch]
    guesses = classifier.classify_many([text for _, text in batch], languages)
    results = []
    for (record_id, text), language, guess in zip(batch, languages, guesses, strict=True):
        signals = read_signals(text, language)
        slots = extract_slots(text, language)
        urgency = assess_urgency(intent=guess.intent, signals=signals)
        results.append(
            {
                "id": record_id,
                "language": language,
                "intent": guess.intent,
                "urgency": urgency.level.value,
                "order_id": slots.order_ids[0] if slots.order_ids else None,
            }
        )
    return results


def triage_lines(lines: Iterable[str], settings: Settings) -> Iterator[dict[str, Any]]:
    """One result per non-empty input line, in input order (errors included)."""
    cache = settings.resolved_cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    classifier = IntentClassifier(make_embedder(settings.embedder, settings.embedder_model), cache_dir=cache)
    pending: list[tuple[int, tuple[Any, str] | dict[str, Any]]] = []

    def flush() -> Iterator[dict[str, Any]]:
        good = [(i, p) for i, p in pending if isinstance(p, tuple)]
        triaged = iter(triage_batch(classifier, [p for _, p in good])) if good else iter(())
        for _, parsed in pending:
            yield parsed if isinstance(parsed, dict) else next(triaged)
        pending.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pending.append((number, _parse(number, line)))
        if len(pending) >= BATCH:
            yield from flush()
    yield from flush()
