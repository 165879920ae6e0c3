"""Postmortems fall under the 90-day retention like conversation history (`aiops retention run`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import pytest

from app.incidents.retention import purge_memory
from app.retention import purge_incidents


async def add(pool: asyncpg.Pool, days_ago: int) -> uuid.UUID:
    pid = uuid.uuid4()
    await pool.execute(
        "INSERT INTO incidents (id, channel_id, thread_ts, alertname, namespaces, labels, findings, "
        "postmortem, resolved_at) VALUES ($1, 'C0RET', $2, 'X', '{shop}', '{}', '[]', '# pm', "
        "now() - $3::interval)",
        pid, str(pid), timedelta(days=days_ago),
    )
    return pid


async def test_postmortems_past_the_retention_are_deleted(pg_pool: asyncpg.Pool) -> None:
    old, young = await add(pg_pool, 91), await add(pg_pool, 89)
    assert await purge_incidents(pg_pool, older_than=timedelta(days=90), dry_run=True) >= 1
    assert await purge_incidents(pg_pool, older_than=timedelta(days=90)) >= 1
    left = {r["id"] for r in await pg_pool.fetch("SELECT id FROM incidents WHERE id = ANY($1)", [old, young])}
    assert left == {young}
    with pytest.raises(ValueError, match="positive"):
        await purge_incidents(pg_pool, older_than=timedelta(0))


async def test_without_a_qdrant_server_the_memory_purges_itself() -> None:
    assert await purge_memory(None, None, older_than=timedelta(days=90)) is None
