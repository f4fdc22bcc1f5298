"""The policy search the agent, the evaluations and `helloword kb search` share: the sections
most similar to the question, re-ranked by the policy-topic head's reading of the question
(which document it is about), in the customer's language where a translation exists.

The question is embedded once: the classifier read the same text, and the embedder remembers it."""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.understanding import IntentClassifier, request_text

# How much the topic head's probability adds to a section's similarity (similarities of the
# candidates differ by a few hundredths; a confident topic reading outweighs that).
TOPIC_WEIGHT = 0.1
CANDIDATES = 8


def search_policy(
    knowledge: Any, classifier: IntentClassifier, text: str, *, language: str | None, k: int = 3, profile: str = "default"
) -> list[Any]:
    """The `k` best sections (knowledge.store.Hit) for a customer's question."""
    vector = classifier.embedder.embed_queries([request_text(text)])[0]
    hits = list(knowledge.search_by_vector(vector, k=CANDIDATES, language=language, profile=profile))
    head = classifier.topic_head
    if head is None or not hits:
        return hits[:k]
    probabilities = dict(zip(head.labels, (float(p) for p in head.probabilities(np.asarray(vector)[None, :])[0]), strict=True))
    likeliest = max(probabilities, key=probabilities.__getitem__)
    if likeliest not in {h.chunk.topic for h in hits}:
        hits += knowledge.search_by_vector(vector, k=2, language=language, topic=likeliest, profile=profile)
    seen: set[str] = set()
    ranked = []
    for hit in sorted(hits, key=lambda h: -(h.score + TOPIC_WEIGHT * probabilities.get(h.chunk.topic, 0.0))):
        if hit.chunk.key not in seen:
            seen.add(hit.chunk.key)
            ranked.append(hit)
    return ranked[:k]
