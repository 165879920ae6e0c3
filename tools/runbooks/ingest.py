"""Markdown runbooks → chunks, one per heading section (`aiops runbooks ingest PATH`).

A chunk keeps its heading path ("Checkout > OOMKilled > Mitigation") and its source: the
front-matter `url:` when present, else the file path relative to the ingested folder.
Headings inside fenced code blocks are not section breaks. Long sections are split on
paragraph boundaries so a snippet stays readable.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from tools.runbooks.chunk import Chunk

if TYPE_CHECKING:
    from tools.runbooks.index import RunbookIndex

MAX_CHUNK_CHARS = 1_500
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_FRONT_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    m = _FRONT_RE.match(text)
    if not m:
        return {}, text
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta, text[m.end() :]


def _sections(body: str) -> list[tuple[list[str], str]]:
    """(heading path, text) per section, in document order."""
    path: list[tuple[int, str]] = []
    sections: list[tuple[list[str], str]] = []
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(buf).strip()
        if text:
            sections.append(([h for _, h in path], text))
        buf.clear()

    for line in body.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING_RE.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, m.group(2))]
        else:
            buf.append(line)
    flush()
    return sections


def _split(text: str) -> list[str]:
    if len(text) <= MAX_CHUNK_CHARS:
        return [text]
    parts: list[str] = []
    cur = ""
    for para in re.split(r"\n\s*\n", text):
        while len(para) > MAX_CHUNK_CHARS:  # one giant paragraph: hard split
            parts.extend([cur] if cur else [])
            cur = ""
            parts.append(para[:MAX_CHUNK_CHARS])
            para = para[MAX_CHUNK_CHARS:]
        if cur and len(cur) + len(para) + 2 > MAX_CHUNK_CHARS:
            parts.append(cur)
            cur = para
        else:
            cur = f"{cur}\n\n{para}" if cur else para
    if cur:
        parts.append(cur)
    return parts


def chunk_markdown(text: str, *, doc_id: str, source: str) -> list[Chunk]:
    meta, body = _front_matter(text)
    src = meta.get("url") or source
    doc_title = meta.get("title")
    chunks: list[Chunk] = []
    for headings, section in _sections(body):
        title = " > ".join(([doc_title] if doc_title and doc_title not in headings else []) + headings)
        for part in _split(section):
            chunks.append(Chunk(doc_id, len(chunks), title or Path(source).stem, src, part))
    return chunks


def markdown_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.md") if p.is_file())


async def ingest(path: str | Path, *, index: RunbookIndex) -> int:
    """Index every `*.md` under `path` (or the one file); returns the number of chunks written."""
    root = Path(path)
    if not await asyncio.to_thread(root.exists):
        raise FileNotFoundError(f"runbook path not found: {root}")
    base = root.parent if await asyncio.to_thread(root.is_file) else root
    await index.ensure()
    total = 0
    for file in await asyncio.to_thread(markdown_files, root):
        text = await asyncio.to_thread(file.read_text, encoding="utf-8", errors="replace")
        chunks = chunk_markdown(text, doc_id=str(file.resolve()), source=file.relative_to(base).as_posix())
        total += await index.replace_document(str(file.resolve()), chunks)
    return total
