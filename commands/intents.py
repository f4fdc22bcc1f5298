"""`helloword intents …`: train the intent head from the example corpus, and say what ships."""

from __future__ import annotations

from pathlib import Path

import click

from config import get_settings
from terminal import fail, out, progress_bar


@click.group("intents")
def intents_group() -> None:
    """The intent classifier: its training corpus and the trained head."""


@intents_group.command("train")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the trained head (default: the package's models folder, which ships).",
)
@click.option("--seed", type=int, default=7, show_default=True)
def intents_train(out_dir: Path | None, seed: int) -> None:
    """Embed the corpus (vectors kept in the cache folder), fit the head and write it."""
    try:
        from agent.intent_training import CorpusError, embed_corpus, read_corpus, train_head, training_inputs
    except ImportError as e:  # scikit-learn is a development dependency
        fail(f"training needs scikit-learn (pip install -e '.[dev]'): {e}")
    from agent.intent_head import head_path
    from knowledge.embedders import make_embedder

    settings = get_settings()
    try:
        records = read_corpus()
    except CorpusError as e:
        fail(str(e))
    if not records:
        fail("the training corpus is empty: add prompts/intents/corpus/<lang>.<writer>.yaml files")
    embedder = make_embedder(settings.embedder, settings.embedder_model)
    out.print(f"{len(records)} training messages in {len({r.language for r in records})} languages; embedder {embedder.name}")
    cache = settings.resolved_cache_dir
    with progress_bar("Embedding the corpus") as update:
        vectors = embed_corpus(embedder, training_inputs(records), cache, progress=update)
    from agent.intent_training import keyword_matrix
    from agent.understanding import INTENTS

    inputs = training_inputs(records)
    labels = tuple(i for i in INTENTS if any(r.intent == i for r in records))
    head = train_head(records, vectors, embedder.name, seed=seed, say=out.print, keywords=keyword_matrix(records, labels, inputs))
    path = head_path(embedder.name, out_dir)
    head.save(path)
    out.print(f"Wrote {path} ({path.stat().st_size // 1024} KiB)")
    from agent.intent_training import read_topic_corpus, train_topic_head

    try:
        topics = read_topic_corpus()
    except CorpusError as e:
        fail(str(e))
    if topics:
        with progress_bar("Embedding the policy questions") as update:
            topic_vectors = embed_corpus(embedder, training_inputs(topics), cache, progress=update)
        topic_head = train_topic_head(topics, topic_vectors, embedder.name, seed=seed, say=out.print)
        path = head_path(embedder.name, out_dir, "topic")
        topic_head.save(path)
        out.print(f"Wrote {path} ({path.stat().st_size // 1024} KiB)")


@intents_group.command("info")
def intents_info() -> None:
    """Which classifier serves with the configured embedder, and whether it matches the corpus."""
    from agent.intent_head import corpus_digest, load_head
    from agent.intent_training import read_corpus
    from knowledge.embedders import make_embedder

    settings = get_settings()
    embedder = make_embedder(settings.embedder, settings.embedder_model)
    head = load_head(embedder.name, embedder.dimension)
    if head is None:
        out.print(f"No trained head for {embedder.name}: the nearest-examples classifier serves.")
        return
    records = read_corpus()
    fresh = head.digest == corpus_digest([(r.language, r.intent, r.text) for r in records])
    out.print(f"Trained head for {embedder.name}: {len(head.labels)} intents, threshold {head.threshold:.2f}")
    out.print(f"Trained on {head.report.get('examples')} messages; held-back accuracy {head.report.get('held_back_accuracy')}")
    out.print(
        "Matches the corpus." if fresh else "[yellow]The corpus changed since training: run `helloword intents train`.[/yellow]"
    )
