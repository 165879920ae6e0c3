"""`/aiops jobs [list] | add NAME MIN HOUR DOM MON DOW TZ | run NAME | delete NAME` — admins only.

A digest runs under a service identity bounded by the channel's *listed* scope (never a person's
token, so it survives its creator leaving), so schedules can be added and run only in channels
that the channel-scope file lists. Every change is an `admin` audit event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from app.commands import ChannelIdentity, scope_or_refusal
from app.jobs import Job
from app.queue import JobQueue
from app.schedules.cron import CronError, parse
from app.schedules.runner import digest_job
from app.schedules.store import ScheduleStore
from kernel.audit import AuditEvent, AuditSink
from kernel.scope import EffectiveScope

COMMAND = "jobs"
USAGE = (
    "Usage: `/aiops jobs list`, `/aiops jobs add NAME MIN HOUR DAY MONTH WEEKDAY TIMEZONE` "
    "(e.g. `/aiops jobs add morning 0 9 * * mon-fri Europe/Berlin`), `/aiops jobs run NAME`, "
    "`/aiops jobs delete NAME`."
)
ADMINS_ONLY = "Only admins can manage scheduled jobs (your roles: {roles})."
NEEDS_LISTED_SCOPE = (
    "Scheduled digests run only in channels with a listed namespace scope, so that they "
    "never see more than the channel may. Ask your platform team to list this channel."
)


class JobsCommand:
    def __init__(
        self, *, identity: ChannelIdentity, pool: asyncpg.Pool, queue: JobQueue, audit: AuditSink
    ) -> None:
        self._identity = identity
        self._store = ScheduleStore(pool=pool)
        self._queue = queue
        self._audit = audit

    async def __call__(self, job: Job) -> str:
        scope = await scope_or_refusal(self._identity, job)
        if isinstance(scope, str):
            return scope
        if not scope.may_run_jobs:
            return ADMINS_ONLY.format(roles=", ".join(sorted(scope.identity.roles)) or "none")
        words = job.text.split()[1:]  # after "jobs"
        action, args = (words[0].lower(), words[1:]) if words else ("list", [])
        if action == "list":
            return await self._list(job)
        if self._identity.channel_scope(job.channel_id) is None:
            return NEEDS_LISTED_SCOPE
        if action == "add" and len(args) == 7:
            return await self._add(job, scope, args[0], " ".join(args[1:6]), args[6])
        if action in ("run", "delete") and len(args) == 1:
            return await (self._run if action == "run" else self._delete)(job, scope, args[0])
        return USAGE

    async def _list(self, job: Job) -> str:
        schedules = await self._store.list(job.channel_id)
        if not schedules:
            return "No scheduled jobs in this channel. " + USAGE
        lines = [
            f"• `{s.name}` (#{s.id}): `{s.cron}` {s.timezone} — next run "
            f"{s.next_run_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            for s in schedules
        ]
        return "Scheduled jobs in this channel:\n" + "\n".join(lines)

    async def _add(self, job: Job, scope: EffectiveScope, name: str, cron: str, timezone: str) -> str:
        try:
            parse(cron, timezone)
        except CronError as exc:
            return f"That schedule is not valid: {exc}. " + USAGE
        if await self._store.find(job.channel_id, name) is not None:
            return f"A job named `{name}` already exists here: delete it first or pick another name."
        s = await self._store.add(
            name=name, channel_id=job.channel_id, cron=cron, timezone=timezone, created_by=scope.user_id
        )
        await self._audited(scope, job, f"jobs add {name} '{s.cron}' {timezone}")
        return (
            f"Added `{name}`: `{s.cron}` ({timezone}). Next run "
            f"{s.next_run_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, in this channel."
        )

    async def _run(self, job: Job, scope: EffectiveScope, ref: str) -> str:
        schedule = await self._store.find(job.channel_id, ref)
        if schedule is None:
            return f"No job `{ref}` in this channel. " + USAGE
        await self._queue.enqueue(
            digest_job(schedule, datetime.now(UTC), manual_id=f"now-{uuid.uuid4().hex[:8]}")
        )
        await self._audited(scope, job, f"jobs run {schedule.name}")
        return f"Running `{schedule.name}` now; the digest will appear in this channel."

    async def _delete(self, job: Job, scope: EffectiveScope, ref: str) -> str:
        schedule = await self._store.find(job.channel_id, ref)
        if schedule is None or not await self._store.delete(schedule.id):
            return f"No job `{ref}` in this channel. " + USAGE
        await self._audited(scope, job, f"jobs delete {schedule.name}")
        return f"Deleted `{schedule.name}`."

    async def _audited(self, scope: EffectiveScope, job: Job, what: str) -> None:
        await self._audit.write(
            AuditEvent(
                event_type="admin", user_id=scope.user_id, session_id=job.session_id, user_message=what
            )
        )
