"""The admin's API: knowledge documents with versions, diff, rollback and re-indexing, and
the policy profile with validation shown where the problem is."""

from __future__ import annotations

import difflib
import html
import re
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

import markdown
import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from agent.policy import PolicyGate, ProfileError, load_profile
from api.runtime import Runtime
from commerce.models import DocumentVersion, StaffRole
from knowledge.store import profile_name, shipped_docs_dir

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
DOC_PATH = re.compile(r"^[a-z]{2}/[a-z0-9][a-z0-9-]{0,80}\.md$")


class DocumentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=200_000)
    base_version: int = Field(ge=0, description="The version the edit started from; a newer one on file is a conflict.")


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)


class Preview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=200_000)


class PolicyEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yaml: str = Field(min_length=1, max_length=200_000)


class Conflict(Exception):
    pass


def _profile(runtime: Runtime) -> str:
    return profile_name(runtime.settings.policy_profile)


def _check_path(path: str) -> str:
    if not DOC_PATH.match(path):
        raise LookupError(f"no document {path} (paths look like en/returns-refunds.md)")
    return path


def shipped_documents(runtime: Runtime) -> dict[str, str]:
    root = shipped_docs_dir(_profile(runtime))
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.glob("*/*.md"))}


def _versions(session: Any, profile: str, path: str) -> list[DocumentVersion]:
    query = select(DocumentVersion).where(DocumentVersion.profile == profile, DocumentVersion.path == path)
    return list(session.scalars(query.order_by(DocumentVersion.version)).all())


def live_documents(runtime: Runtime) -> dict[str, tuple[str, int]]:
    """Every document's live text and version: the latest saved version, else the shipped file (version 1)."""
    documents = {path: (text, 1) for path, text in shipped_documents(runtime).items()}
    profile = _profile(runtime)
    with runtime.store.read() as session:
        latest = (
            select(DocumentVersion.path, func.max(DocumentVersion.version).label("version"))
            .where(DocumentVersion.profile == profile)
            .group_by(DocumentVersion.path)
            .subquery()
        )
        rows = session.execute(
            select(DocumentVersion)
            .join(latest, (DocumentVersion.path == latest.c.path) & (DocumentVersion.version == latest.c.version))
            .where(DocumentVersion.profile == profile)
        ).scalars()
        for row in rows:
            documents[row.path] = (row.text, row.version)
    return documents


def sync_knowledge(runtime: Runtime, progress: Any = None) -> int:
    """Make the knowledge base hold the live documents (only changed chunks are embedded)."""
    agent = runtime._agent
    knowledge = agent.knowledge if agent is not None else None
    if knowledge is None:
        return 0
    profile = _profile(runtime)
    with runtime.store.read() as session:
        edited = session.scalar(select(func.count()).select_from(DocumentVersion).where(DocumentVersion.profile == profile))
    if not edited and progress is None:
        return 0  # the shipped documents are what the store was built from
    with tempfile.TemporaryDirectory(prefix="helloword-docs-") as tmp:
        root = Path(tmp)
        for path, (text, _) in live_documents(runtime).items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return int(knowledge.ingest_dir(root, profile=profile, progress=progress))


class ReindexJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def start(self, runtime: Runtime) -> str:
        job = uuid.uuid4().hex[:12]
        self.jobs[job] = {"state": "running", "done": 0, "total": 0}

        def progress(done: int, total: int) -> None:
            self.jobs[job].update(done=done, total=total)

        def run() -> None:
            try:
                with self.lock:  # one re-index at a time
                    runtime.agent  # noqa: B018 - builds the agent and its knowledge base if needed
                    chunks = sync_knowledge(runtime, progress=progress)
                self.jobs[job].update(state="done", done=chunks, total=chunks)
            except Exception as error:  # reported to the admin page, which polls the job
                self.jobs[job].update(state="failed", error=f"{type(error).__name__}: {error}")

        threading.Thread(target=run, name=f"reindex-{job}", daemon=True).start()
        return job


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


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/api/admin", tags=["admin"])
    jobs = ReindexJobs()

    def admin(request: Request) -> str:
        return runtime.staff(request, StaffRole.ADMIN).email

    @api.get("/documents")
    def documents(request: Request) -> list[dict[str, Any]]:
        """The knowledge documents of the deployment's profile, with their live version."""
        admin(request)
        out = []
        for path, (text, version) in sorted(live_documents(runtime).items()):
            title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), path)
            out.append({"path": path, "language": path.split("/")[0], "title": title, "version": version})
        return out

    @api.get("/documents/{language}/{name}")
    def document(language: str, name: str, request: Request) -> dict[str, Any]:
        """A document's live text and its versions."""
        admin(request)
        path = _check_path(f"{language}/{name}")
        live = live_documents(runtime)
        if path not in live:
            raise LookupError(f"no document {path}")
        with runtime.store.read() as session:
            versions = [
                {"version": v.version, "at": v.created_at.isoformat(), "author": v.author}
                for v in _versions(session, _profile(runtime), path)
            ]
        if not versions:
            versions = [{"version": 1, "at": None, "author": "shipped"}]
        text, version = live[path]
        return {"path": path, "text": text, "version": version, "versions": versions}

    def save(path: str, text: str, base_version: int, author: str) -> int:
        profile = _profile(runtime)
        shipped = shipped_documents(runtime).get(path)
        with runtime.store.write() as session:
            versions = _versions(session, profile, path)
            current = versions[-1].version if versions else (1 if shipped is not None else 0)
            if base_version != current:
                raise Conflict(f"{path} changed meanwhile (version {current} is on file, the edit started from {base_version})")
            if not versions and shipped is not None:
                session.add(
                    DocumentVersion(
                        profile=profile, path=path, version=1, text=shipped, author="shipped", created_at=runtime.clock()
                    )
                )
            session.add(
                DocumentVersion(
                    profile=profile, path=path, version=current + 1, text=text, author=author, created_at=runtime.clock()
                )
            )
        return current + 1

    @api.put("/documents/{language}/{name}")
    def edit(language: str, name: str, body: DocumentEdit, request: Request) -> dict[str, Any]:
        """Save a new version and put it live (its changed chunks are re-embedded)."""
        author = admin(request)
        version = save(_check_path(f"{language}/{name}"), body.text, body.base_version, author)
        runtime.agent  # noqa: B018 - the knowledge base lives with the agent
        with jobs.lock:
            chunks = sync_knowledge(runtime, progress=lambda done, total: None)
        return {"version": version, "chunks": chunks}

    @api.get("/documents/{language}/{name}/diff")
    def document_diff(
        language: str,
        name: str,
        request: Request,
        to: int,
        base: Annotated[int | None, Query(alias="from")] = None,
    ) -> dict[str, Any]:
        """A unified diff between two versions (`from`, by default the one before `to`)."""
        admin(request)
        path = _check_path(f"{language}/{name}")
        texts = {1: shipped_documents(runtime).get(path, "")}
        with runtime.store.read() as session:
            texts.update({v.version: v.text for v in _versions(session, _profile(runtime), path)})
        start = base if base is not None else to - 1
        if start not in texts or to not in texts:
            raise LookupError(f"{path} has no version {start if start not in texts else to}")
        lines = difflib.unified_diff(
            texts[start].splitlines(), texts[to].splitlines(), f"{path} v{start}", f"{path} v{to}", lineterm=""
        )
        return {"path": path, "from": start, "to": to, "diff": "\n".join(lines)}

    @api.post("/documents/{language}/{name}/rollback")
    def rollback(language: str, name: str, body: Rollback, request: Request) -> dict[str, Any]:
        """Put an earlier version live again, as a new version (history is never rewritten)."""
        author = admin(request)
        path = _check_path(f"{language}/{name}")
        texts = {1: shipped_documents(runtime).get(path)}
        with runtime.store.read() as session:
            versions = _versions(session, _profile(runtime), path)
            texts.update({v.version: v.text for v in versions})
            current = versions[-1].version if versions else 1
        if texts.get(body.version) is None:
            raise LookupError(f"{path} has no version {body.version}")
        return edit(language, name, DocumentEdit(text=str(texts[body.version]), base_version=current), request) | {
            "author": author
        }

    @api.post("/preview")
    def preview(body: Preview, request: Request) -> dict[str, str]:
        """Markdown as the knowledge base will read it, rendered safely (raw HTML is shown as text)."""
        admin(request)
        text = FRONT_MATTER.sub("", body.text, count=1)  # the document's metadata is not part of what customers read
        return {"html": markdown.markdown(html.escape(text, quote=False), extensions=["tables"])}

    @api.post("/reindex", status_code=202)
    def reindex(request: Request) -> dict[str, str]:
        """Re-index every live document in the background; poll the job for progress."""
        admin(request)
        return {"job": jobs.start(runtime)}

    @api.get("/reindex/{job}")
    def reindex_status(job: str, request: Request) -> dict[str, Any]:
        admin(request)
        if job not in jobs.jobs:
            raise LookupError(f"no re-index job {job}")
        return dict(jobs.jobs[job])

    @api.get("/policy")
    def policy(request: Request) -> dict[str, str]:
        """The deployment's policy profile as YAML."""
        admin(request)
        from agent.policy import profile_dir

        override = runtime.profile_override
        source = override if override.exists() else profile_dir() / f"{_profile(runtime)}.yaml"
        if not source.exists():
            source = Path(runtime.settings.policy_profile)
        return {"name": _profile(runtime), "yaml": source.read_text(encoding="utf-8")}

    @api.put("/policy", response_model=None)
    def save_policy(body: PolicyEdit, request: Request) -> dict[str, Any] | JSONResponse:
        """Validate and apply a new policy profile; every problem comes back with its field and line."""
        admin(request)
        try:
            yaml.safe_load(body.yaml)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            return JSONResponse(
                {"error": "the profile is not valid YAML", "errors": [{"path": None, "message": str(error), "line": line}]},
                status_code=422,
            )
        with tempfile.TemporaryDirectory() as tmp:
            candidate = Path(tmp) / f"{_profile(runtime)}.yaml"
            candidate.write_text(body.yaml, encoding="utf-8")
            try:
                profile = load_profile(str(candidate))
            except ProfileError as error:
                errors = [{"path": path, "message": what, "line": _yaml_line(body.yaml, path)} for path, what in error.problems]
                return JSONResponse({"error": f"{len(errors)} problem(s) in the profile", "errors": errors}, status_code=422)
        runtime.profile_override.parent.mkdir(parents=True, exist_ok=True)
        runtime.profile_override.write_text(body.yaml, encoding="utf-8")
        agent = runtime.agent
        agent.profile = profile
        agent.deps.profile, agent.deps.gate = profile, PolicyGate(profile)
        return {"ok": True, "name": _profile(runtime)}

    return api
