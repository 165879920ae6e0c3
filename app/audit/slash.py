"""`/aiops audit <id>`: one query's audit row and its tool calls, shown privately to an admin
or to the person who asked — what was asked, the enforced PromQL, namespaces, latency and
tokens; never results (the row only holds their hashes). Everyone else gets a clear refusal,
the same whether or not the id exists (no probing for ids)."""

from __future__ import annotations

import logging
from typing import Protocol

import asyncpg

from app.audit.reading import format_record, parse_id, show
from app.jobs import Job
from kernel.errors import AuthFailure
from kernel.scope import EffectiveScope

log = logging.getLogger(__name__)

COMMAND = "audit"
USAGE = "Usage: `/aiops audit <audit id>` — the id is under every answer."
REFUSED = (
    "You can see audit event `{id}` only if you asked that question or are an admin. "
    "Ask an admin, or check the id under your own answer."
)
UNAVAILABLE = "The audit log is unavailable right now; try again in a minute."


class ScopeSource(Protocol):
    async def scope_for(self, job: Job) -> EffectiveScope: ...


class AuditCommand:
    def __init__(self, *, pool: asyncpg.Pool, identity: ScopeSource) -> None:
        self._pool = pool
        self._identity = identity

    async def __call__(self, job: Job) -> str:
        words = job.text.split()
        event_id = parse_id(words[1]) if len(words) == 2 else None
        if event_id is None:
            return USAGE
        try:
            scope = await self._identity.scope_for(job)  # unknown users are refused and audited there
        except AuthFailure as failure:
            return failure.user_message
        try:
            record = await show(self._pool, event_id)
        except (OSError, asyncpg.PostgresError) as exc:
            log.error("audit command: %s", type(exc).__name__)
            return UNAVAILABLE
        admin = "admin" in scope.identity.roles
        if record is None or not (admin or record.row["user_id"] == scope.user_id):
            return REFUSED.format(id=event_id) if not admin else f"No audit event `{event_id}`."
        return "```\n" + format_record(record) + "\n```"
