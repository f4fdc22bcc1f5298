"""The seller's policy knowledge as admins edit it: the knowledge documents with their versions
(saving, diff, rollback), the knowledge base kept in step with them (re-indexed in the
background, with progress), and the policy profile checked before it is used."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.policy import PolicyProfile, ProfileError, load_profile, profile_dir
from commerce.db import Store
from commerce.models import DocumentVersion
from knowledge.store import shipped_docs_dir

DOC_PATH = re.compile(r"^[a-z]{2}/[a-z0-9][a-z0-9-]{0,80}\.md$")
Progress = Callable[[int, int], None]


class Index(Protocol):
    """Where documents are chunked and embedded for search (the knowledge base)."""

    def ingest_dir(self, directory: Path, *, profile: str = "default", progress: Progress | None = None) -> int:
        """Make the profile's chunks equal to the documents in `directory`; returns the chunk count."""
        ...


class Conflict(Exception):
    """An edit started from a version older than the one on file."""


class PolicyProblems(Exception):
    """An edited policy profile that cannot be used: each problem with its field and line."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def document_path(language: str, name: str) -> str:
    """A document's path (`en/returns-refunds.md`); anything else names no document."""
    path = f"{language}/{name}"
    if not DOC_PATH.match(path):
        raise LookupError(f"no document {path} (paths look like en/returns-refunds.md)")
    return path


@dataclass(frozen=True)
class Documents:
    """The knowledge documents of one policy profile: the shipped files, and the versions admins saved."""

    store: Store
    profile: str
    clock: Callable[[], dt.datetime]

    def shipped(self) -> dict[str, str]:
        root = shipped_docs_dir(self.profile)
        if not root.is_dir():
            return {}
        return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.glob("*/*.md"))}

    def _versions(self, session: Session, path: str) -> list[DocumentVersion]:
        query = select(DocumentVersion).where(DocumentVersion.profile == self.profile, DocumentVersion.path == path)
        return list(session.scalars(query.order_by(DocumentVersion.version)).all())

    def live(self) -> dict[str, tuple[str, int]]:
        """Every document's live text and version: the latest saved version, else the shipped file (version 1)."""
        documents = {path: (text, 1) for path, text in self.shipped().items()}
        with self.store.read() as session:
            latest = (
                select(DocumentVersion.path, func.max(DocumentVersion.version).label("version"))
                .where(DocumentVersion.profile == self.profile)
                .group_by(DocumentVersion.path)
                .subquery()
            )
            rows = session.execute(
                select(DocumentVersion)
                .join(latest, (DocumentVersion.path == latest.c.path) & (DocumentVersion.version == latest.c.version))
                .where(DocumentVersion.profile == self.profile)
            ).scalars()
            for row in rows:
                documents[row.path] = (row.text, row.version)
        return documents

    def edited(self) -> bool:
        """Whether an admin ever saved a version of this profile's documents."""
        with self.store.read() as session:
            count = session.scalar(
                select(func.count()).select_from(DocumentVersion).where(DocumentVersion.profile == self.profile)
            )
        return bool(count)

    def listing(self) -> list[dict[str, Any]]:
        """Each document with its language, title and live version, by path."""
        listed = []
        for path, (text, version) in sorted(self.live().items()):
            title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), path)
            listed.append({"path": path, "language": path.split("/")[0], "title": title, "version": version})
        return listed

    def read(self, path: str) -> dict[str, Any]:
        """A document's live text and version, and who saved each version when."""
        live = self.live()
        if path not in live:
            raise LookupError(f"no document {path}")
        with self.store.read() as session:
            versions: list[dict[str, Any]] = [
                {"version": v.version, "at": v.created_at.isoformat(), "author": v.author} for v in self._versions(session, path)
            ]
        if not versions:
            versions = [{"version": 1, "at": None, "author": "shipped"}]
        text, version = live[path]
        return {"path": path, "text": text, "version": version, "versions": versions}

    def texts(self, path: str) -> tuple[dict[int, str | None], int]:
        """Every version's text (version 1 is the shipped file) and the live version's number."""
        texts: dict[int, str | None] = {1: self.shipped().get(path)}
        with self.store.read() as session:
            versions = self._versions(session, path)
            texts.update({v.version: v.text for v in versions})
            return texts, versions[-1].version if versions else 1

    def diff(self, path: str, to: int, start: int | None = None) -> dict[str, Any]:
        """A unified diff between two versions (`start`, by default the one before `to`)."""
        texts, _ = self.texts(path)
        start = start if start is not None else to - 1
        if start not in texts or to not in texts:
            raise LookupError(f"{path} has no version {start if start not in texts else to}")
        lines = difflib.unified_diff(
            (texts[start] or "").splitlines(),
            (texts[to] or "").splitlines(),
            f"{path} v{start}",
            f"{path} v{to}",
            lineterm="",
        )
        return {"path": path, "from": start, "to": to, "diff": "\n".join(lines)}

    def save(self, path: str, text: str, base_version: int, author: str) -> int:
        """Save `text` as the next version of `path`, edited from `base_version`; returns the new version."""
        shipped = self.shipped().get(path)
        with self.store.write() as session:
            versions = self._versions(session, path)
            current = versions[-1].version if versions else (1 if shipped is not None else 0)
            if base_version != current:
                raise Conflict(f"{path} changed meanwhile (version {current} is on file, the edit started from {base_version})")
            if not versions and shipped is not None:
                session.add(
                    DocumentVersion(
                        profile=self.profile, path=path, version=1, text=shipped, author="shipped", created_at=self.clock()
                    )
                )
            session.add(
                DocumentVersion(
                    profile=self.profile, path=path, version=current + 1, text=text, author=author, created_at=self.clock()
                )
            )
        return current + 1


