"""Small server-side SVG charts for the analytics dashboard: horizontal bar charts for
breakdowns and a column chart for a daily series. Every text is escaped; every chart carries an
accessible <title> and <desc>."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape

ACCENT = "#4338ca"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TEXT = "#111827"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"

Formatter = Callable[[float], str]


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="chart-title chart-desc" font-family="{escape(FONT)}" font-size="12">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    colours: dict[str, str] | None = None,
    label: Formatter = _number,
    maximum: float | None = None,
    width: int = 560,
) -> str:
    """Horizontal bars, one per (name, value), in the given order."""
    row, top, left, right = 26, 12, 140, 70
    height = top * 2 + max(1, len(items)) * row
    desc = "; ".join(f"{name}: {label(value)}" for name, value in items) or "no data in this period"
    parts = _open(width, height, title, desc)
    if not items:
        parts.append(f'<text x="{width / 2:g}" y="{height / 2 + 4:g}" text-anchor="middle" fill="{MUTED}">No data</text>')
    peak = maximum if maximum is not None else max((value for _, value in items), default=0.0)
    span = width - left - right
    for i, (name, value) in enumerate(items):
        y = top + i * row
        length = 0.0 if peak <= 0 else max(0.0, min(1.0, value / peak)) * span
        colour = (colours or {}).get(name, ACCENT)
        shown = name if len(name) <= 20 else name[:19] + "…"
        parts += [
            f'<text x="{left - 8}" y="{y + row / 2 + 4:g}" text-anchor="end" fill="{TEXT}">{escape(shown)}</text>',
            f'<rect x="{left}" y="{y + 4}" width="{span}" height="{row - 8}" rx="3" fill="{GRID}" opacity="0.5"/>',
            f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" rx="3" fill="{escape(colour)}"/>',
            f'<text x="{left + length + 6:.1f}" y="{y + row / 2 + 4:g}" fill="{MUTED}">{escape(label(value))}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def day_chart(title: str, days: Sequence[tuple[dt.date, int]], *, width: int = 720, height: int = 220) -> str:
    """A column per day, with the axis labelled at the first, middle and last day."""
    top, bottom, left, right = 14, 28, 40, 12
    total = sum(count for _, count in days)
    desc = f"{total} conversations over {len(days)} days"
    if days:
        busiest = max(days, key=lambda d: d[1])[0]
        desc += f", from {days[0][0].isoformat()} to {days[-1][0].isoformat()}; busiest day {busiest.isoformat()}"
    parts = _open(width, height, title, desc)
    peak = max((count for _, count in days), default=0)
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{GRID}"/>')
    parts.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{MUTED}">{peak}</text>')
    parts.append(f'<text x="{left - 6}" y="{base}" text-anchor="end" fill="{MUTED}">0</text>')
    if days:
        step = plot_w / len(days)
        gap = min(2.0, step * 0.2)
        for i, (day, count) in enumerate(days):
            bar_h = 0.0 if peak == 0 else count / peak * plot_h
            x = left + i * step + gap / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{base - bar_h:.1f}" width="{max(step - gap, 0.5):.1f}" height="{bar_h:.1f}" '
                f'fill="{ACCENT}"><title>{escape(day.isoformat())}: {count}</title></rect>'
            )
        marks = sorted({0, len(days) // 2, len(days) - 1})
        for i in marks:
            x = left + (i + 0.5) * step
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="{MUTED}">{escape(days[i][0].isoformat())}</text>'
            )
    else:
        parts.append(f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" fill="{MUTED}">No data</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def percent(value: float) -> str:
    return _fmt(value * 100) + " %"
