"""Worker readiness: a database without this build's migrations is reported, not used."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from app.audit.migrate import migrate, migration_files
from app.schema_check import SchemaBehind, check_schema, missing_migrations
from app.store_wait import wait_ready
from handlers.health import HealthEndpoints
from kernel.metrics import Metrics
from tests.conftest import ADMIN_DSN


@pytest.fixture
async def blank_pool() -> AsyncIterator[asyncpg.Pool]:
    """A fresh database on the shared server that no migration has touched yet."""
    name = f"aiops_schema_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await asyncpg.create_pool(ADMIN_DSN.rpartition("/")[0] + f"/{name}", min_size=1, max_size=2)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def readyz(pool: asyncpg.Pool) -> tuple[int, dict[str, str]]:
    health = HealthEndpoints(checks={"schema": lambda: check_schema(pool)}, metrics=Metrics())
    app = web.Application()
    app.router.add_get("/readyz", health.readyz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/readyz"
        async with aiohttp.ClientSession() as s, s.get(url) as resp:
            return resp.status, await resp.json()
    finally:
        await runner.cleanup()


async def test_unmigrated_database_is_not_ready_until_migrated(blank_pool: asyncpg.Pool) -> None:
    names = [name for name, _ in migration_files()]
    assert await missing_migrations(blank_pool) == names
    status, body = await readyz(blank_pool)
    assert status == 503 and body["status"] == "not ready"
    assert names[0] in body["schema"] and "aiops migrate" in body["schema"]

    stop = asyncio.Event()
    waiting = asyncio.create_task(wait_ready(lambda: check_schema(blank_pool), stop, every_s=0.05))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the worker takes no job yet
    async with blank_pool.acquire() as conn:
        await migrate(conn)
    assert await asyncio.wait_for(waiting, timeout=10) is True
    assert await missing_migrations(blank_pool) == []
    await check_schema(blank_pool)
    assert await readyz(blank_pool) == (200, {"status": "ready", "schema": "ok"})


async def test_a_partly_migrated_database_names_the_missing_migration(pg_pool: asyncpg.Pool) -> None:
    last = migration_files()[-1][0]
    async with pg_pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM schema_migrations WHERE name = $1", last)
        with pytest.raises(SchemaBehind, match=last):
            await check_schema(conn)  # type: ignore[arg-type]
        # put it back (the session database is shared by other tests)
        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", last)
