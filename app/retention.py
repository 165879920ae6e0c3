"""Conversation history retention (seed: 90 days): `aiops retention run`, meant for a nightly
CronJob. Deletes in bounded batches so a large backlog never holds a long lock on the table
the workers append to. The audit log is not touched: it is append-only by design."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

DEFAULT_DAYS = 90
BATCH = 5_000

_DELETE_BATCH = """
DELETE FROM conversations WHERE id IN (
    SELECT id FROM conversations WHERE created_at < now() - $1::interval LIMIT $2
)
"""
_COUNT = "SELECT count(*) FROM conversations WHERE created_at < now() - $1::interval"


async def purge_conversations(
    pool: asyncpg.Pool, *, older_than: timedelta, batch: int = BATCH, dry_run: bool = False
) -> int:
    """Delete (or with `dry_run` only count) turns older than `older_than`; returns how many."""
    if older_than <= timedelta(0):
        raise ValueError("the retention period must be positive")
    if dry_run:
        return int(await pool.fetchval(_COUNT, older_than))
    total = 0
    while True:
        status = await pool.execute(_DELETE_BATCH, older_than, batch)
        deleted = int(status.split()[-1])  # "DELETE n"
        total += deleted
        if deleted < batch:
            return total
