"""A job's `query` audit row, built from its job state and written once.

The row's id is the job's audit id (uuid5 of the job id), so a second insert by a reclaimed or
retried delivery is a unique violation: "already written", never a second row.
"""

from __future__ import annotations

import json

import asyncpg

from app.jobs import Job
from kernel.audit import AuditEvent, AuditSink


def query_event(job: Job, raw: dict[str, str]) -> AuditEvent:
    """The `query` row from the job state's audit facts (absent facts stay empty)."""
    return AuditEvent(
        event_type="query",
        id=job.audit_id,
        user_id=raw.get("user_id") or job.user_id,
        session_id=raw.get("session_id"),
        user_message=job.text,
        response_hash=raw.get("response_hash"),
        latency_ms=_int(raw.get("latency_ms")),
        token_count=_int(raw.get("token_count")),
        tool_calls=json.loads(raw["tool_calls"]) if raw.get("tool_calls") else None,
        failure_reason=raw.get("failure_reason"),
    )


async def write_once(audit: AuditSink, event: AuditEvent) -> None:
    try:
        await audit.write(event)
    except asyncpg.UniqueViolationError:
        pass  # a previous delivery of this job already wrote it


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
