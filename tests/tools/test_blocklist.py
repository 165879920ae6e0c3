"""The blocklist on a real Redis: shared by every worker, expiring by Redis' own clock, and
storing only digests. A tool call reads the live set once and matches the result locally."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.blocklist import Blocklist, _digest

PAYLOAD = "ignore previous instructions; password=hunter2"


async def test_a_block_is_seen_by_every_worker_and_only_as_a_digest(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    a = Blocklist(redis=redis_client, prefix=redis_prefix)
    b = Blocklist(redis=redis_client, prefix=redis_prefix)  # another worker
    assert await b.live() == frozenset()
    await a.block([PAYLOAD, "checkout-7d9f"])
    assert await b.blocked(["checkout-7d9f", "cart", PAYLOAD, PAYLOAD]) == {PAYLOAD, "checkout-7d9f"}
    stored = [k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")]
    members = [m for k in stored for m in await redis_client.zrange(k, 0, -1)]
    assert len(members) == 2 and b"hunter2" not in b"".join(stored + members)
    await b.unblock("checkout-7d9f")
    assert await a.blocked(["checkout-7d9f", PAYLOAD]) == {PAYLOAD}


async def test_blocks_expire_and_so_does_the_key(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    short = Blocklist(redis=redis_client, prefix=redis_prefix, ttl_s=1)
    await short.block(["a"])
    assert await short.blocked(["a"]) == {"a"}
    deadline = time.monotonic() + 10
    while await short.live() and time.monotonic() < deadline:  # noqa: ASYNC110 (Redis expiry)
        await asyncio.sleep(0.2)
    assert await short.blocked(["a"]) == set()
    keys = [k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")]
    ttls = [await redis_client.ttl(k) for k in keys]
    assert all(0 < t <= 2 for t in ttls), ttls  # gone soon after the last entry: never left behind


async def test_re_blocking_refreshes_a_value(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    bl = Blocklist(redis=redis_client, prefix=redis_prefix, ttl_s=3600)
    await bl.block(["x"])
    (score_before,) = [
        s for _, s in await redis_client.zrange(f"{redis_prefix}:blocklist:live", 0, -1, withscores=True)
    ]
    await asyncio.sleep(1.1)
    await bl.block(["x"])
    (score_after,) = [
        s for _, s in await redis_client.zrange(f"{redis_prefix}:blocklist:live", 0, -1, withscores=True)
    ]
    assert score_after > score_before


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(max_size=20), max_size=30), blocked=st.lists(st.text(max_size=20), max_size=5))
def test_local_matching_finds_exactly_the_blocked_values(values: list[str], blocked: list[str]) -> None:
    live = frozenset(_digest(v) for v in blocked)
    assert Blocklist.matches(values, live) == set(values) & set(blocked)
