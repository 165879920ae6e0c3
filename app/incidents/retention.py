"""The incident memory under the 90-day retention (`aiops retention run`) when it lives on a Qdrant
server (postmortem rows: `app.retention.purge_incidents`). A local-mode memory belongs to the process
that serves it (its folder is locked), so that process purges it itself: every `store()` drops the
expired points, and no search ever returns one (`memory.scope_filter`)."""

from __future__ import annotations

from datetime import timedelta

from qdrant_client import QdrantClient

from app.incidents.memory import IncidentMemory


async def purge_memory(url: str | None, api_key: str | None, *, older_than: timedelta) -> int | None:
    """Expired points on the Qdrant server; None when there is no server (local mode purges itself)."""
    if not url:
        return None
    memory = IncidentMemory(connect=lambda: QdrantClient(url=url, api_key=api_key))
    try:
        return await memory.purge(older_than=older_than)
    finally:
        await memory.close()
