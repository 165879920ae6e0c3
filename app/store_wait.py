"""What a worker does with a job while a store is down: hold it, never fail or refuse it.

A job that hits a store outage (`app.stores.is_store_outage`: identity links, session history
or the audit log unreachable) is neither answered nor acked: its stream entry stays pending
and owned by this worker (the heartbeat keeps it from being reclaimed, and holding it adds no
delivery, so a long outage never makes it a poison job). When PostgreSQL — the audit store — is
what is down, the user is told once, in the thread, that the answer is delayed. The job is
retried as soon as the store answers again; answers are only shown once their audit row is
written, so nothing unaudited reaches Slack in the meantime.

A failure that only looks like an outage (the probe says PostgreSQL is fine: e.g. Redis
restarting) is retried in-process a few times with backoff, then left pending for the usual
reclaim path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.jobs import Job
from app.queue import JOB_STATE_TTL_S
from app.stores import is_store_outage
from kernel.errors import StoreUnavailable

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]
PROBE_TIMEOUT_S = 2.0
FIRST_BACKOFF_S = 0.25
MAX_BACKOFF_S = 5.0
MAX_SOFT_RETRIES = 5
"""Retries of a job whose outage-looking failure the probe does not confirm."""


class StoreWait:
    def __init__(
        self,
        *,
        probe: Probe | None,
        slack: AsyncWebClient,
        redis: aioredis.Redis,
        prefix: str,
    ) -> None:
        self._probe = probe
        self._slack = slack
        self._redis = redis
        self._prefix = prefix
        self._soft: dict[str, int] = {}
        self.waiting = 0
        """Jobs currently held (they do not count against the worker's concurrency)."""
        self._held = asyncio.Event()

    async def store_up(self) -> bool:
        """Can the audit store (PostgreSQL) be reached right now? No probe → assume yes."""
        if self._probe is None:
            return True
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await self._probe()
        except Exception:  # any failure of `SELECT 1` means: not now
            return False
        return True

    async def hold(self, exc: BaseException, job: Job | None, stop: asyncio.Event) -> bool:
        """After `exc` failed `job`: True → retry it now (the store is back); False → leave the
        entry pending (not an outage, too many unconfirmed retries, or the worker is stopping)."""
        if job is None or not is_store_outage(exc):
            return False
        if await self.store_up():
            tries = self._soft[job.job_id] = self._soft.get(job.job_id, 0) + 1
            if tries > MAX_SOFT_RETRIES:
                self._soft.pop(job.job_id, None)
                return False
            await sleep_or_stop(stop, FIRST_BACKOFF_S * 2 ** (tries - 1))
            return not stop.is_set()
        log.warning("job %s waits: the audit store is unavailable (%s)", job.job_id, type(exc).__name__)
        await self._notify_once(job)
        self.waiting += 1
        self._held.set()  # a slot is free: the worker may take the next job
        try:
            await self._until_up(stop)
        finally:
            self.waiting -= 1
        return not stop.is_set()

    async def wait_any(self, tasks: set[asyncio.Task[None]]) -> None:
        """Until one of `tasks` ends or one of them is held (which frees its slot)."""
        if not self._held.is_set():  # set and not yet seen: return at once, the caller recounts
            held = asyncio.ensure_future(self._held.wait())
            try:
                await asyncio.wait({*tasks, held}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                held.cancel()
        self._held.clear()

    def done(self, job: Job | None) -> None:
        if job is not None:
            self._soft.pop(job.job_id, None)

    async def _until_up(self, stop: asyncio.Event) -> None:
        delay = FIRST_BACKOFF_S
        while not stop.is_set():
            await sleep_or_stop(stop, delay)
            if await self.store_up():
                return
            delay = min(delay * 2, MAX_BACKOFF_S)

    async def _notify_once(self, job: Job) -> None:
        """One short status per job, whatever the number of retries, workers or outages."""
        if job.kind not in ("mention", "dm", "command"):
            return  # alerts and digests: nobody is waiting in a thread; API clients keep their stream
        key = f"{self._prefix}:jobstate:{job.job_id}"
        try:
            if not await self._redis.hsetnx(key, "delay_notice", "1"):
                return
            await self._redis.expire(key, JOB_STATE_TTL_S)
            if job.kind == "command":
                await self._slack.chat_postEphemeral(
                    channel=job.channel_id, user=job.user_id, text=messages.DELAYED_AUDIT_STORE
                )
            else:
                await self._slack.chat_postMessage(
                    channel=job.channel_id,
                    thread_ts=job.thread_ts or job.event_ts,
                    text=messages.DELAYED_AUDIT_STORE,
                )
        except Exception as exc:  # the status is a courtesy; the job itself is still held
            log.warning("could not post the delay status for job %s (%s)", job.job_id, type(exc).__name__)


async def wait_ready(check: Probe | None, stop: asyncio.Event, *, every_s: float = 2.0) -> bool:
    """Until `check` passes (a worker's schema check: `aiops migrate` may still be running).
    False when stopped first."""
    while check is not None and not stop.is_set():
        try:
            await check()
            return True
        except StoreUnavailable as exc:  # ours (SchemaBehind names the migration): no secrets
            log.warning("worker not ready: %s", exc)
        except Exception as exc:  # the type only: a driver message may carry a DSN
            log.warning("worker not ready: %s", type(exc).__name__)
        await sleep_or_stop(stop, every_s)
    return not stop.is_set()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
