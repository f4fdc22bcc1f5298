"""`helloword kb …`: build and query the policy knowledge base from the command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from config import get_settings
from knowledge.store import KnowledgeBase, open_knowledge_base, profile_name, shipped_docs_dir
from terminal import console, fail, out, progress_bar


def _open(*, rebuild: bool = False, ingest_shipped: bool = True) -> tuple[KnowledgeBase, str]:
    settings = get_settings()
    try:
        kb = open_knowledge_base(settings, rebuild=rebuild, ingest_shipped=ingest_shipped)
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    except Exception as e:  # an unreachable Chroma server or an unreadable store is the operator's to fix
        fail(f"cannot open the knowledge base ({settings.chroma_url or settings.chroma_dir}): {e}")
    return kb, profile_name(settings.policy_profile)


kb = click.Group("kb", help="The policy knowledge base: ingest the policy documents, search them.")


@kb.command("ingest")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--profile", default=None, help="Profile the chunks belong to (default: HELLOWORD_POLICY_PROFILE).")
def ingest(directory: Path | None, profile: str | None) -> None:
    """Embed DIRECTORY (<lang>/<topic>.md files; default: the shipped documents of the profile) and make
    the store match it. Rebuilds a store made with another embedder."""
    store, configured = _open(rebuild=True, ingest_shipped=False)
    profile = profile or configured
    source = directory or shipped_docs_dir(profile)
    if not source.is_dir():
        fail(f"no policy documents folder at {source}")
    start = time.perf_counter()
    try:
        with progress_bar(f"embedding {profile} policy") as progress:
            count = store.ingest_dir(source, profile=profile, progress=progress)
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    seconds = time.perf_counter() - start
    out.print(f"{count} chunks from {source} in profile {profile!r} ({seconds:.1f} s, {store.embedder.name})", highlight=False)


@kb.command("search")
@click.argument("query")
@click.option("--k", "k", default=4, show_default=True, type=click.IntRange(1, 100), help="How many sections.")
@click.option("--language", default=None, help="Prefer sections in this language (ISO code, e.g. es).")
@click.option("--topic", default=None, help="Only this topic (e.g. returns-refunds).")
@click.option("--profile", default=None, help="Policy profile (default: HELLOWORD_POLICY_PROFILE).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='JSON output. With QUERY "-", read JSON lines {"id", "text"} on stdin and print one line per question.',
)
def search(query: str, k: int, language: str | None, topic: str | None, profile: str | None, as_json: bool) -> None:
    """Print the policy sections that best answer QUERY, in any language."""
    store, configured = _open()
    profile = profile or configured
    if as_json:
        _search_json(store, query, k=k, language=language, topic=topic, profile=profile)
        return
    hits = store.search(query, k=k, language=language.lower() if language else None, topic=topic, profile=profile)
    if not hits:
        console.print("no policy chunks stored for this profile: run `helloword kb ingest`", highlight=False)
        return
    table = Table(show_lines=False)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("title › section")
    table.add_column("text")
    for hit in hits:
        text = " ".join(hit.chunk.body.split())
        table.add_row(
            f"{hit.score:.3f}",
            hit.chunk.id,
            f"{hit.chunk.title} › {hit.chunk.section}",
            text[:120] + ("…" if len(text) > 120 else ""),
        )
    out.print(table)


def _hit_json(hit: Any) -> dict[str, Any]:
    return {"id": hit.chunk.id, "topic": hit.chunk.topic, "language": hit.chunk.language, "score": round(hit.score, 4)}


def _search_json(store: Any, query: str, *, k: int, language: str | None, topic: str | None, profile: str) -> None:
    """One JSON line per question. Each question is searched as the agent searches: sections in
    its own language (detected unless --language is given) first."""
    from agent.knowledge_search import search_policy
    from agent.language import detect_language
    from agent.understanding import IntentClassifier, request_text

    classifier = IntentClassifier(store.embedder)

    def answer(record_id: Any, text: str) -> dict[str, Any]:
        wanted = language.lower() if language else detect_language(text).language
        if topic:
            hits = store.search(request_text(text), k=k, language=wanted, topic=topic, profile=profile)
        else:
            hits = search_policy(store, classifier, text, language=wanted, k=k, profile=profile)
        return {"id": record_id, "hits": [_hit_json(h) for h in hits]}

    if query != "-":
        click.echo(json.dumps(answer(None, query), ensure_ascii=False))
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            click.echo(json.dumps({"line": number, "error": f"not valid JSON: {e.msg}"}))
            continue
        if not isinstance(record, dict) or not str(record.get("text") or "").strip():
            click.echo(json.dumps({"line": number, "error": "expected an object with 'id' and 'text'"}))
            continue
        click.echo(json.dumps(answer(record.get("id"), str(record["text"])[:4000]), ensure_ascii=False))
