"""Which channel messages become jobs, decided in the one Redis round trip of the enqueue.

Slack sends every message of a channel the bot is in (`message.channels` / `message.groups`)
and, for a message that mentions the bot, an `app_mention` as well — two events with different
event ids. Rules (issue 11 item 6):

- a mention queues a job and marks its thread (`{prefix}:thread:{channel}:{root ts}`) as one
  the bot takes part in; a thread the bot starts itself (slash-command root, alert root) is
  marked by the worker (`mark_thread`);
- a plain message in a thread is queued only when that thread is marked — checked inside the
  same Lua call that dedups and XADDs, so everything else is dropped without being stored;
- dedup is on channel + ts (`msg:{channel}:{ts}`), so the mention and its `message.channels`
  copy (and Slack's retries of either) give one answer.

The marker lives `THREAD_TTL_S` and every follow-up refreshes it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from app.credentials import redact_job
from app.identity.service import alert_namespaces
from app.jobs import Job
from app.queue import DEDUP_TTL_S

THREAD_TTL_S = 7 * 24 * 3600
ThreadNamespaces = Callable[[str, str], Awaitable[frozenset[str] | None]]
"""(channel, thread ts) → the namespaces of the alert that opened the thread, else None."""
QUEUED, DUPLICATE, UNKNOWN_THREAD = 1, 0, -1

# KEYS[1]=dedup, KEYS[2]=stream, KEYS[3]=thread that must be marked or "", KEYS[4]=thread to mark
# or ""; ARGV[1]=dedup ttl, ARGV[2]=job json, ARGV[3]=thread ttl. XADD before any SET (a failing
# script is not rolled back: nothing may be marked seen unless it was queued).
_INTAKE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then
  return -1
end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
if KEYS[3] ~= '' then
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if KEYS[4] ~= '' then
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[3])
end
return 1
"""


def thread_key(prefix: str, channel: str, root_ts: str) -> str:
    return f"{prefix}:thread:{channel}:{root_ts}"


def message_key(prefix: str, channel: str, ts: str) -> str:
    return f"{prefix}:dedup:msg:{channel}:{ts}"


async def mark_thread(
    redis: aioredis.Redis,
    prefix: str,
    channel: str,
    root_ts: str,
    *,
    namespaces: frozenset[str] | None = None,
) -> None:
    """The bot started this thread (or was mentioned in it): follow-ups there are answered.
    An alert thread records the alert's namespaces: people asking there are held to them."""
    value = json.dumps(sorted(namespaces)) if namespaces is not None else "1"
    await redis.set(thread_key(prefix, channel, root_ts), value, ex=THREAD_TTL_S)


async def mark_started_thread(redis: aioredis.Redis, prefix: str, job: Job, root_ts: str) -> None:
    """A thread the bot started (alert, slash command, scheduled digest): follow-ups are for it."""
    if job.kind in ("alert", "command", "scheduled"):
        namespaces = alert_namespaces(job.alert) if job.kind == "alert" else None
        await mark_thread(redis, prefix, job.channel_id, root_ts, namespaces=namespaces)


def alert_thread_lookup(redis: aioredis.Redis, prefix: str) -> ThreadNamespaces:
    """(channel, thread ts) → the namespaces of the alert that opened the thread, else None."""

    async def lookup(channel: str, thread_ts: str) -> frozenset[str] | None:
        raw = await redis.get(thread_key(prefix, channel, thread_ts))
        if not raw or raw in (b"1", "1"):
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return frozenset(str(v) for v in value) if isinstance(value, list) else None

    return lookup


class ThreadIntake:
    def __init__(self, *, redis: aioredis.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._stream = f"{prefix}:jobs"
        self._script = redis.register_script(_INTAKE_LUA)

    async def mention(self, job: Job) -> int:
        """Queue a mention (dedup on channel + ts) and mark its thread."""
        root = str(job.thread_ts or job.event_ts)
        return await self._run(job, require=None, mark=thread_key(self._prefix, job.channel_id, root))

    async def follow_up(self, job: Job) -> int:
        """Queue a thread message only if the bot is part of that thread."""
        require = thread_key(self._prefix, job.channel_id, str(job.thread_ts))
        return await self._run(job, require=require, mark=None)

    async def _run(self, job: Job, *, require: str | None, mark: str | None) -> int:
        keys = [
            message_key(self._prefix, job.channel_id, str(job.event_ts)),
            self._stream,
            require or "",
            mark or "",
        ]
        payload = redact_job(job).stream_json()  # no credential is stored
        return int(await self._script(keys=keys, args=[DEDUP_TTL_S, payload, THREAD_TTL_S]))
