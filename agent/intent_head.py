"""The trained intent classifier: a linear head over the message's embedding.

The head is trained from the example corpus (`prompts/intents/corpus/`) by
`helloword intents train` and ships inside the package as a small `.npz` per embedder
(`agent/models/`), so serving never trains and never embeds the corpus. Reading a message
costs one embedding and one matrix product; the same embedding is reused for the
knowledge-base search of the turn.

Probabilities are calibrated on a held-back part of the corpus (one temperature) and blended
with the keyword lexicons' vote by a weight chosen there too; a message whose best intent is
less likely than the head's threshold is `other`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODELS_DIR = Path(__file__).resolve().parent / "models"
HEAD_FORMAT = "intent-head-v1"

Matrix = npt.NDArray[np.float32]


def softmax(vectors: Matrix, weights: Matrix, bias: Matrix, temperature: float) -> Matrix:
    """The linear head's probabilities at a temperature, one row per vector."""
    logits = (vectors @ weights + bias) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    result: Matrix = exp / exp.sum(axis=1, keepdims=True)
    return result


def scale_label(probs: Matrix, index: int, factor: float) -> Matrix:
    """The probabilities with one label's share multiplied by `factor`, then normalised again."""
    if factor == 1.0:
        return probs
    scaled = probs.copy()
    scaled[:, index] *= factor
    result: Matrix = scaled / scaled.sum(axis=1, keepdims=True)
    return result


def blend_keywords(probs: Matrix, keywords: Matrix | None, weight: float) -> Matrix:
    """The head's probabilities mixed with the keyword vote, on the rows where a keyword matched."""
    if keywords is None or weight <= 0:
        return probs
    matched = keywords.sum(axis=1, keepdims=True) > 0
    blended: Matrix = np.where(matched, (1 - weight) * probs + weight * keywords, probs)
    return blended


def head_path(embedder_name: str, directory: Path | None = None, kind: str = "intent") -> Path:
    """Where the head of this kind ("intent", or "topic" for the policy documents) is kept."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder_name)
    return (directory or MODELS_DIR) / f"{kind}-head.{safe}.npz"


def corpus_digest(records: list[tuple[str, str, str]]) -> str:
    """A fingerprint of the training records (language, intent, text), order-independent."""
    digest = hashlib.sha256(HEAD_FORMAT.encode())
    for language, intent, text in sorted(records):
        digest.update(f"{language}\0{intent}\0{text}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class IntentHead:
    labels: tuple[str, ...]
    weights: Matrix  # (dimension, labels)
    bias: Matrix  # (labels,)
    temperature: float
    threshold: float
    embedder: str
    digest: str
    report: dict[str, Any]
    # Share of the keyword lexicons in the final probabilities, when a keyword matches.
    keyword_weight: float = 0.0
    # How much of its probability `other` keeps: the out-of-scope class is broad and would
    # otherwise pull in short in-scope messages ("where is my parcel?").
    other_scale: float = 1.0

    @property
    def dimension(self) -> int:
        return int(self.weights.shape[0])

    def probabilities(self, vectors: Matrix) -> Matrix:
        """One row of calibrated intent probabilities per embedded message."""
        probs = softmax(np.asarray(vectors, dtype=np.float32), self.weights, self.bias, self.temperature)
        if "other" in self.labels:
            probs = scale_label(probs, self.labels.index("other"), self.other_scale)
        return probs.astype(np.float32)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": HEAD_FORMAT,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "threshold": self.threshold,
            "keyword_weight": self.keyword_weight,
            "other_scale": self.other_scale,
            "embedder": self.embedder,
            "digest": self.digest,
            "report": self.report,
        }
        partial = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(
            partial,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
        )
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentHead:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != HEAD_FORMAT:
                raise ValueError(f"{path.name}: not an intent head of format {HEAD_FORMAT}")
            return cls(
                labels=tuple(meta["labels"]),
                weights=np.asarray(data["weights"], dtype=np.float32),
                bias=np.asarray(data["bias"], dtype=np.float32),
                temperature=float(meta["temperature"]),
                threshold=float(meta["threshold"]),
                embedder=str(meta["embedder"]),
                digest=str(meta["digest"]),
                report=dict(meta.get("report") or {}),
                keyword_weight=float(meta.get("keyword_weight", 0.0)),
                other_scale=float(meta.get("other_scale", 1.0)),
            )


def load_head(embedder_name: str, dimension: int, directory: Path | None = None, kind: str = "intent") -> IntentHead | None:
    """The shipped head for this embedder, or None (the classifier then falls back to the
    nearest examples; the policy search to plain similarity)."""
    path = head_path(embedder_name, directory, kind)
    if not path.exists():
        return None
    head = IntentHead.load(path)
    if head.embedder != embedder_name or head.dimension != dimension:
        return None
    return head
