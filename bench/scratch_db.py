"""A fresh, migrated PostgreSQL database for one bench run, dropped afterwards (DATABASE_URL names
the server, default postgresql://postgres@127.0.0.1:5432/test): the audit log and the blocklist
a routed tool call writes to, as in production."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from app.audit.log import Connect
from app.audit.migrate import migrate
from app.stores import PG_CONNECT_TIMEOUT_S, create_pg_pool


@asynccontextmanager
async def scratch_database(max_size: int = 4) -> AsyncIterator[tuple[asyncpg.Pool, Connect]]:
    """The scratch database's pool, opened as the app opens it, and a way to open a connection
    outside the pool (as `app.stores.Stores.pg_connect`, for the audit gate's own)."""
    admin_dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    db = f"aiops_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{db}"')
    pool = None
    try:
        dsn = admin_dsn.rsplit("/", 1)[0] + f"/{db}"
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        pool = await create_pg_pool(dsn, max_size=max_size)  # as the app opens it
        assert pool is not None
        yield pool, functools.partial(asyncpg.connect, dsn, timeout=PG_CONNECT_TIMEOUT_S)
    finally:
        if pool is not None:
            await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def scratch_pool(max_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
    async with scratch_database(max_size) as (pool, _):
        yield pool
