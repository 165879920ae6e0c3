"""An incident thread as the turns the bot took part in (the `conversations` table), filtered to
what one reader may see, plus the evidence its answers read (the `query` audit rows' tool calls).

Every turn carries the scope of the job that produced it (`scope_tag()`); a reader gets a turn only
when that scope lies inside theirs (`app.sessions.scope_within`), exactly as a follow-up question
only gets the history its asker may see. A turn stored before tags existed reaches unlimited
readers only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from app.sessions import scope_within
from kernel.scope import EffectiveScope

MAX_TURNS = 400
"""A thread longer than this is summarised from its newest turns."""


@dataclass(frozen=True)
class ThreadTurn:
    role: str
    """"user" | "assistant"."""
    content: str
    user_id: str
    """Keycloak subject of the asker (for the assistant: of the asker it answered)."""
    slack_user_id: str | None
    at: datetime
    scope: Any
    audit_id: str | None


def session_id(channel_id: str, thread_ts: str) -> str:
    return f"{channel_id}:{thread_ts}"


async def thread_turns(
    pool: asyncpg.Pool, channel_id: str, thread_ts: str, *, reader: EffectiveScope | None
) -> list[ThreadTurn]:
    """The thread's turns in order; with `reader`, only those inside the reader's scope.
    `reader=None` is the thread itself (the postmortem posted into it: its turns are already
    there for everyone in the channel to read)."""
    rows = await pool.fetch(
        "SELECT * FROM (SELECT role, content, user_id, slack_user_id, created_at, scope, audit_id, id "
        "FROM conversations WHERE session_id = $1 ORDER BY id DESC LIMIT $2) t ORDER BY id",
        session_id(channel_id, thread_ts),
        MAX_TURNS,
    )
    turns = [
        ThreadTurn(
            role=r["role"],
            content=r["content"],
            user_id=r["user_id"],
            slack_user_id=r["slack_user_id"],
            at=r["created_at"],
            scope=json.loads(r["scope"]) if isinstance(r["scope"], str) else r["scope"],
            audit_id=str(r["audit_id"]) if r["audit_id"] else None,
        )
        for r in rows
    ]
    if reader is None:
        return turns
    return [t for t in turns if scope_within(t.scope, reader)]


async def evidence_digest(pool: asyncpg.Pool, turns: list[ThreadTurn]) -> list[str]:
    """What the answers read: one line per tool with its call count and the PromQL it ran (the only
    inputs the audit keeps verbatim) — from the `query` rows of the turns given (already filtered)."""
    ids = sorted({t.audit_id for t in turns if t.audit_id and t.role == "assistant"})
    if not ids:
        return []
    rows = await pool.fetch(
        "SELECT tool_calls FROM audit_events WHERE event_type = 'query' AND id = ANY($1::uuid[]) "
        "ORDER BY timestamp",
        ids,
    )
    counts: dict[str, int] = {}
    queries: dict[str, list[str]] = {}
    for row in rows:
        calls = row["tool_calls"]
        calls = json.loads(calls) if isinstance(calls, str) else calls
        for call in calls or []:
            if not isinstance(call, dict):
                continue
            tool = str(call.get("tool", "?"))
            counts[tool] = counts.get(tool, 0) + 1
            q = call.get("query_sent") or call.get("query")  # the enforced PromQL when known
            if isinstance(q, str) and q not in queries.setdefault(tool, []):
                queries[tool].append(q)
    lines = []
    for tool, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        shown = "; ".join(f"`{q}`" for q in queries.get(tool, [])[:3])
        lines.append(f"{tool} x{n}" + (f": {shown}" if shown else ""))
    return lines
