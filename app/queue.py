"""The durable job queue: one Redis Stream, one consumer group, plus per-job state.

Producer side (the ack path): `enqueue()` dedups on the job id and XADDs in one Lua call,
so "seen" and "queued" can never disagree — if Redis fails, nothing is marked seen and
Slack's retry gets another chance.

Consumer side (workers): XREADGROUP for new entries, XAUTOCLAIM for entries whose worker
stopped touching them for `claim_idle_ms`, XCLAIM-to-self as a heartbeat on in-flight
entries (so a long LLM call is not stolen), XPENDING for the delivery count (poison jobs),
XACK + XDEL when a job is done.

Every key starts with the configured prefix.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from app.credentials import redact_job
from app.jobs import Job, JobState

log = logging.getLogger(__name__)

GROUP = "workers"
DEFAULT_CLAIM_IDLE_MS = 60_000
"""A pending entry idle this long is taken over by another worker (its owner died or hung)."""
DEDUP_TTL_S = 24 * 3600
JOB_STATE_TTL_S = 7 * 24 * 3600

# KEYS[1]=dedup key, KEYS[2]=stream; ARGV[1]=ttl, ARGV[2]=job json. Returns the entry id or nil.
# XADD before SET: a script is not rolled back on error, so if XADD fails nothing is marked seen.
# (Scripts run atomically, so EXISTS-then-SET cannot race with another receiver.)
_ENQUEUE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
local id = redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return id
"""


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Delivery:
    """One stream entry handed to a worker. `job` is None for an unparseable entry."""

    entry_id: str
    job: Job | None
    reclaimed: bool = False


class JobQueue:
    def __init__(self, *, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self.prefix = prefix
        self.stream = f"{prefix}:jobs"
        self._enqueue_script = redis.register_script(_ENQUEUE_LUA)

    # ---- producer -------------------------------------------------------------------------

    async def enqueue(self, job: Job, *, dedup_key: str | None = None) -> bool:
        """Queue `job` unless its dedup key was seen in the last 24 h. True = queued."""
        key = f"{self.prefix}:dedup:{dedup_key or job.job_id}"
        # redacted before anything is stored: Redis, sessions, audit, model
        payload = redact_job(job).stream_json()
        entry = await self._enqueue_script(keys=[key, self.stream], args=[DEDUP_TTL_S, payload])
        return entry is not None

    # ---- consumer -------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Delivery]:
        resp: Any = await self._redis.xreadgroup(
            GROUP, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        out: list[Delivery] = []
        for _stream, entries in resp or []:
            for entry_id, fields in entries:
                out.append(Delivery(_s(entry_id), _parse(fields)))
        return out

    async def claim_stale(self, consumer: str, *, min_idle_ms: int, count: int) -> list[Delivery]:
        """Take over entries idle longer than `min_idle_ms` (their worker died or hung)."""
        resp: Any = await self._redis.xautoclaim(
            self.stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        entries = resp[1] if resp else []
        out: list[Delivery] = []
        for entry_id, fields in entries:
            if fields is None:  # deleted while pending
                await self.ack(_s(entry_id))
                continue
            out.append(Delivery(_s(entry_id), _parse(fields), reclaimed=True))
        return out

    async def touch(self, consumer: str, entry_ids: list[str]) -> None:
        """Heartbeat: reset the idle time of entries this consumer is still working on."""
        if entry_ids:
            await self._redis.xclaim(
                self.stream, GROUP, consumer, min_idle_time=0, message_ids=list[Any](entry_ids), justid=True
            )

    async def delivery_count(self, entry_id: str) -> int:
        rows: Any = await self._redis.xpending_range(
            self.stream, GROUP, min=entry_id, max=entry_id, count=1
        )
        return int(rows[0]["times_delivered"]) if rows else 0

    async def ack(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    async def pending_count(self) -> int:
        try:
            info: Any = await self._redis.xpending(self.stream, GROUP)
        except ResponseError:
            return 0
        return int(info["pending"]) if info else 0


def _parse(fields: dict[Any, Any]) -> Job | None:
    try:
        return Job.from_fields(fields)
    except (ValueError, TypeError, json.JSONDecodeError):
        log.warning("dropping unparseable stream entry")
        return None


class RedisJobStateStore:
    """`JobStateStore` on a Redis hash per job. Extra fields (audit facts) ride along."""

    def __init__(self, *, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, job_id: str) -> str:
        return f"{self._prefix}:jobstate:{job_id}"

    async def raw(self, job_id: str) -> dict[str, str]:
        data: Any = await self._redis.hgetall(self._key(job_id))
        return {_s(k): _s(v) for k, v in (data or {}).items()}

    async def get(self, job_id: str) -> JobState:
        raw = await self.raw(job_id)
        return JobState(
            thread_ts=raw.get("thread_ts") or None,
            message_ts=raw.get("message_ts") or None,
            answered=raw.get("answered") == "1",
            opening=raw.get("opening") == "1",
            parts=tuple(json.loads(raw["parts"])) if raw.get("parts") else (),
            attached=raw.get("attached") == "1",
        )

    async def update(self, job_id: str, **changes: Any) -> None:
        mapping: dict[Any, Any] = {}
        for k, v in changes.items():
            if v is None:
                continue
            if isinstance(v, bool):
                mapping[k] = "1" if v else "0"
            elif isinstance(v, (dict, list)):
                mapping[k] = json.dumps(v, separators=(",", ":"))
            else:
                mapping[k] = str(v)
        if not mapping:
            return
        key = self._key(job_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, JOB_STATE_TTL_S)
            await pipe.execute()
