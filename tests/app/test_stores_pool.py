"""The pool releases a connection without asyncpg's reset query (one round trip less on every
PostgreSQL call). That is safe only while nothing of ours leaves session state behind: these
tests hold the two ways we could — the migration's advisory lock and an unfinished transaction."""

from __future__ import annotations

import uuid

import asyncpg

from app.audit.migrate import _LOCK_ID, migrate
from app.stores import create_pg_pool


async def test_the_migration_lock_is_not_left_on_a_pooled_connection(pg_dsn: str) -> None:
    pool = await create_pg_pool(pg_dsn, max_size=1)
    admin = await asyncpg.connect(pg_dsn)
    try:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            await migrate(conn)
        held = await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND objid = $2",
            pid,
            _LOCK_ID,
        )
        assert held == 0
        async with pool.acquire() as conn:  # the same backend again, usable by the next caller
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_ID) is True
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    finally:
        await admin.close()
        await pool.close()


async def test_a_transaction_left_open_is_rolled_back_on_release(pg_dsn: str) -> None:
    table = f"pool_probe_{uuid.uuid4().hex[:8]}"
    pool = await create_pg_pool(pg_dsn, max_size=1)
    try:
        await pool.execute(f"CREATE TABLE {table} (a int)")
        async with pool.acquire() as conn:  # e.g. a task cancelled between BEGIN and COMMIT
            await conn.execute("BEGIN")
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await pool.close()


async def test_a_failed_migration_ends_its_session_and_so_its_lock(pg_dsn: str, monkeypatch) -> None:
    """A migration that fails (or is cancelled mid-statement) cannot always unlock: its connection
    is closed instead, so no pooled connection goes on holding the migration lock."""
    import app.audit.migrate as m

    monkeypatch.setattr(m, "migration_files", lambda: [("999_broken.sql", "SELEC nothing")])
    pool = await create_pg_pool(pg_dsn, max_size=1)
    admin = await asyncpg.connect(pg_dsn)
    try:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            try:
                await migrate(conn)
            except asyncpg.PostgresSyntaxError:
                pass
        held = await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND objid = $2",
            pid,
            _LOCK_ID,
        )
        assert held == 0
        async with pool.acquire() as conn:  # the pool replaced it: a new session, free to lock
            assert await conn.fetchval("SELECT pg_backend_pid()") != pid
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_ID) is True
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    finally:
        await admin.close()
        await pool.close()
