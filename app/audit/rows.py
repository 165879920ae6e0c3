"""One audit row as one export line: PostgreSQL renders it (`json_build_object` keeps the key
order and format it is given — and is twice as fast as building jsonb), so export and verify
produce byte-identical lines for an unchanged row without parsing JSON per row. Order is
(timestamp, id) — stable, and index-backed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

TS_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

_LINE = f"""
json_build_object(
    'id', id::text, 'event_type', event_type, 'user_id', user_id, 'session_id', session_id,
    'timestamp', to_char(timestamp AT TIME ZONE 'UTC', '{TS_FORMAT}'), 'agent_version', agent_version,
    'user_message', user_message, 'tool_calls', tool_calls, 'response_hash', response_hash,
    'namespace', namespace, 'ip_address', ip_address::text, 'failure_reason', failure_reason,
    'latency_ms', latency_ms, 'token_count', token_count
)::text
"""

DAY_ROWS = f"""
SELECT {_LINE} AS line FROM audit_events
WHERE timestamp >= $1 AND timestamp < $2 ORDER BY timestamp, id
"""  # noqa: S608 (constant SQL)

ROWS_BY_ID = f"SELECT id::text AS id, {_LINE} AS line FROM audit_events WHERE id = ANY($1::uuid[])"  # noqa: S608


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class RowKey:
    timestamp: str
    id: str

    @classmethod
    def of(cls, line: str) -> RowKey:
        obj = json.loads(line)
        return cls(str(obj["timestamp"]), str(obj["id"]))


async def day_lines(conn: asyncpg.Connection, day: date, *, prefetch: int = 5000) -> AsyncIterator[str]:
    """The day's rows as export lines, streamed with a server-side cursor (caller holds a
    transaction)."""
    start, end = day_bounds(day)
    async for record in conn.cursor(DAY_ROWS, start, end, prefetch=prefetch):
        yield str(record["line"])
