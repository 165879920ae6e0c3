"""Retention (seed: 90 days): `aiops retention run`, meant for a nightly CronJob. Conversation
history and the change records of `k8s_changes` (app/changes). Deletes in bounded batches so a
large backlog never holds a long lock on a table the workers append to. The audit log is not
touched: it is append-only by design."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

DEFAULT_DAYS = 90
BATCH = 5_000

# table → its timestamp column (constants: never built from input)
_TABLES = {"conversations": "created_at", "change_records": "changed_at", "incidents": "resolved_at"}


async def _purge(
    pool: asyncpg.Pool, table: str, *, older_than: timedelta, batch: int, dry_run: bool
) -> int:
    if older_than <= timedelta(0):
        raise ValueError("the retention period must be positive")
    column = _TABLES[table]
    old = f"{column} < now() - $1::interval"
    if dry_run:
        return int(await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {old}", older_than))  # noqa: S608
    delete = f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {old} LIMIT $2)"  # noqa: S608
    total = 0
    while True:
        status = await pool.execute(delete, older_than, batch)
        deleted = int(status.split()[-1])  # "DELETE n"
        total += deleted
        if deleted < batch:
            return total


async def purge_conversations(
    pool: asyncpg.Pool, *, older_than: timedelta, batch: int = BATCH, dry_run: bool = False
) -> int:
    """Delete (or with `dry_run` only count) turns older than `older_than`; returns how many."""
    return await _purge(pool, "conversations", older_than=older_than, batch=batch, dry_run=dry_run)


async def purge_change_records(
    pool: asyncpg.Pool, *, older_than: timedelta, batch: int = BATCH, dry_run: bool = False
) -> int:
    """Delete (or count) change records of changes older than `older_than`; returns how many."""
    return await _purge(pool, "change_records", older_than=older_than, batch=batch, dry_run=dry_run)


async def purge_incidents(
    pool: asyncpg.Pool, *, older_than: timedelta, batch: int = BATCH, dry_run: bool = False
) -> int:
    """Delete (or count) postmortems of incidents resolved before `older_than`; returns how many."""
    return await _purge(pool, "incidents", older_than=older_than, batch=batch, dry_run=dry_run)
