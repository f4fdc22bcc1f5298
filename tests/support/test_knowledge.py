"""The admin's documents: versions, conflicts, diff and rollback, the knowledge base kept in
step with each edit, and an edited policy profile checked line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.policy import profile_dir
from commerce.db import Store
from support.knowledge import (
    Conflict,
    Documents,
    KnowledgeDesk,
    PolicyProblems,
    Progress,
    check_policy,
    document_path,
    sync_knowledge,
)
from tests.conftest import NOW

DOC = "en/returns-refunds.md"


class RecordingKnowledgeBase:
    """Stands in for the knowledge base: keeps the documents it was asked to index."""

    def __init__(self) -> None:
        self.indexed: dict[str, str] = {}

    def ingest_dir(self, directory: Path, *, profile: str = "default", progress: Progress | None = None) -> int:
        self.indexed = {str(p.relative_to(directory)): p.read_text(encoding="utf-8") for p in directory.glob("*/*.md")}
        return len(self.indexed)


@pytest.fixture
def documents(store: Store) -> Documents:
    return Documents(store, "default", lambda: NOW)


def test_an_edit_is_a_new_version_and_a_stale_edit_is_a_conflict(documents: Documents) -> None:
    shipped = documents.shipped()[DOC]
    assert documents.read(DOC)["versions"] == [{"version": 1, "at": None, "author": "shipped"}]
    assert documents.save(DOC, shipped.replace("30 days", "45 days"), 1, "admin@shop.example") == 2
    with pytest.raises(Conflict, match="version 2 is on file"):
        documents.save(DOC, "lost edit", 1, "admin@shop.example")
    assert documents.live()[DOC] == (shipped.replace("30 days", "45 days"), 2)
    assert [v["author"] for v in documents.read(DOC)["versions"]] == ["shipped", "admin@shop.example"]
    diff = documents.diff(DOC, 2)["diff"]
    assert "-" + next(line for line in shipped.splitlines() if "30 days" in line) in diff.splitlines()


def test_publishing_and_rolling_back_keep_the_knowledge_base_in_step(documents: Documents) -> None:
    knowledge = RecordingKnowledgeBase()
    desk = KnowledgeDesk(lambda: documents, lambda: knowledge)
    shipped = documents.shipped()[DOC]
    assert sync_knowledge(documents, knowledge) == 0  # nothing edited: the shipped documents are indexed already

    published = desk.publish(DOC, "# Returns\n\nNo returns after 10 days.\n", 1, "admin@shop.example")
    assert published["version"] == 2 and published["chunks"] == len(knowledge.indexed)
    assert knowledge.indexed[DOC].startswith("# Returns\n\nNo returns")

    rolled = desk.rollback(DOC, 1, "admin@shop.example")
    assert rolled["version"] == 3 and rolled["author"] == "admin@shop.example"
    assert knowledge.indexed[DOC] == shipped
    with pytest.raises(LookupError):
        desk.rollback(DOC, 9, "admin@shop.example")


def test_a_document_path_names_a_language_and_a_lowercase_markdown_file() -> None:
    assert document_path("en", "returns-refunds.md") == DOC
    for language, name in (("en", "Secrets.MD"), ("..", "passwd"), ("english", "returns.md")):
        with pytest.raises(LookupError):
            document_path(language, name)


def test_an_edited_policy_profile_is_checked_with_the_line_of_each_problem() -> None:
    text = (profile_dir() / "default.yaml").read_text(encoding="utf-8")
    assert check_policy(text, "default").name == "default"
    marker = "    vip_multiplier: 2.0\n"
    unknown = text.replace(marker, marker + "    refund_everything: true\n", 1)
    with pytest.raises(PolicyProblems) as problems:
        check_policy(unknown, "default")
    problem = problems.value.errors[0]
    assert problem["path"] == "actions.issue_refund.refund_everything"
    assert unknown.splitlines()[problem["line"] - 1].strip() == "refund_everything: true"
    with pytest.raises(PolicyProblems, match="not valid YAML") as broken:
        check_policy("actions: [\n", "default")
    assert broken.value.errors[0]["line"] == 2
