"""The policy knowledge base: chunks of the seller's policy documents in Chroma, searched by
meaning across languages.

Each policy profile has its own collection, and every collection records the embedder that
built it: vectors from two models never mix.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlparse

import numpy as np

from knowledge.chunking import Chunk, chunk_directory
from knowledge.embedders import Embedder, Vectors, make_embedder

__all__ = ["Chunk", "Hit", "KnowledgeBase", "open_knowledge_base", "profile_name", "shipped_docs_dir"]

DOCS_DIR = Path(__file__).resolve().parent / "docs"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity between the query and the chunk


class _KnowledgeSettings(Protocol):
    """The part of the deployment settings the knowledge base reads."""

    @property
    def embedder(self) -> str: ...
    @property
    def embedder_model(self) -> str | None: ...
    @property
    def chroma_url(self) -> str | None: ...
    @property
    def chroma_dir(self) -> Path: ...
    @property
    def policy_profile(self) -> str: ...


# Candidates fetched per section wanted: sections exist in up to this many languages.
CANDIDATES_PER_SECTION = 16


def shipped_docs_dir(profile: str = "default") -> Path:
    """Where the policy documents shipped for a profile live (the folder may not exist)."""
    return DOCS_DIR / profile


def profile_name(policy_profile: str) -> str:
    """A profile setting (a shipped name or a path to a YAML file) as the name chunks are filed under."""
    if policy_profile.endswith((".yaml", ".yml")) or "/" in policy_profile or "\\" in policy_profile:
        return Path(policy_profile).stem
    return policy_profile


def _content_hash(chunk: Chunk) -> str:
    data = "\x1f".join((chunk.text, chunk.title, chunk.section, str(chunk.version), chunk.source))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def _metadata(chunk: Chunk, profile: str) -> dict[str, str | int]:
    return {
        "chunk_id": chunk.id,
        "language": chunk.language,
        "topic": chunk.topic,
        "title": chunk.title,
        "section": chunk.section,
        "version": chunk.version,
        "source": chunk.source,
        "profile": profile,
        "hash": _content_hash(chunk),
    }


def _chunk(document: str | None, meta: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=str(meta["chunk_id"]),
        text=document or "",
        language=str(meta["language"]),
        topic=str(meta["topic"]),
        title=str(meta["title"]),
        section=str(meta["section"]),
        version=int(meta.get("version", 1)),
        source=str(meta.get("source", "")),
    )


def _http_client(url: str) -> Any:
    import chromadb
    from chromadb.config import Settings

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"not a Chroma server address: {url!r} (expected http://host:port)")
    ssl = parsed.scheme == "https"
    return chromadb.HttpClient(
        host=parsed.hostname,
        port=parsed.port or (443 if ssl else 8000),
        ssl=ssl,
        settings=Settings(anonymized_telemetry=False),
    )


class KnowledgeBase:
    """Policy chunks in Chroma, one collection per profile (`policy.default`, `policy.tau-retail`), so a
    search never filters on the profile. With neither `persist_dir` nor `chroma_url` the store lives
    in memory and belongs to this object alone."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        persist_dir: Path | None = None,
        chroma_url: str | None = None,
        collection: str = "policy",
        rebuild: bool = False,
    ) -> None:
        import chromadb
        from chromadb.config import Settings

        self.embedder = embedder
        self._prefix = collection
        if chroma_url:
            self._client = _http_client(chroma_url)
        elif persist_dir is not None:
            persist_dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(persist_dir), settings=Settings(anonymized_telemetry=False))
        else:
            # Chroma shares one in-memory system per process; a private name keeps instances apart.
            self._client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
            self._prefix = f"{collection}-{uuid.uuid4().hex[:12]}"
        self._max_batch = max(1, int(self._client.get_max_batch_size()))
        self._collections: dict[str, Any] = {}
        for name in self._collection_names():
            self._checked(self._client.get_collection(name, embedding_function=None), rebuild)

    # ---- collections ---------------------------------------------------------------------------

    def _collection_names(self) -> list[str]:
        names = (c if isinstance(c, str) else c.name for c in self._client.list_collections())
        return sorted(n for n in names if n.startswith(f"{self._prefix}."))

    def _name(self, profile: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", profile).strip("-._")
        if not safe:
            raise ValueError(f"not a usable profile name: {profile!r}")
        return f"{self._prefix}.{safe}"

    def _checked(self, collection: Any, rebuild: bool) -> Any | None:
        """The collection if this embedder built it; otherwise an error, or deleted when rebuilding."""
        meta = collection.metadata or {}
        built_with = meta.get("embedder")
        if built_with == self.embedder.name and int(meta.get("dimension", 0)) == self.embedder.dimension:
            return collection
        if not rebuild:
            raise ValueError(
                f"the knowledge base collection {collection.name!r} was built with the embedder "
                f"{built_with or 'unknown'!r}, but {self.embedder.name!r} is configured: "
                "run `helloword kb ingest` to rebuild it"
            )
        self._client.delete_collection(collection.name)
        return None

    def _collection(self, profile: str) -> Any | None:
        """The profile's collection, or None when nothing was ever stored for it."""
        name = self._name(profile)
        if name not in self._collections:
            from chromadb.errors import NotFoundError

            try:
                found = self._checked(self._client.get_collection(name, embedding_function=None), rebuild=False)
            except NotFoundError:
                return None
            self._collections[name] = found
        return self._collections[name]

    def _writable(self, profile: str) -> Any:
        """The profile's collection, created (cosine space, embedder recorded) on first write."""
        found = self._collection(profile)
        if found is None:
            found = self._client.get_or_create_collection(
                self._name(profile),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.name, "dimension": self.embedder.dimension, "profile": profile},
                embedding_function=None,
            )
            self._collections[self._name(profile)] = found
        return found

    def profiles(self) -> list[str]:
        """The profiles that have a collection in this store."""
        return [name[len(self._prefix) + 1 :] for name in self._collection_names()]

    # ---- writing -------------------------------------------------------------------------------

    def ingest_dir(
        self,
        directory: Path,
        *,
        profile: str = "default",
        progress: Progress | None = None,
        batch_size: int = 32,
    ) -> int:
        """Make the profile's chunks equal to the documents in `directory`: new and changed chunks are
        embedded and upserted, unchanged ones kept, vanished ones deleted. Returns the chunk count."""
        chunks = chunk_directory(directory)
        collection = self._writable(profile)
        wanted = {c.id: c for c in chunks}
        stored = collection.get(include=["metadatas"])
        stored_hash = {
            record_id: str((meta or {}).get("hash", ""))
            for record_id, meta in zip(stored["ids"], stored["metadatas"] or [], strict=True)
        }
        stale = [record_id for record_id in stored_hash if record_id not in wanted]
        for start in range(0, len(stale), self._max_batch):
            collection.delete(ids=stale[start : start + self._max_batch])

        changed = [c for c in chunks if stored_hash.get(c.id) != _content_hash(c)]
        changed.sort(key=lambda c: len(c.text))  # similar lengths batch together with less padding
        unchanged = len(chunks) - len(changed)
        if progress:
            progress(unchanged, len(chunks))
        self.upsert_chunks(
            changed,
            progress=(lambda done, _total: progress(unchanged + done, len(chunks))) if progress else None,
            profile=profile,
            batch_size=batch_size,
        )
        return len(chunks)

    def upsert_chunks(
        self,
        chunks: Sequence[Chunk],
        progress: Progress | None = None,
        *,
        profile: str = "default",
        batch_size: int = 32,
    ) -> None:
        """Embed chunks as passages, a batch at a time, and store them under `profile`."""
        batch_size = max(1, min(batch_size, self._max_batch))
        done = 0
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            self.add_embedded(batch, self.embedder.embed_passages([c.text for c in batch]), profile=profile)
            done += len(batch)
            if progress:
                progress(done, len(chunks))

    def add_embedded(self, chunks: Sequence[Chunk], vectors: Vectors, *, profile: str = "default") -> None:
        """Store chunks whose vectors were computed elsewhere by this same embedder (bulk imports)."""
        array = np.asarray(vectors, dtype=np.float32)
        if array.shape != (len(chunks), self.embedder.dimension):
            raise ValueError(f"expected {len(chunks)} vectors of {self.embedder.dimension} numbers, got shape {array.shape}")
        if not chunks:
            return
        collection = self._writable(profile)
        for start in range(0, len(chunks), self._max_batch):
            batch = chunks[start : start + self._max_batch]
            collection.upsert(
                ids=[c.id for c in batch],
                embeddings=array[start : start + len(batch)],
                documents=[c.text for c in batch],
                metadatas=[_metadata(c, profile) for c in batch],
            )

    def delete_profile(self, profile: str) -> None:
        """Remove every chunk of one profile."""
        if self._collection(profile) is not None:
            self._client.delete_collection(self._name(profile))
        self._collections.pop(self._name(profile), None)

    # ---- reading -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 4,
        language: str | None = None,
        topic: str | None = None,
        profile: str = "default",
    ) -> list[Hit]:
        """The `k` sections that best answer `query`, whatever its language. Each section appears once:
        in `language` when that translation exists, otherwise in the language that matched best."""
        vector = self.embedder.embed_queries([query])[0]
        return self.search_by_vector(vector, k=k, language=language, topic=topic, profile=profile)

    def search_by_vector(
        self,
        vector: Vectors,
        *,
        k: int = 4,
        language: str | None = None,
        topic: str | None = None,
        profile: str = "default",
    ) -> list[Hit]:
        """`search` for a query that is already embedded."""
        collection = self._collection(profile)
        if k <= 0 or collection is None:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        # Each section comes in up to one translation per language: enough candidates for k sections.
        result = collection.query(
            query_embeddings=[query],
            n_results=max(1, min(k * CANDIDATES_PER_SECTION, collection.count())),
            where={"topic": topic} if topic else None,
            include=["documents", "metadatas", "distances"],
        )
        documents = (result.get("documents") or [[]])[0]
        metadatas = (result.get("metadatas") or [[]])[0]
        distances = (result.get("distances") or [[]])[0]
        candidates = [
            Hit(_chunk(doc, meta), 1.0 - float(dist)) for doc, meta, dist in zip(documents, metadatas, distances, strict=True)
        ]

        best: dict[str, Hit] = {}  # one hit per section key
        for hit in candidates:
            current = best.get(hit.chunk.key)
            in_language = bool(language) and hit.chunk.language == language
            if current is None or (in_language and current.chunk.language != language):
                best[hit.chunk.key] = hit
        if language:
            missing = [key for key, hit in best.items() if hit.chunk.language != language]
            for hit in self._translations(collection, missing, language, query):
                best[hit.chunk.key] = hit
        return sorted(best.values(), key=lambda h: h.score, reverse=True)[:k]

    @staticmethod
    def _translations(collection: Any, keys: Sequence[str], language: str, query: Vectors) -> list[Hit]:
        """The `language` versions of sections found in another language, scored against the query."""
        if not keys:
            return []
        found = collection.get(ids=[f"{key}@{language}" for key in keys], include=["documents", "metadatas", "embeddings"])
        embeddings = found.get("embeddings")
        if embeddings is None or len(found["ids"]) == 0:
            return []
        matrix = np.asarray(embeddings, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        scores = (matrix @ query) / np.maximum(norms, 1e-12)
        return [
            Hit(_chunk(doc, meta), float(score))
            for doc, meta, score in zip(found["documents"] or [], found["metadatas"] or [], scores, strict=True)
        ]

    def get(self, chunk_id: str, *, profile: str = "default") -> Chunk | None:
        collection = self._collection(profile)
        if collection is None:
            return None
        found = collection.get(ids=[chunk_id], include=["documents", "metadatas"])
        if not found["ids"]:
            return None
        return _chunk((found["documents"] or [None])[0], cast(Mapping[str, Any], (found["metadatas"] or [{}])[0]))

    def count(self, *, profile: str | None = None) -> int:
        """Chunks stored, in every profile or in one."""
        profiles = [profile] if profile is not None else self.profiles()
        total = 0
        for name in profiles:
            collection = self._collection(name)
            total += int(collection.count()) if collection is not None else 0
        return total

    def has_profile(self, profile: str) -> bool:
        return self.count(profile=profile) > 0


def open_knowledge_base(settings: _KnowledgeSettings, *, rebuild: bool = False, ingest_shipped: bool = True) -> KnowledgeBase:
    """The deployment's knowledge base. The first time a profile is used, its shipped documents
    (if any) are ingested; `rebuild` replaces a store built with another embedder."""
    embedder = make_embedder(settings.embedder, settings.embedder_model)
    if settings.chroma_url:
        kb = KnowledgeBase(embedder, chroma_url=settings.chroma_url, rebuild=rebuild)
    else:
        kb = KnowledgeBase(embedder, persist_dir=settings.chroma_dir, rebuild=rebuild)
    profile = profile_name(settings.policy_profile)
    docs = shipped_docs_dir(profile)
    if ingest_shipped and docs.is_dir() and not kb.has_profile(profile):
        kb.ingest_dir(docs, profile=profile)
    return kb
