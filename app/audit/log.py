"""PostgreSQL audit sink. INSERT only (no RETURNING: an INSERT-only role cannot use it)."""

from __future__ import annotations

import json
from uuid import UUID

import asyncpg

from kernel.audit import AuditEvent

_INSERT = """
INSERT INTO audit_events (id, event_type, user_id, session_id, agent_version, user_message,
    tool_calls, response_hash, namespace, ip_address, failure_reason, latency_ms, token_count)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::inet, $11, $12, $13)
"""


class PostgresAuditLog:
    def __init__(self, *, pool: asyncpg.Pool, agent_version: str) -> None:
        self._pool = pool
        self._agent_version = agent_version

    async def write(self, event: AuditEvent) -> UUID:
        await self._pool.execute(
            _INSERT,
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
        return event.id
