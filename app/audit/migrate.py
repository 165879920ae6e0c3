"""Apply SQL migrations in order, once each, under an advisory lock (idempotent)."""

from __future__ import annotations

from importlib import resources

import asyncpg

from app.audit.roles import check_migrator, ensure_roles

_LOCK_ID = 0x41_49_4F_50  # "AIOP"


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("app.audit") / "migrations"
    files = sorted(
        (p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".sql")
    )
    return files


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Returns the names of the migrations applied by this call."""
    applied: list[str] = []
    await check_migrator(conn)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in migration_files():
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied.append(name)
        await ensure_roles(conn)  # every run: grants cover tables that later migrations add
    except BaseException:
        # Failed or cancelled (then the connection may still be busy and could not even unlock):
        # end the session, and its lock with it. A pooled connection is replaced; the pool does
        # not run a reset query that would release the lock (app/stores.py).
        conn.terminate()
        raise
    await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied
