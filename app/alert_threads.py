"""One Slack thread per Alertmanager alert group: the root is posted once, even when several
workers take jobs of the same group at the same time (a Redis lock + the groupKey → ts mapping),
and a resolve updates that root instead of opening a new thread."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.jobs import Job
from kernel.audit import sha256_hex

ALERT_THREAD_TTL_S = 30 * 24 * 3600
LOCK_TIMEOUT_S = 30


class AlertThreads:
    def __init__(self, *, redis: aioredis.Redis, slack: AsyncWebClient, prefix: str, owner: str) -> None:
        self._redis = redis
        self._slack = slack
        self._prefix = prefix
        self._owner = owner

    def _key(self, job: Job) -> str:
        group = str((job.alert or {}).get("groupKey", job.job_id))
        return f"{self._prefix}:alertthread:{sha256_hex(group)[:32]}"

    async def _existing(self, job: Job) -> str | None:
        existing = await self._redis.get(self._key(job))
        if not existing:
            return None
        return existing.decode() if isinstance(existing, bytes) else str(existing)

    async def thread_for(self, job: Job) -> str:
        """The ts of the group's root message, posting it if this is the group's first alert."""
        key = self._key(job)
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            existing = await self._existing(job)
            if existing:
                return existing
            if await self._redis.set(f"{key}:lock", self._owner, nx=True, px=LOCK_TIMEOUT_S * 1000):
                try:
                    # The winner may have posted and released the lock between our read and
                    # our SET NX: look again while holding the lock, or we post a second root.
                    existing = await self._existing(job)
                    if existing:
                        return existing
                    resp = await self._slack.chat_postMessage(
                        channel=job.channel_id, text=messages.alert_root(job.alert or {})
                    )
                    ts = str(resp["ts"])
                    await self._redis.set(key, ts, ex=ALERT_THREAD_TTL_S)
                    return ts
                finally:
                    await self._redis.delete(f"{key}:lock")
            if time.monotonic() > deadline:
                raise TimeoutError("alert thread lock held too long")
            await asyncio.sleep(0.1)

    async def mark_resolved(self, job: Job) -> str:
        """Rewrite the group's root as resolved (or post one if it never fired here); its ts."""
        alert = job.alert or {}
        root = await self._existing(job)
        if root:
            await self._slack.chat_update(
                channel=job.channel_id, ts=root, text=messages.alert_resolved_root(alert)
            )
            return root
        resp = await self._slack.chat_postMessage(
            channel=job.channel_id, text=messages.alert_resolved_root(alert)
        )
        return str(resp["ts"])