def sync_knowledge(documents: Documents, knowledge: Index | None, progress: Progress | None = None) -> int:
    """Make the knowledge base hold the live documents (only changed chunks are embedded); with
    `progress`, re-index even when no document was ever edited."""
    if knowledge is None:
        return 0
    if progress is None and not documents.edited():
        return 0  # the shipped documents are what the knowledge base was built from
    with tempfile.TemporaryDirectory(prefix="helloword-docs-") as tmp:
        root = Path(tmp)
        for path, (text, _) in documents.live().items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return knowledge.ingest_dir(root, profile=documents.profile, progress=progress)


class KnowledgeDesk:
    """The admin's edits put live: each saved version re-indexed at once, and full re-indexes run
    in the background as jobs the admin page polls. One re-index runs at a time."""

    def __init__(self, documents: Callable[[], Documents], knowledge_base: Callable[[], Index | None]) -> None:
        self._documents = documents
        self._knowledge_base = knowledge_base
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def publish(self, path: str, text: str, base_version: int, author: str) -> dict[str, int]:
        """Save a new version and put it live; returns the version and the chunks indexed."""
        documents = self._documents()
        version = documents.save(path, text, base_version, author)
        knowledge = self._knowledge_base()
        with self._lock:
            chunks = sync_knowledge(documents, knowledge, progress=lambda done, total: None)
        return {"version": version, "chunks": chunks}

    def rollback(self, path: str, version: int, author: str) -> dict[str, Any]:
        """Put an earlier version live again, as a new version (history is never rewritten)."""
        texts, current = self._documents().texts(path)
        text = texts.get(version)
        if text is None:
            raise LookupError(f"{path} has no version {version}")
        return self.publish(path, text, current, author) | {"author": author}

    def start_reindex(self) -> str:
        """Re-index every live document on a background thread; returns the job to poll."""
        job = uuid.uuid4().hex[:12]
        self._jobs[job] = {"state": "running", "done": 0, "total": 0}

        def progress(done: int, total: int) -> None:
            self._jobs[job].update(done=done, total=total)

        def run() -> None:
            try:
                with self._lock:
                    chunks = sync_knowledge(self._documents(), self._knowledge_base(), progress=progress)
                self._jobs[job].update(state="done", done=chunks, total=chunks)
            except Exception as error:  # reported to the admin page, which polls the job
                self._jobs[job].update(state="failed", error=f"{type(error).__name__}: {error}")

        threading.Thread(target=run, name=f"reindex-{job}", daemon=True).start()
        return job

    def reindex_status(self, job: str) -> dict[str, Any]:
        if job not in self._jobs:
            raise LookupError(f"no re-index job {job}")
        return dict(self._jobs[job])


def policy_text(name: str, policy_profile: str, override: Path) -> str:
    """The policy profile in force as YAML: the admin's edited copy, else the shipped or configured file."""
    source = override if override.exists() else profile_dir() / f"{name}.yaml"
    if not source.exists():
        source = Path(policy_profile)
    return source.read_text(encoding="utf-8")


# A policy profile is a few levels deep; flow brackets nested past this are refused unread.
MAX_POLICY_NESTING = 20


def _nesting(text: str) -> int:
    """How deep the YAML's flow brackets ([ and {) nest, outside quotes and comments (roughly)."""
    deepest = depth = 0
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        for char in code:
            if char in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif char in "]}":
                depth = max(0, depth - 1)
    return deepest


def check_policy(text: str, name: str) -> PolicyProfile:
    """An edited policy profile (YAML), loaded as the agent would load it; PolicyProblems says
    what is wrong and on which line."""
    depth = _nesting(text)
    if depth > MAX_POLICY_NESTING:
        raise PolicyProblems(
            "the profile is nested too deeply",
            [
                {
                    "path": None,
                    "message": f"brackets nest {depth} deep; a profile needs at most {MAX_POLICY_NESTING}",
                    "line": None,
                }
            ],
        )
    try:
        yaml.safe_load(text)
    except RecursionError:
        raise PolicyProblems("the profile is nested too deeply", [{"path": None, "message": "too deep", "line": None}]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyProblems("the profile is not valid YAML", [{"path": None, "message": str(error), "line": line}]) from None
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / f"{name}.yaml"
        candidate.write_text(text, encoding="utf-8")
        try:
            return load_profile(str(candidate))
        except ProfileError as error:
            errors = [{"path": path, "message": what, "line": _yaml_line(text, path)} for path, what in error.problems]
            raise PolicyProblems(f"{len(errors)} problem(s) in the profile", errors) from None


def _yaml_line(text: str, path: str | None) -> int | None:
    """The line of a dotted field path in a YAML text, for showing an error in place."""
    if not path:
        return None
    keys = [k for k in re.split(r"[.\[\]]", path) if k and not k.isdigit()]
    line_no, indent = 0, -1
    lines = text.splitlines()
    for key in keys:
        pattern = re.compile(rf"^(\s*)(?:- )?{re.escape(key)}\s*:")
        for number in range(line_no, len(lines)):
            match = pattern.match(lines[number])
            if match and len(match.group(1)) > indent:
                line_no, indent = number, len(match.group(1))
                break
        else:
            return line_no + 1 if line_no else None
    return line_no + 1
