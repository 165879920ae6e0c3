"""Database roles and grants (BRIEF §3, wave 2), applied by every `aiops migrate`.

Roles are global to a PostgreSQL server; grants are per database. So: create a role only
when it is missing (tolerating a concurrent creator), then (re)grant in this database — every
run, so tables added by later migrations are covered. The migrating role owns the tables;
the app must never own `audit_events` (an owner can disable its triggers).

    aiops_app        everything on ordinary tables; audit_events: SELECT + INSERT (no timestamp
                     column: the database stamps it), never UPDATE/DELETE/TRUNCATE/ALTER
    aiops_retention  SELECT + DELETE on the tables `aiops retention run` purges
    audit_archiver   SELECT on audit_events, the trigger-limited DELETE, INSERT of `retention`
                     events, and the export/verify bookkeeping tables
"""

from __future__ import annotations

import asyncpg

from kernel.errors import ConfigError

APP, RETENTION, ARCHIVER = "aiops_app", "aiops_retention", "audit_archiver"
ROLES = (APP, RETENTION, ARCHIVER)

# Columns a role may set on insert; `timestamp` is missing on purpose (no back-dating).
INSERT_COLUMNS = (
    "id, event_type, user_id, session_id, agent_version, user_message, tool_calls, response_hash, "
    "namespace, ip_address, failure_reason, latency_ms, token_count"
)

_CREATE = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        BEGIN
            CREATE ROLE {role} LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- another database won
        END;
    END IF;
END $$;
"""

GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {APP}, {RETENTION}, {ARCHIVER};

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP};

REVOKE ALL ON audit_events FROM PUBLIC, {APP}, {RETENTION}, {ARCHIVER};
GRANT SELECT ON audit_events TO {APP}, {ARCHIVER};
GRANT INSERT ({INSERT_COLUMNS}) ON audit_events TO {APP}, {ARCHIVER};
GRANT DELETE ON audit_events TO {ARCHIVER};

REVOKE UPDATE, DELETE, TRUNCATE ON feedback FROM {APP};
REVOKE ALL ON schema_migrations FROM {APP};
GRANT SELECT ON schema_migrations TO {APP};
REVOKE ALL ON audit_exports, audit_verify_runs FROM {APP};
GRANT SELECT ON audit_exports, audit_verify_runs TO {APP};
GRANT SELECT, INSERT, UPDATE ON audit_exports, audit_verify_runs TO {ARCHIVER};
GRANT USAGE, SELECT ON SEQUENCE audit_verify_runs_id_seq TO {ARCHIVER};

GRANT SELECT, DELETE ON conversations TO {RETENTION};
GRANT SELECT, DELETE ON incidents TO {RETENTION};
GRANT SELECT, DELETE ON change_records TO {RETENTION};
GRANT SELECT, DELETE ON team_notes TO {RETENTION};  -- `aiops retention run` purges the notes as well
REVOKE ALL ON task_runs FROM {APP};
GRANT SELECT ON task_runs TO {APP};
GRANT SELECT, INSERT, UPDATE ON task_runs TO {RETENTION}, {ARCHIVER};
"""  # noqa: S608 (constant role names, no input)


async def check_migrator(conn: asyncpg.Connection) -> None:
    """Migrations run as the schema owner: never as one of the restricted roles."""
    me = await conn.fetchval("SELECT current_user")
    if me in ROLES:
        raise ConfigError("DATABASE_URL", f"aiops migrate must run as the schema owner, not {me}")


async def ensure_roles(conn: asyncpg.Connection) -> list[str]:
    """Create missing roles, then grant. Returns the roles created by this call."""
    me = await conn.fetchrow(
        "SELECT current_user AS name, rolsuper OR rolcreaterole AS can"
        " FROM pg_roles WHERE rolname = current_user"
    )
    assert me is not None
    rows = await conn.fetch("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", list(ROLES))
    existing = {r["rolname"] for r in rows}
    missing = [r for r in ROLES if r not in existing]
    if missing and not me["can"]:
        raise ConfigError(
            "DATABASE_URL",
            f"roles {', '.join(missing)} are missing and {me['name']} cannot create roles: "
            "create them once as described in docs/operations.md",
        )
    for role in missing:
        await conn.execute(_CREATE.format(role=role))
    async with conn.transaction():
        await conn.execute(GRANTS)
    return missing
