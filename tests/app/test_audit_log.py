from __future__ import annotations

import asyncpg
import pytest

from app.audit import AuditEvent, sha256_hex
from app.audit.log import PostgresAuditLog


async def test_query_event_is_written_with_hash_only(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool
) -> None:
    answer = "checkout pods are OOMKilled"
    ev = AuditEvent(event_type="query", user_id="kc-sub-1", user_message="why 500s?",
                    response_hash=sha256_hex(answer), latency_ms=12, token_count=300,
                    tool_calls=[{"tool": "prometheus_query", "inputs_hash": "a", "result_hash": "b"}])
    await audit_log.write(ev)
    row = await pg_pool.fetchrow("SELECT * FROM audit_events WHERE id = $1", ev.id)
    assert row is not None
    assert row["agent_version"] == "test-sha"
    assert row["response_hash"] == sha256_hex(answer)
    assert answer not in str(dict(row))


@pytest.mark.parametrize("stmt", [
    "UPDATE audit_events SET user_id = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
])
async def test_audit_rows_are_append_only(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, stmt: str
) -> None:
    await audit_log.write(AuditEvent(event_type="auth_failure", user_id="U1", failure_reason="bad_signature"))
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pg_pool.execute(stmt)
