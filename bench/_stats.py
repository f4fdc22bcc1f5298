"""Figures shared by the benchmarks: median, p95 and a Markdown table row with a ratio
against a baseline measured in the same run."""

from __future__ import annotations

import statistics


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def row(name: str, samples: list[float], baseline: list[float] | None, *, width: int = 40, digits: int = 1) -> str:
    median = statistics.median(samples)
    ratio = f"{median / statistics.median(baseline):6.1f}x" if baseline else "     -"
    size = 8 if digits == 1 else 9
    return f"| {name:<{width}} | {median:{size}.{digits}f} | {p95(samples):{size}.{digits}f} | {ratio} |"
