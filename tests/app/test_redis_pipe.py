"""app.redis_pipe.PipelinedScript against the real Redis: replies reach their callers in order
when hundreds of calls share one write, a script error fails only its own call, and a killed
connection fails what was in flight while the next call reconnects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from app.redis_pipe import PipelinedScript
from tests.conftest import REDIS_URL

SCRIPT = """
if ARGV[1] == 'boom' then return redis.error_reply('ERR boom') end
if ARGV[1] == 'loading' then return redis.error_reply('LOADING Redis is loading the dataset in memory') end
if ARGV[1] == 'text' then return 'some text' end
return tonumber(ARGV[1])
"""


@pytest.fixture
async def named() -> AsyncIterator[tuple[aioredis.Redis, str]]:
    name = f"pipe-test-{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(REDIS_URL, client_name=name)
    yield client, name
    await client.aclose()


async def test_replies_reach_their_callers_in_order(named: tuple[aioredis.Redis, str]) -> None:
    script = PipelinedScript(redis=named[0], script=SCRIPT)
    try:
        got = await asyncio.gather(*(script([], [i]) for i in range(500)))
        assert got == list(range(500))
        assert await script([], ["text"]) == b"some text"
    finally:
        await script.aclose()


async def test_a_script_error_fails_only_its_own_call(named: tuple[aioredis.Redis, str]) -> None:
    script = PipelinedScript(redis=named[0], script=SCRIPT)
    try:
        got = await asyncio.gather(*(script([], ["boom" if i % 3 == 0 else i]) for i in range(30)),
                                   return_exceptions=True)
        for i, value in enumerate(got):
            if i % 3 == 0:
                assert isinstance(value, ResponseError) and "boom" in str(value)
            else:
                assert value == i
    finally:
        await script.aclose()


async def test_a_killed_connection_is_replaced_by_the_next_call(named: tuple[aioredis.Redis, str]) -> None:
    client, name = named
    script = PipelinedScript(redis=client, script=SCRIPT)
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await script([], [1]) == 1
        ours = [c["id"] for c in await admin.client_list() if c.get("name") == name]
        for client_id in ours:
            await admin.client_kill_filter(_id=client_id)
        outcomes: list[object] = []
        for _ in range(5):  # the first call may be in flight when the close is noticed
            try:
                outcomes.append(await script([], [2]))
            except RedisConnectionError as exc:
                outcomes.append(exc)
            if outcomes[-1] == 2:
                break
        assert outcomes[-1] == 2 and len(outcomes) <= 2
    finally:
        await script.aclose()
        await admin.aclose()


async def test_a_loading_redis_is_a_connection_error_and_the_connection_is_replaced(
    named: tuple[aioredis.Redis, str],
) -> None:
    """`-LOADING` (a restarted Redis reading its data) is what the ack path retries, not a 500."""
    script = PipelinedScript(redis=named[0], script=SCRIPT)
    try:
        assert await script([], [1]) == 1
        first = script._conn
        with pytest.raises(BusyLoadingError):
            await script([], ["loading"])
        assert await script([], [2]) == 2 and script._conn is not first
    finally:
        await script.aclose()
