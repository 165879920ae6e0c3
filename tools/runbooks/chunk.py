"""One indexed piece of a runbook: what ingest produces and the index stores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    """Stable identity of the file (resolved path): re-ingest replaces all chunks with this id."""
    ordinal: int
    title: str
    source: str
    text: str
