"""Markdown policy documents cut into retrievable chunks, one per `##` section.

A chunk id is `"{topic}/s{n}@{lang}"`: `n` is the section's position in the document, so the
same section has the same id stem in every language and translations line up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_CHARS = 800
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    language: str
    topic: str
    title: str
    section: str
    version: int
    source: str

    @property
    def key(self) -> str:
        """The id without its language: the same section in every translation."""
        return self.id.rsplit("@", 1)[0]

    @property
    def body(self) -> str:
        """The section text without the title and heading lines."""
        return self.text.split("\n\n", 1)[1] if "\n\n" in self.text else self.text


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split optional YAML front matter (`topic`, `language`, `version`) from the markdown."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"invalid front matter: {e}") from e
    if not isinstance(meta, dict):
        raise ValueError("front matter must be a mapping of keys to values")
    return meta, text[match.end() :]


def _sections(markdown: str) -> tuple[str | None, list[tuple[str, list[str]]]]:
    """The `#` title and the `##` sections with their lines; headings inside code fences are text."""
    title: str | None = None
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and title is None and not sections:
            title = heading.group(2).strip()
        elif heading and len(heading.group(1)) == 2:
            sections.append((heading.group(2).strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    if "\n".join(intro).strip():
        sections.insert(0, ("", intro))
    return title, sections


def _paragraphs(lines: list[str]) -> list[str]:
    return [p.strip() for p in re.split(r"\n[ \t]*\n", "\n".join(lines)) if p.strip()]


def _pack(paragraphs: list[str], max_chars: int) -> list[str]:
    """Whole paragraphs grouped up to about `max_chars`; a longer paragraph stays in one piece."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        if current and size + len(paragraph) > max_chars:
            parts.append("\n\n".join(current))
            current, size = [], 0
        current.append(paragraph)
        size += len(paragraph) + 2
    if current:
        parts.append("\n\n".join(current))
    return parts


def chunk_markdown(
    text: str,
    *,
    topic: str | None = None,
    language: str | None = None,
    source: str = "",
    version: int | None = None,
    max_chars: int = MAX_CHARS,
) -> list[Chunk]:
    """Chunks of one document. Front matter wins over the arguments, which come from the file's path."""
    meta, markdown = parse_front_matter(text)
    topic = str(meta.get("topic") or topic or "").strip()
    language = str(meta.get("language") or language or "").strip().lower()
    if not topic:
        raise ValueError(f"{source or 'document'}: no topic (set `topic` in the front matter)")
    if not _LANGUAGE.match(language):
        raise ValueError(f"{source or 'document'}: no language code (set `language` in the front matter or use <dir>/<lang>/)")
    raw_version = meta.get("version", version if version is not None else 1)
    try:
        doc_version = int(raw_version)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source or 'document'}: version must be a whole number, not {raw_version!r}") from e

    title, sections = _sections(markdown)
    title = title or topic
    chunks: list[Chunk] = []
    first = 0 if sections and sections[0][0] == "" else 1
    for index, (heading, lines) in enumerate(sections, start=first):
        section = heading or title
        for part_no, part in enumerate(_pack(_paragraphs(lines), max_chars), start=1):
            suffix = "" if part_no == 1 else f"-{part_no}"
            chunks.append(
                Chunk(
                    id=f"{topic}/s{index}{suffix}@{language}",
                    text=f"# {title}\n## {section}\n\n{part}",
                    language=language,
                    topic=topic,
                    title=title,
                    section=section,
                    version=doc_version,
                    source=source,
                )
            )
    return chunks


def chunk_file(path: Path, *, language: str | None = None, source: str | None = None, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Chunks of one file; the topic defaults to the file name without `.md`."""
    text = path.read_text(encoding="utf-8")
    return chunk_markdown(text, topic=path.stem, language=language, source=source or path.as_posix(), max_chars=max_chars)


def _markdown_files(directory: Path) -> Iterable[tuple[Path, str | None]]:
    """`<dir>/<lang>/*.md` (language from the folder) and `<dir>/*.md` (language from front matter)."""
    for path in sorted(directory.glob("*.md")):
        yield path, None
    for sub in sorted(p for p in directory.iterdir() if p.is_dir() and _LANGUAGE.match(p.name.lower())):
        for path in sorted(sub.glob("*.md")):
            yield path, sub.name.lower()


def chunk_directory(directory: Path, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Every chunk under a policy folder; a folder without documents or with two documents claiming
    the same topic and language is an error."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no policy documents folder at {directory}")
    chunks: list[Chunk] = []
    seen: dict[str, str] = {}
    files = list(_markdown_files(directory))
    if not files:
        raise ValueError(f"no markdown documents in {directory} (expected <lang>/<topic>.md files)")
    for path, language in files:
        source = path.relative_to(directory).as_posix()
        try:
            file_chunks = chunk_file(path, language=language, source=source, max_chars=max_chars)
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: cannot read: {e}") from e
        for chunk in file_chunks:
            if chunk.id in seen and seen[chunk.id] != source:
                raise ValueError(f"{source} and {seen[chunk.id]} both hold {chunk.topic} in language {chunk.language}")
            seen[chunk.id] = source
        chunks.extend(file_chunks)
    return chunks
