"""The admin's API: knowledge documents with versions, diff, rollback and re-indexing, and
the policy profile with validation shown where the problem is."""

from __future__ import annotations

import html
import re
from typing import Annotated, Any

import markdown
from fastapi import APIRouter, Depends, Query
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep, RuntimeDep, signed_in_admin
from support.knowledge import check_policy, document_path, policy_text

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(signed_in_admin)])


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


@router.get("/documents")
def documents(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """The knowledge documents of the deployment's profile, with their live version."""
    return runtime.documents().listing()


@router.get("/documents/{language}/{name}")
def document(language: str, name: str, runtime: RuntimeDep) -> dict[str, Any]:
    """A document's live text and its versions."""
    return runtime.documents().read(document_path(language, name))


@router.put("/documents/{language}/{name}")
def edit(language: str, name: str, body: DocumentEdit, admin: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Save a new version and put it live (its changed chunks are re-embedded)."""
    return runtime.knowledge.publish(document_path(language, name), body.text, body.base_version, admin.email)


@router.get("/documents/{language}/{name}/diff")
def document_diff(
    language: str,
    name: str,
    runtime: RuntimeDep,
    to: int,
    base: Annotated[int | None, Query(alias="from")] = None,
) -> dict[str, Any]:
    """A unified diff between two versions (`from`, by default the one before `to`)."""
    return runtime.documents().diff(document_path(language, name), to, base)


@router.post("/documents/{language}/{name}/rollback")
def rollback(language: str, name: str, body: Rollback, admin: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Put an earlier version live again, as a new version (history is never rewritten)."""
    return runtime.knowledge.rollback(document_path(language, name), body.version, admin.email)


# Links and images may point to web pages, mail addresses and places on the same site; nothing else
# ("javascript:", "data:", "vbscript:" run or smuggle content in the admin's page).
SAFE_URL = re.compile(r"(?i)^(?:https?://|mailto:|#|/(?!/)|(?!//)[^:/?#]*(?:[/?#]|$))")


class _SafeLinks(Treeprocessor):
    def run(self, root: Any) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                # (Control letters and spaces inside the scheme, "java\tscript:", count as written.)
                if value is not None and not SAFE_URL.match(re.sub(r"[\x00-\x20]", "", value)):
                    element.set(attribute, "#")


class SafeLinks(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)


def render_markdown(text: str) -> str:
    """Markdown as HTML with raw HTML shown as text and links only to the web, mail or this site."""
    return markdown.markdown(html.escape(text, quote=False), extensions=["tables", SafeLinks()])


@router.post("/preview")
def preview(body: Preview) -> dict[str, str]:
    """Markdown as the knowledge base will read it, rendered safely (raw HTML is shown as text,
    links that would run script point nowhere)."""
    text = FRONT_MATTER.sub("", body.text, count=1)  # the document's metadata is not part of what customers read
    return {"html": render_markdown(text)}


@router.post("/reindex", status_code=202)
def reindex(runtime: RuntimeDep) -> dict[str, str]:
    """Re-index every live document in the background; poll the job for progress."""
    return {"job": runtime.knowledge.start_reindex()}


@router.get("/reindex/{job}")
def reindex_status(job: str, runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.knowledge.reindex_status(job)


@router.get("/policy")
def policy(runtime: RuntimeDep) -> dict[str, str]:
    """The deployment's policy profile as YAML."""
    name = runtime.profile_name
    return {"name": name, "yaml": policy_text(name, runtime.settings.policy_profile, runtime.profile_override)}


@router.put("/policy")
def save_policy(body: PolicyEdit, runtime: RuntimeDep) -> dict[str, Any]:
    """Validate and apply a new policy profile; every problem comes back with its field and line."""
    runtime.use_profile(body.yaml, check_policy(body.yaml, runtime.profile_name))
    return {"ok": True, "name": runtime.profile_name}
