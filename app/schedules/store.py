"""Schedules in PostgreSQL. `claim_due` moves each due row's `next_run_at` forward inside one
transaction with FOR UPDATE SKIP LOCKED: however many workers poll at once, a firing is claimed
by exactly one of them (and its job id — schedule id + fire time — dedups on the queue too)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from app.schedules.cron import parse


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    channel_id: str
    cron: str
    timezone: str
    created_by: str
    created_at: datetime
    next_run_at: datetime
    last_run_at: datetime | None


Fire = Callable[["Schedule", datetime], Awaitable[None]]


class ScheduleStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, name: str, channel_id: str, cron: str, timezone: str, created_by: str) -> Schedule:
        spec = parse(cron, timezone)  # CronError before anything is stored
        row = await self._pool.fetchrow(
            "INSERT INTO schedules (name, channel_id, cron, timezone, created_by, next_run_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            name,
            channel_id,
            spec.expression,
            timezone,
            created_by,
            spec.next_after(datetime.now(UTC)),
        )
        return Schedule(**dict(row))

    async def list(self, channel_id: str | None = None) -> list[Schedule]:
        rows = await self._pool.fetch(
            "SELECT * FROM schedules WHERE $1::text IS NULL OR channel_id = $1 ORDER BY channel_id, name",
            channel_id,
        )
        return [Schedule(**dict(r)) for r in rows]

    async def find(self, channel_id: str, ref: str) -> Schedule | None:
        """By name in this channel, or by id."""
        row = await self._pool.fetchrow(
            "SELECT * FROM schedules WHERE channel_id = $1 AND (name = $2 OR id::text = $2)",
            channel_id,
            ref,
        )
        return Schedule(**dict(row)) if row else None

    async def delete(self, schedule_id: int) -> bool:
        status: str = await self._pool.execute("DELETE FROM schedules WHERE id = $1", schedule_id)
        return status == "DELETE 1"

    async def claim_due(self, now: datetime, fire: Fire, *, limit: int = 20) -> int:
        """Run `fire(schedule, due_at)` for each due schedule inside the claiming transaction, then
        move its next run on. A crash before the commit leaves the row due, so the next poll fires it
        again — with the same job id, which the queue deduplicates: never lost, never doubled."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM schedules WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT $2 "
                "FOR UPDATE SKIP LOCKED",
                now,
                limit,
            )
            for row in rows:
                schedule = Schedule(**dict(row))
                await fire(schedule, schedule.next_run_at)
                following = parse(schedule.cron, schedule.timezone).next_after(now)
                await conn.execute(
                    "UPDATE schedules SET next_run_at = $2, last_run_at = $3 WHERE id = $1",
                    schedule.id,
                    following,
                    now,
                )
        return len(rows)
