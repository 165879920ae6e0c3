"""PostgreSQL audit sink. INSERT only (no RETURNING: an INSERT-only role cannot use it)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg

from kernel.audit import AuditEvent

_INSERT = """
INSERT INTO audit_events (id, event_type, user_id, session_id, agent_version, user_message,
    tool_calls, response_hash, namespace, ip_address, failure_reason, latency_ms, token_count)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::inet, $11, $12, $13)
"""

# The tool call's row, written only if every value blocked now under prefix $14 is among the
# digests $15 the router matched the result against (tools/blocklist.py). One statement, one
# snapshot (taken when it starts): the check and the row commit together. Rows come back only
# when nothing was written (the live set, for the router to learn and clean the result again),
# so no RETURNING is needed.
_INSERT_UNLESS_BLOCKED = """
WITH live AS (
    SELECT digest, expires_at FROM blocked_values WHERE prefix = $14 AND expires_at > now()
), unknown AS (
    SELECT 1 FROM live WHERE NOT (digest = ANY($15::text[])) LIMIT 1
), written AS (
    INSERT INTO audit_events (id, event_type, user_id, session_id, agent_version, user_message,
        tool_calls, response_hash, namespace, ip_address, failure_reason, latency_ms, token_count)
    SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::text,
        $9::text, $10::inet, $11::text, $12::int, $13::int
    WHERE NOT EXISTS (SELECT 1 FROM unknown)
)
SELECT digest, extract(epoch FROM expires_at)::float8 AS expires,
    extract(epoch FROM now())::float8 AS db_now
FROM live WHERE EXISTS (SELECT 1 FROM unknown)
"""


class PostgresAuditLog:
    def __init__(self, *, pool: asyncpg.Pool, agent_version: str) -> None:
        self._pool = pool
        self._agent_version = agent_version

    async def write(self, event: AuditEvent) -> UUID:
        await self._pool.execute(_INSERT, *self._row(event))
        return event.id

    async def write_unless_blocked(
        self, event: AuditEvent, *, prefix: str, known: frozenset[str]
    ) -> list[asyncpg.Record] | None:
        rows = await self._pool.fetch(_INSERT_UNLESS_BLOCKED, *self._row(event), prefix, list(known))
        return rows or None

    def _row(self, event: AuditEvent) -> tuple[Any, ...]:
        return (
            event.id,
            event.event_type,
            event.user_id,
            event.session_id,
            self._agent_version,
            event.user_message,
            json.dumps(event.tool_calls) if event.tool_calls is not None else None,
            event.response_hash,
            event.namespace,
            event.ip_address,
            event.failure_reason,
            event.latency_ms,
            event.token_count,
        )
