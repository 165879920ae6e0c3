"""PostgreSQL audit sink. INSERT only (no RETURNING: an INSERT-only role cannot use it)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from kernel.audit import AuditEvent

log = logging.getLogger(__name__)

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


Connect = Callable[[], Awaitable[asyncpg.Connection]]


class PostgresAuditLog:
    def __init__(self, *, pool: asyncpg.Pool, agent_version: str, connect: Connect | None = None) -> None:
        """`connect`: a connection of the gate's own for the tool-call rows (see `_Pinned`)."""
        self._pool = pool
        self._agent_version = agent_version
        self._gate = _Pinned(connect) if connect is not None else None

    async def aclose(self) -> None:
        if self._gate is not None:
            await self._gate.aclose()

    async def write(self, event: AuditEvent) -> UUID:
        await self._pool.execute(_INSERT, *self._row(event))
        return event.id

    async def write_unless_blocked(
        self, event: AuditEvent, *, prefix: str, known: frozenset[str]
    ) -> list[asyncpg.Record] | None:
        args = (*self._row(event), prefix, list(known))
        if self._gate is None:
            rows = await self._pool.fetch(_INSERT_UNLESS_BLOCKED, *args)
        else:
            rows = await self._gate.fetch(self._pool, _INSERT_UNLESS_BLOCKED, args)
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


class _Pinned:
    """One connection of the tool-call gate's own, outside the pool: every tool result waits
    for its row, and asyncpg's pool costs about as much again as the statement's own Python
    side on each acquire and release (the release is a shielded task, one more loop turn).
    Only one call uses it at a time; one that finds it busy goes through the pool instead, so
    parallel tool calls never queue behind each other. After any error, a cancellation or a
    statement running past TIMEOUT_S the connection is dropped (its state is unknown) and the
    next call opens a new one; so is one left idle for IDLE_S (a firewall or NAT may have dropped
    it without a word, and a write on it would wait out TCP's retries). A call that cannot open
    one uses the pool, which then decides, as it did before, and so do the calls of the next
    RETRY_S seconds. Once closed it opens none again: later calls use the pool."""

    RETRY_S = 30.0
    IDLE_S = 60.0
    TIMEOUT_S = 10.0

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._used_at = 0.0
        self._retry_at = 0.0
        self._closed = False
        self._busy = False

    async def fetch(self, pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> list[asyncpg.Record]:
        if self._busy:  # another call holds it: the pool, rather than queueing
            rows: list[asyncpg.Record] = await pool.fetch(sql, *args)
            return rows
        self._busy = True
        try:
            conn = await self._connection()
            if conn is None:
                rows = await pool.fetch(sql, *args)
                return rows
            try:
                rows = await conn.fetch(sql, *args, timeout=self.TIMEOUT_S)
            except BaseException:
                self._drop()
                raise
            self._used_at = time.monotonic()
            return rows
        finally:
            self._busy = False

    async def _connection(self) -> asyncpg.Connection | None:
        """The open connection, a new one, or None (the pool's turn)."""
        now = time.monotonic()
        if self._conn is not None and (self._conn.is_closed() or now - self._used_at > self.IDLE_S):
            self._drop()
        if self._conn is not None or self._closed or now < self._retry_at:
            return self._conn
        try:
            conn = await self._connect()
        except Exception as exc:
            log.warning("audit gate connection failed (%s); using the pool", type(exc).__name__)
            self._retry_at = time.monotonic() + self.RETRY_S
            return None
        if self._closed:  # shut down while it was opening
            conn.terminate()
            return None
        self._conn, self._used_at = conn, time.monotonic()
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def aclose(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None and not self._busy:
            try:
                await conn.close(timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()  # a flow that died quietly: shutdown must not wait on it
        elif conn is not None:  # a write in flight: it fails, and its call withholds the result
            conn.terminate()
