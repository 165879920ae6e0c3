"""Incidents under the 90-day retention (`aiops retention run`): postmortem rows in PostgreSQL, and
the incident memory when it lives on a Qdrant server. A local-mode memory belongs to the process
that serves it (its folder is locked), so that process purges it itself: every `store()` drops the
expired points, and no search ever returns one (`memory.scope_filter`)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from app.incidents.memory import IncidentMemory


async def purge_incidents(pool: asyncpg.Pool, *, older_than: timedelta, dry_run: bool = False) -> int:
    if older_than <= timedelta(0):
        raise ValueError("the retention period must be positive")
    if dry_run:
        return int(
            await pool.fetchval(
                "SELECT count(*) FROM incidents WHERE resolved_at < now() - $1::interval", older_than
            )
        )
    status: str = await pool.execute(
        "DELETE FROM incidents WHERE resolved_at < now() - $1::interval", older_than
    )
    return int(status.split()[-1])


async def purge_memory(url: str | None, api_key: str | None, *, older_than: timedelta) -> int | None:
    """Expired points on the Qdrant server; None when there is no server (local mode purges itself)."""
    if not url:
        return None
    from pathlib import Path

    memory = IncidentMemory.open(url=url, data_dir=Path("."), api_key=api_key)
    try:
        return await memory.purge(older_than=older_than)
    finally:
        await memory.close()
