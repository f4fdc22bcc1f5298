"""Figures shared by the benchmarks: timings, median, p95 and a Markdown table row with a
ratio against a baseline measured in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def row(name: str, samples: list[float], baseline: list[float] | None, *, width: int = 40, digits: int = 1) -> str:
    median = statistics.median(samples)
    ratio = f"{median / statistics.median(baseline):6.1f}x" if baseline else "     -"
    size = 8 if digits == 1 else 9
    return f"| {name:<{width}} | {median:{size}.{digits}f} | {p95(samples):{size}.{digits}f} | {ratio} |"


def header(title: str, *, width: int = 40, digits: int = 1) -> str:
    """The two header lines of a table of `row`s with the same width and digits."""
    size = 8 if digits == 1 else 9
    names = f"| {title:<{width}} | {'median':>{size}} | {'p95':>{size}} |  ratio |"
    rule = f"|{'-' * (width + 2)}|{'-' * (size + 2)}|{'-' * (size + 2)}|--------|"
    return f"{names}\n{rule}"


def timed(fn: Callable[[int], object], n: int) -> list[float]:
    """Milliseconds of each of n calls fn(0) … fn(n - 1)."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples
