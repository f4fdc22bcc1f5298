"""The embedder reads a bounded query: a long message costs about what a short one does."""

from __future__ import annotations

from knowledge.embedders import QUERY_CHARS, bounded


def test_a_long_query_is_read_as_its_head_and_tail() -> None:
    # Attack: a 4,000-character message cost 2-7 s of CPU in the embedder, against 90 ms for a short one.
    text = "start " + "filler " * 600 + " the end"
    kept = bounded(text)
    assert len(kept) <= QUERY_CHARS + 3 and kept.startswith("start ") and kept.endswith(" the end")
    assert bounded("short message") == "short message"
