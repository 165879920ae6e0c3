"""The durable queue on real Redis: dedup, no lost jobs, reclaim of dead workers' entries."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import ResponseError

from app.jobs import Job
from app.queue import DEDUP_TTL_S, JobQueue, RedisJobStateStore
from tests.conftest import REDIS_URL


def job(job_id: str, text: str = "why?") -> Job:
    return Job(job_id=job_id, kind="mention", channel_id="C1", user_id="U1", text=text, event_ts="1.0")


async def test_same_event_id_is_queued_once(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    assert await q.enqueue(job("Ev1")) is True
    assert await q.enqueue(job("Ev1")) is False
    assert await q.enqueue(job("Ev2")) is True
    assert await redis_client.xlen(q.stream) == 2
    ttl = await redis_client.ttl(f"{redis_prefix}:dedup:Ev1")
    assert 0 < ttl <= DEDUP_TTL_S


async def test_a_failed_xadd_does_not_mark_the_event_seen(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await redis_client.set(q.stream, "not a stream")  # XADD will fail with WRONGTYPE
    with pytest.raises(ResponseError):
        await q.enqueue(job("Ev1"))
    await redis_client.delete(q.stream)
    assert await q.enqueue(job("Ev1")) is True  # Slack's retry gets through


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=20))
def test_stream_holds_exactly_the_distinct_events(ids: list[str]) -> None:
    async def run() -> None:
        client = aioredis.Redis.from_url(REDIS_URL)
        prefix = f"aiops-t-{uuid.uuid4().hex[:10]}"
        try:
            q = JobQueue(redis=client, prefix=prefix)
            results = await asyncio.gather(*(q.enqueue(job(i)) for i in ids))
            assert sum(results) == len(set(ids))
            assert await client.xlen(q.stream) == len(set(ids))
        finally:
            keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(run())


async def test_read_ack_removes_the_entry(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await q.ensure_group()
    await q.ensure_group()  # idempotent
    await q.enqueue(job("Ev1", "héllo ✓"))
    [d] = await q.read("w1", count=10, block_ms=100)
    assert d.job is not None and d.job.text == "héllo ✓" and not d.reclaimed
    assert await q.pending_count() == 1
    await q.ack(d.entry_id)
    assert await q.pending_count() == 0
    assert await redis_client.xlen(q.stream) == 0


async def test_entry_of_a_dead_consumer_is_reclaimed(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await q.ensure_group()
    await q.enqueue(job("Ev1"))
    [taken] = await q.read("dead", count=1, block_ms=100)
    assert await q.read("alive", count=1, block_ms=10) == []  # not handed out twice
    reclaimed = []
    deadline = asyncio.get_running_loop().time() + 5
    while not reclaimed:
        assert asyncio.get_running_loop().time() < deadline
        reclaimed = await q.claim_stale("alive", min_idle_ms=50, count=10)
        await asyncio.sleep(0.02)
    assert [d.entry_id for d in reclaimed] == [taken.entry_id]
    assert reclaimed[0].reclaimed
    assert await q.delivery_count(taken.entry_id) == 2


async def test_a_heartbeat_keeps_a_slow_job_from_being_stolen(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await q.ensure_group()
    await q.enqueue(job("Ev1"))
    [taken] = await q.read("slow", count=1, block_ms=100)
    for _ in range(12):  # ~1.2 s of a slow job, touched every 100 ms; others wait for 1 s idle
        await q.touch("slow", [taken.entry_id])
        assert await q.claim_stale("other", min_idle_ms=1000, count=10) == []
        await asyncio.sleep(0.1)
    assert await q.delivery_count(taken.entry_id) == 1


async def test_unparseable_entries_are_delivered_as_none(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await q.ensure_group()
    await redis_client.xadd(q.stream, {"job": "{not json"})
    [d] = await q.read("w", count=1, block_ms=100)
    assert d.job is None


async def test_job_state_round_trip(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    states = RedisJobStateStore(redis=redis_client, prefix=redis_prefix)
    assert (await states.get("j1")).message_ts is None
    await states.update(
        "j1", message_ts="1.5", thread_ts="1.0", tool_calls=[{"tool": "x"}], answered=False
    )
    st1 = await states.get("j1")
    assert (st1.message_ts, st1.thread_ts, st1.answered) == ("1.5", "1.0", False)
    await states.update("j1", answered=True)
    assert (await states.get("j1")).answered
    assert (await states.raw("j1"))["tool_calls"] == '[{"tool":"x"}]'
    assert 0 < await redis_client.ttl(f"{redis_prefix}:jobstate:j1") <= 7 * 24 * 3600


async def test_queued_job_reads_back_equal(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    q = JobQueue(redis=redis_client, prefix=redis_prefix)
    await q.ensure_group()
    original = Job(
        job_id="EvX",
        kind="alert",
        channel_id="C1",
        user_id="alertmanager",
        text="t",
        alert={"groupKey": "g", "alerts": [{"labels": {"a": "b"}}]},
        ip_address="10.0.0.1",
    )
    assert await q.enqueue(original)
    [d] = await q.read("w", count=1, block_ms=100)
    assert d.job == original
    assert d.job is not None and d.job.to_fields() == original.to_fields()
