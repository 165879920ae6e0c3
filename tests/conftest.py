"""Shared fixtures: real PostgreSQL and Redis (the machine's servers, or TEST_DATABASE_URL /
TEST_REDIS_URL). Each test session gets its own fresh database and Redis key prefix so
parallel runs never see each other's rows or streams."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from app.stores import create_pg_pool

ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _with_db(dsn: str, db: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A fresh, migrated database for this test session; dropped afterwards."""
    name = f"aiops_t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(_with_db(ADMIN_DSN, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield _with_db(ADMIN_DSN, name)
    asyncio.run(drop())


@pytest.fixture
async def pg_pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pg_pool(pg_dsn, max_size=4)  # as the app opens it
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def audit_log(pg_pool: asyncpg.Pool) -> PostgresAuditLog:
    return PostgresAuditLog(pool=pg_pool, agent_version="test-sha")


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix unique to this test (pass it as AIOPS_REDIS_PREFIX / redis_prefix=)."""
    return f"aiops-t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=f"{redis_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
