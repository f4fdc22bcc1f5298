"""The blind understanding evaluation: single customer messages, written apart from the
training corpus, each with its expected intent and details (order number, email).

Reports accuracy and macro-F1 overall, per language and per intent, the share of in-scope
messages read as `other`, the order-number and email extraction rates, and a confusion table
of the most frequent mistakes."""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.language import detect_language
from agent.understanding import INTENTS, IntentClassifier, extract_slots

UNDERSTANDING_DIR = Path(__file__).parent / "data" / "understanding"
BATCH = 64


class EvalSetError(ValueError):
    """An evaluation file that cannot be used; the message names the file and item."""


@dataclass(frozen=True)
class Item:
    id: str
    language: str
    text: str
    intent: str
    order: str | None
    email: str | None


def load_items(directory: Path = UNDERSTANDING_DIR) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        language = path.stem.split("-")[0]  # en.yaml, en-z.yaml: more writers of one language
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as e:
            raise EvalSetError(f"{path.name}: not valid YAML: {e}") from e
        if not isinstance(data, list):
            raise EvalSetError(f"{path.name}: expected a list of items")
        for raw in data:
            if not isinstance(raw, dict) or not raw.get("text") or raw.get("intent") not in INTENTS:
                raise EvalSetError(
                    f"{path.name}: item {raw.get('id') if isinstance(raw, dict) else raw!r} needs a text and a known intent"
                )
            item_id = str(raw.get("id") or f"{language}-{len(items)}")
            if item_id in seen:
                raise EvalSetError(f"{path.name}: item id {item_id} is used twice")
            seen.add(item_id)
            slots = raw.get("slots") or {}
            items.append(
                Item(
                    id=item_id,
                    language=language,
                    text=str(raw["text"]),
                    intent=str(raw["intent"]),
                    order=_order_key(str(slots["order"])) if slots.get("order") else None,
                    email=str(slots["email"]).lower() if slots.get("email") else None,
                )
            )
    return items


def _order_key(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", value)).upper()


def _f1(gold: list[str], guessed: list[str]) -> float:
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, guessed, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, guessed, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, guessed, strict=True) if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _group(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return {
        name: {
            "items": len(members),
            "accuracy": round(sum(r["correct"] for r in members) / len(members), 4),
            "macro_f1": round(_f1([r["intent"] for r in members], [r["guess"] for r in members]), 4),
        }
        for name, members in sorted(groups.items())
    }


def evaluate(
    classifier: IntentClassifier, items: list[Item], *, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Classify every item (language detected as in a conversation's first message)."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        languages = [detect_language(item.text).language for item in chunk]
        guesses = classifier.classify_many([item.text for item in chunk], languages)
        for item, language, guess in zip(chunk, languages, guesses, strict=True):
            slots = extract_slots(item.text, language)
            # Unlabelled numbers count: the agent uses them when the store has such an order.
            orders = {_order_key(o) for o in (*slots.order_ids, *slots.order_candidates)}
            rows.append(
                {
                    "id": item.id,
                    "language": item.language,
                    "detected_language": language,
                    "text": item.text,
                    "intent": item.intent,
                    "guess": guess.intent,
                    "confidence": guess.confidence,
                    "correct": guess.intent == item.intent,
                    "order_expected": item.order,
                    "order_found": item.order in orders if item.order else None,
                    "email_found": item.email in {e.lower() for e in slots.emails} if item.email else None,
                }
            )
        if progress:
            progress(len(rows), len(items))
    gold = [r["intent"] for r in rows]
    guessed = [r["guess"] for r in rows]
    in_scope = [r for r in rows if r["intent"] != "other"]
    with_order = [r for r in rows if r["order_found"] is not None]
    emails = [r for r in rows if r["email_found"] is not None]
    confusion = Counter((r["intent"], r["guess"]) for r in rows if not r["correct"])
    return {
        "items": len(rows),
        "accuracy": round(sum(r["correct"] for r in rows) / len(rows), 4) if rows else 0.0,
        "macro_f1": round(_f1(gold, guessed), 4),
        "in_scope_read_as_other": round(sum(r["guess"] == "other" for r in in_scope) / len(in_scope), 4) if in_scope else 0.0,
        "language_detected": round(sum(r["detected_language"] == r["language"] for r in rows) / len(rows), 4) if rows else 0.0,
        "order_numbers_found": round(sum(r["order_found"] for r in with_order) / len(with_order), 4) if with_order else None,
        "emails_found": round(sum(r["email_found"] for r in emails) / len(emails), 4) if emails else None,
        "by_language": _group(rows, "language"),
        "by_intent": _group(rows, "intent"),
        "confusion": [{"expected": e, "guessed": g, "count": n} for (e, g), n in confusion.most_common()],
        "misses": [r for r in rows if not r["correct"]],
        "missed_orders": [
            {"id": r["id"], "text": r["text"], "order": r["order_expected"]} for r in with_order if not r["order_found"]
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
