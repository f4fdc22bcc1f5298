"""Policy retrieval on blind-written questions: does the first section found belong to the
document that answers the question, and is it in the customer's language?"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.knowledge_search import search_policy
from agent.language import detect_language

POLICY_QUESTIONS_DIR = Path(__file__).parent / "data" / "policy_questions"


def load_questions(directory: Path = POLICY_QUESTIONS_DIR) -> list[dict[str, str]]:
    questions = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise ValueError(f"{path.name}: expected a list of questions")
        # "en.yaml", "en-pay.yaml": the language is the name's part before the first dash.
        language = path.stem.split("-")[0]
        for raw in data:
            if not isinstance(raw, dict) or not raw.get("text") or not raw.get("topic"):
                raise ValueError(f"{path.name}: every question needs a text and a topic")
            questions.append(
                {"id": str(raw.get("id")), "language": language, "text": str(raw["text"]), "topic": str(raw["topic"])}
            )
    return questions


def evaluate_retrieval(
    knowledge: Any,
    classifier: Any,
    questions: list[dict[str, str]],
    *,
    profile: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """hit@1 and hit@3 by topic, and the share of first hits in the question's language, per language."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for number, question in enumerate(questions, start=1):
        language = detect_language(question["text"]).language
        hits = search_policy(knowledge, classifier, question["text"], language=language, k=3, profile=profile)
        topics = [h.chunk.topic for h in hits]
        rows.append(
            {
                **question,
                "found": topics,
                "hit1": bool(topics) and topics[0] == question["topic"],
                "hit3": question["topic"] in topics,
                "in_language": bool(hits) and hits[0].chunk.language == question["language"],
            }
        )
        if progress:
            progress(number, len(questions))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["language"]].append(row)

    def rate(members: list[dict[str, Any]], key: str) -> float:
        return round(sum(bool(r[key]) for r in members) / len(members), 4) if members else 0.0

    return {
        "questions": len(rows),
        "hit_at_1": rate(rows, "hit1"),
        "hit_at_3": rate(rows, "hit3"),
        "in_language": rate(rows, "in_language"),
        "by_language": {
            name: {
                "questions": len(m),
                "hit_at_1": rate(m, "hit1"),
                "hit_at_3": rate(m, "hit3"),
                "in_language": rate(m, "in_language"),
            }
            for name, m in sorted(groups.items())
        },
        "misses": [r for r in rows if not r["hit1"]],
        "seconds": round(time.perf_counter() - started, 1),
    }
