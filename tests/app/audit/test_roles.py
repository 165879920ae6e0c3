"""Item 1: the application role cannot tamper with the audit log (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from app.retention import purge_conversations
from kernel.audit import AuditEvent


def as_role(dsn: str, role: str) -> str:
    scheme, _, rest = dsn.partition("://")
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


@pytest.fixture
async def app_conn(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(as_role(pg_dsn, "aiops_app"))
    try:
        yield conn
    finally:
        await conn.close()


async def _one_row(pg_pool: asyncpg.Pool) -> uuid.UUID:
    log = PostgresAuditLog(pool=pg_pool, agent_version="t")
    return await log.write(AuditEvent(event_type="query", user_id="u1", user_message="hi"))


TAMPER = [
    "UPDATE audit_events SET user_message = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
    "DROP TRIGGER audit_events_no_update_delete ON audit_events",
    "ALTER TABLE audit_events ADD COLUMN x int",
    "ALTER TABLE audit_events OWNER TO aiops_app",
    "DROP TABLE audit_events",
    "INSERT INTO audit_events (event_type, user_id, agent_version, timestamp) "
    "VALUES ('query', 'u', 'v', now() - interval '400 days')",
]


@pytest.mark.parametrize("sql", TAMPER)
async def test_app_role_cannot_tamper(sql: str, app_conn: asyncpg.Connection, pg_pool: asyncpg.Pool) -> None:
    await _one_row(pg_pool)
    before = await pg_pool.fetchval("SELECT count(*) FROM audit_events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute(sql)
    assert await pg_pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_app_role_writes_and_reads_through_the_audit_log(pg_dsn: str) -> None:
    pool = await asyncpg.create_pool(as_role(pg_dsn, "aiops_app"), min_size=1, max_size=1)
    assert pool is not None
    try:
        event_id = await _one_row(pool)
        row = await pool.fetchrow("SELECT user_id, timestamp FROM audit_events WHERE id = $1", event_id)
        assert row is not None and row["user_id"] == "u1"
        # the app still uses its ordinary tables
        await pool.execute(
            "INSERT INTO conversations (session_id, user_id, role, content) VALUES ('s','u','user','x')"
        )
        await pool.execute("DELETE FROM conversations WHERE session_id = 's'")
    finally:
        await pool.close()


async def test_app_does_not_own_the_table(pg_pool: asyncpg.Pool) -> None:
    owner = await pg_pool.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'")
    assert owner not in ("aiops_app", "aiops_retention", "audit_archiver")


async def test_retention_role_purges_conversations_only(pg_dsn: str, pg_pool: asyncpg.Pool) -> None:
    await _one_row(pg_pool)
    await pg_pool.execute(
        "INSERT INTO conversations (session_id, user_id, role, content, created_at) "
        "VALUES ('old','u','user','x', now() - interval '100 days')"
    )
    pool = await asyncpg.create_pool(as_role(pg_dsn, "aiops_retention"), min_size=1, max_size=1)
    assert pool is not None
    try:
        from datetime import timedelta

        assert await purge_conversations(pool, older_than=timedelta(days=90)) >= 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute("SELECT count(*) FROM audit_events")
    finally:
        await pool.close()


async def test_archiver_deletes_only_rows_older_than_90_days(pg_dsn: str, pg_pool: asyncpg.Pool) -> None:
    old, new = uuid.uuid4(), uuid.uuid4()
    await pg_pool.execute(
        "INSERT INTO audit_events (id, event_type, user_id, agent_version, timestamp) VALUES "
        "($1, 'query', 'u', 'v', now() - interval '91 days'),"
        " ($2, 'query', 'u', 'v', now() - interval '89 days')",
        old,
        new,
    )
    conn = await asyncpg.connect(as_role(pg_dsn, "audit_archiver"))
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_events WHERE id = $1", new)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE audit_events SET user_id = 'x' WHERE id = $1", old)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("TRUNCATE audit_events")
        assert await conn.execute("DELETE FROM audit_events WHERE id = $1", old) == "DELETE 1"
    finally:
        await conn.close()
    # nobody else gets that path, not even the owner
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pg_pool.execute("DELETE FROM audit_events WHERE id = $1", new)


async def test_migrate_twice_is_idempotent(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await migrate(conn) == []
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_migrate_refuses_to_run_as_the_app_role(app_conn: asyncpg.Connection) -> None:
    from kernel.errors import ConfigError

    with pytest.raises(ConfigError, match="schema owner"):
        await migrate(app_conn)
