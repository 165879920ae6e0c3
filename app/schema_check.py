"""Is the database schema the one this build expects? (Worker readiness.)

A worker started before `aiops migrate` ran (a rolling upgrade, a Job still running) must not
take jobs it would fail on: it checks that every migration shipped in this build is recorded
in `schema_migrations`, reports not-ready and waits until it is.
"""

from __future__ import annotations

import asyncpg

from app.audit.migrate import migration_files
from kernel.errors import StoreUnavailable


class SchemaBehind(StoreUnavailable):
    """The database lacks migrations this build needs (`aiops migrate` has not run yet)."""


async def missing_migrations(pool: asyncpg.Pool) -> list[str]:
    """The migrations of this build not yet applied to the database (all of them if none ran)."""
    try:
        rows = await pool.fetch("SELECT name FROM schema_migrations")
    except asyncpg.UndefinedTableError:
        rows = []
    applied = {r["name"] for r in rows}
    return [name for name, _sql in migration_files() if name not in applied]


async def check_schema(pool: asyncpg.Pool) -> None:
    """Readiness check: raises SchemaBehind naming how many migrations are missing."""
    missing = await missing_migrations(pool)
    if missing:
        raise SchemaBehind(
            f"{len(missing)} migration(s) not applied, first {missing[0]}: run `aiops migrate`"
        )
