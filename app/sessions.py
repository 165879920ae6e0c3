"""Thread sessions: the conversation so far, per Slack thread.

Redis holds the live session (a list keyed by channel + thread_ts) with a 2 h TTL that
every turn refreshes — after two quiet hours it is gone (threat model: "Redis session data
has a 2-hour TTL"). Every turn is also appended to PostgreSQL `conversations`, which is
history for audit/retention, not a way to resurrect an expired session.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis

from app.agent.base import Turn
from kernel.scope import EffectiveScope

SESSION_TTL_S = 7200
MAX_TURNS = 40
"""Older turns fall off; the agent compacts further if the window needs it."""

def scope_tag(scope: EffectiveScope) -> dict[str, Any]:
    """What a turn was allowed to see: namespaces (None = all) and cluster-wide data."""
    ns = None if scope.namespaces is None else sorted(scope.namespaces)
    return {"ns": ns, "cw": scope.cluster_wide}


def scope_within(tag: Any, asker: EffectiveScope) -> bool:
    """Did a turn see nothing the asker may not? A turn without a tag only for unlimited askers."""
    unlimited = asker.namespaces is None and asker.cluster_wide
    if not isinstance(tag, dict):
        return unlimited
    if tag.get("cw") and not asker.cluster_wide:
        return False
    ns = tag.get("ns")
    if ns is None:
        return asker.namespaces is None
    return asker.namespaces is None or set(ns) <= asker.namespaces


_INSERT = (
    "INSERT INTO conversations (session_id, user_id, role, content, audit_id, scope, slack_user_id) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
)


class SessionStore:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        pool: asyncpg.Pool,
        prefix: str,
        ttl_s: int = SESSION_TTL_S,
        max_turns: int = MAX_TURNS,
    ) -> None:
        if not 0 < ttl_s <= SESSION_TTL_S:
            raise ValueError(f"session TTL must be within 1..{SESSION_TTL_S} s")
        self._redis = redis
        self._pool = pool
        self._prefix = prefix
        self.ttl_s = ttl_s
        self._max_turns = max_turns

    def key(self, session_id: str) -> str:
        return f"{self._prefix}:session:{session_id}"

    async def load(self, session_id: str, *, within: EffectiveScope | None = None) -> list[Turn]:
        """The thread's turns; with `within`, only those asked with a scope inside it (a thread
        is shared by people with different scopes: a narrower asker never sees a wider turn)."""
        raw: Any = await self._redis.lrange(self.key(session_id), 0, -1)
        turns: list[Turn] = []
        for item in raw or []:
            data = json.loads(item)
            if within is not None and not scope_within(data.get("scope"), within):
                continue
            turns.append(Turn(role=str(data["role"]), content=str(data["content"])))
        return turns

    async def append(
        self,
        session_id: str,
        *,
        user_id: str,
        turns: list[Turn],
        audit_id: UUID | None,
        scope: dict[str, Any] | None = None,
        slack_user_id: str | None = None,
    ) -> None:
        """Add turns to the live session (refreshing its TTL) and to the history table.
        `scope`: `scope_tag()` of the job that produced them (kept in the table too, so a catch-up
        or postmortem shows each reader only the turns their scope covers); `slack_user_id`: who
        asked (named in catch-ups and postmortems)."""
        if not turns:
            return
        key = self.key(session_id)
        encoded = [json.dumps({"role": t.role, "content": t.content, "scope": scope}) for t in turns]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *encoded)
            pipe.ltrim(key, -self._max_turns, -1)
            pipe.expire(key, self.ttl_s)
            await pipe.execute()
        tag = json.dumps(scope) if scope is not None else None
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                _INSERT,
                [
                    (session_id, user_id, t.role, t.content, audit_id, tag, slack_user_id)
                    for t in turns
                ],
            )
