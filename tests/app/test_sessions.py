"""Thread sessions: 2 h TTL refreshed per turn, bounded length, history in Postgres."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
import redis.asyncio as aioredis

from app.agent.base import Turn
from app.sessions import SESSION_TTL_S, SessionStore


async def test_turns_round_trip_with_ttl_refreshed(
    redis_client: aioredis.Redis, redis_prefix: str, pg_pool: asyncpg.Pool
) -> None:
    store = SessionStore(redis=redis_client, pool=pg_pool, prefix=redis_prefix)
    sid = f"C1:{uuid.uuid4().hex}"
    assert await store.load(sid) == []
    audit_id = uuid.uuid4()
    await store.append(
        sid, user_id="kc-a", turns=[Turn("user", "q1"), Turn("assistant", "a1")], audit_id=audit_id
    )
    await redis_client.expire(store.key(sid), 10)  # time passes…
    await store.append(
        sid, user_id="kc-a", turns=[Turn("user", "q2"), Turn("assistant", "a2")], audit_id=None
    )
    assert [t.content for t in await store.load(sid)] == ["q1", "a1", "q2", "a2"]
    ttl = await redis_client.ttl(store.key(sid))
    assert SESSION_TTL_S - 5 < ttl <= SESSION_TTL_S == 7200
    rows = await pg_pool.fetch(
        "SELECT role, content, audit_id FROM conversations WHERE session_id=$1 ORDER BY id", sid
    )
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q2"),
        ("assistant", "a2"),
    ]
    assert rows[0]["audit_id"] == audit_id


async def test_session_is_bounded(
    redis_client: aioredis.Redis, redis_prefix: str, pg_pool: asyncpg.Pool
) -> None:
    store = SessionStore(redis=redis_client, pool=pg_pool, prefix=redis_prefix, max_turns=4)
    sid = f"C1:{uuid.uuid4().hex}"
    for i in range(5):
        await store.append(
            sid, user_id="u", turns=[Turn("user", f"q{i}"), Turn("assistant", f"a{i}")], audit_id=None
        )
    assert [t.content for t in await store.load(sid)] == ["q3", "a3", "q4", "a4"]


def test_ttl_longer_than_two_hours_is_refused(
    redis_client: aioredis.Redis, pg_pool: asyncpg.Pool
) -> None:
    with pytest.raises(ValueError, match="7200"):
        SessionStore(redis=redis_client, pool=pg_pool, prefix="p", ttl_s=7201)
