"""Reading the audit log back: one query event with its tool calls (`aiops audit show`,
`/aiops audit <id>`), and the recent events (`aiops audit tail`, the seed's incident step
"review audit_events for the prior 24h"). Only what the row holds — which by design never
includes results or answers, only their hashes."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

_COLS = (
    "id, event_type, user_id, session_id, timestamp, agent_version, user_message, tool_calls,"
    " response_hash, namespace, ip_address::text AS ip_address, failure_reason, latency_ms, token_count"
)
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass
class AuditRecord:
    row: dict[str, Any]
    tool_rows: list[dict[str, Any]] = field(default_factory=list)


def parse_since(text: str) -> timedelta:
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"--since: expected a duration like 30m, 24h or 7d, got {text!r}")
    return timedelta(**{_UNITS[m[2]]: int(m[1])})


def parse_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


def _dict(record: asyncpg.Record) -> dict[str, Any]:
    row = dict(record)
    if isinstance(row.get("tool_calls"), str):
        row["tool_calls"] = json.loads(row["tool_calls"])
    return row


async def show(pool: asyncpg.Pool, event_id: uuid.UUID) -> AuditRecord | None:
    """The event and, for a `query`, the `tool_call` rows of the same session written during it."""
    rec = await pool.fetchrow(f"SELECT {_COLS} FROM audit_events WHERE id = $1", event_id)  # noqa: S608
    if rec is None:
        return None
    out = AuditRecord(_dict(rec))
    row = out.row
    if row["event_type"] != "query" or not row["session_id"]:
        return out
    previous = await pool.fetchval(
        "SELECT max(timestamp) FROM audit_events WHERE session_id = $1 AND event_type = 'query'"
        " AND timestamp < $2",
        row["session_id"],
        row["timestamp"],
    )
    tools = await pool.fetch(
        f"SELECT {_COLS} FROM audit_events WHERE session_id = $1 AND event_type = 'tool_call'"  # noqa: S608
        " AND timestamp <= $2 AND ($3::timestamptz IS NULL OR timestamp > $3) ORDER BY timestamp, id",
        row["session_id"],
        row["timestamp"],
        previous,
    )
    out.tool_rows = [_dict(t) for t in tools]
    return out


async def tail(
    pool: asyncpg.Pool, *, since: timedelta, user: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {_COLS} FROM audit_events WHERE timestamp >= now() - $1::interval"  # noqa: S608
        " AND ($2::text IS NULL OR user_id = $2) ORDER BY timestamp DESC, id DESC LIMIT $3",
        since,
        user,
        limit,
    )
    return [_dict(r) for r in reversed(rows)]


def tool_summary(entry: dict[str, Any], row: dict[str, Any] | None = None) -> str:
    """One tool call in one line: name, the enforced PromQL or the resource, namespace, latency."""
    parts = [str(entry.get("tool", "?"))]
    if entry.get("query_sent"):
        parts.append(f"PromQL sent: {entry['query_sent']}")
    for key, value in sorted(entry.items()):
        if key not in ("tool", "query_sent", "inputs_hash", "result_hash") and value not in (None, ""):
            parts.append(f"{key}={value}")
    if row is not None:
        if row.get("namespace"):
            parts.append(f"namespace={row['namespace']}")
        if row.get("latency_ms") is not None:
            parts.append(f"{row['latency_ms']} ms")
    return " · ".join(parts)


def format_record(record: AuditRecord) -> str:
    r = record.row
    lines = [
        f"{r['event_type']} {r['id']} at {_ts(r['timestamp'])} by {r['user_id']}",
        f"  session {r['session_id'] or '-'} · agent {r['agent_version']}",
    ]
    if r.get("user_message"):
        lines.append(f"  question: {r['user_message']}")
    for key in ("namespace", "failure_reason", "latency_ms", "token_count", "response_hash"):
        if r.get(key) is not None:
            lines.append(f"  {key}: {r[key]}")
    for t in record.tool_rows:
        for entry in t.get("tool_calls") or []:
            lines.append(f"  tool call: {tool_summary(entry, t)}")
    if not record.tool_rows and r.get("tool_calls"):
        for entry in r["tool_calls"]:
            lines.append(f"  tool call: {tool_summary(entry)}")
    return "\n".join(lines)


def format_tail(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no audit events in that window"
    out = []
    for r in rows:
        what = r.get("user_message") or r.get("failure_reason") or ""
        if r["event_type"] == "tool_call" and r.get("tool_calls"):
            what = tool_summary(r["tool_calls"][0], r)
        out.append(f"{_ts(r['timestamp'])}  {r['event_type']:<14} {r['user_id']:<24} {r['id']}  {what}"[:300])
    return "\n".join(out)


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")
