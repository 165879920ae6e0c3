"""Fires due schedules: every worker process polls; the store hands each firing to exactly one of
them, which enqueues a digest job (its id — schedule id + fire time — also dedups on the queue)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from app.jobs import Job
from app.queue import JobQueue
from app.schedules.store import Schedule, ScheduleStore

log = logging.getLogger(__name__)
SCHEDULER_USER = "system:scheduler"
POLL_S = 15.0


def digest_job(schedule: Schedule, fired_at: datetime, *, manual_id: str | None = None) -> Job:
    stamp = manual_id or str(int(fired_at.timestamp()))
    return Job(
        job_id=f"sched-{schedule.id}-{stamp}",
        kind="scheduled",
        channel_id=schedule.channel_id,
        user_id=SCHEDULER_USER,
        text=(
            f"Scheduled digest '{schedule.name}': the health of this channel's namespaces — firing alerts, "
            "analyzer findings, and what changed since the last digest."
        ),
    )


class Scheduler:
    def __init__(self, *, store: ScheduleStore, queue: JobQueue, poll_s: float = POLL_S) -> None:
        self._store = store
        self._queue = queue
        self._poll_s = poll_s

    async def tick(self, now: datetime | None = None) -> int:
        """Fire what is due; the number of firings claimed."""

        async def fire(schedule: Schedule, due: datetime) -> None:
            await self._queue.enqueue(digest_job(schedule, due))

        return await self._store.claim_due(now or datetime.now(UTC), fire)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # a store blip must not end the worker; the next poll retries
                log.warning("scheduler: poll failed (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_s)
