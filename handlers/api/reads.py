"""Read endpoints: who am I, my conversations, one investigation, and (admins) the audit trail.

Nothing here returns a raw tool result — the audit log never holds one (only hashes, PromQL
strings, resource types and namespaces). An investigation or audit entry is visible to the user
who asked and to admins; everyone else gets 403 (or 404 when it does not exist).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from handlers.api.auth import Authenticator, Principal
from handlers.api.limits import RateLimiter
from handlers.api.problems import bad_request, forbidden, not_found
from kernel.roles import permissions_for

AUDIT_COLUMNS = (
    "id, event_type, user_id, session_id, timestamp, agent_version, user_message, tool_calls, "
    "response_hash, namespace, host(ip_address) AS ip_address, failure_reason, latency_ms, "
    "token_count"
)
MAX_PAGE = 500


class ReadEndpoints:
    def __init__(self, *, auth: Authenticator, limiter: RateLimiter, pool: asyncpg.Pool) -> None:
        self._auth = auth
        self._limiter = limiter
        self._pool = pool

    async def _who(self, request: web.Request) -> Principal:
        who = await self._auth.principal(request)
        await self._limiter.check(who.sub, "read")
        return who

    async def whoami(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        perms = permissions_for(who.roles)
        return web.json_response(
            {
                "sub": who.sub,
                "username": who.username,
                "roles": sorted(who.roles),
                "namespaces": "all" if who.is_admin else sorted(who.namespaces),
                "may_receive_recommendations": perms.may_recommend,
                "may_run_jobs": perms.may_run_jobs,
            }
        )

    async def conversations(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        rows = await self._pool.fetch(
            "SELECT session_id, min(created_at) AS started, max(created_at) AS updated, "
            "(array_agg(content ORDER BY id) FILTER (WHERE role = 'user'))[1] AS first_question, "
            "array_agg(DISTINCT audit_id) FILTER (WHERE audit_id IS NOT NULL) AS audit_ids "
            "FROM conversations WHERE user_id = $1 GROUP BY session_id ORDER BY updated DESC LIMIT 100",
            who.sub,
        )
        return web.json_response({"conversations": [_jsonable(dict(r)) for r in rows]})

    async def investigation(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        row = await self._visible_query(request, who)
        answer = await self._pool.fetchval(
            "SELECT content FROM conversations WHERE audit_id = $1 AND role = 'assistant' "
            "ORDER BY id LIMIT 1",
            row["id"],
        )
        return web.json_response(
            _jsonable(
                {
                    "id": row["id"],
                    "asked_at": row["timestamp"],
                    "question": row["user_message"],
                    "session_id": row["session_id"],
                    "answer": answer,
                    "answer_retained": answer is not None,
                    "tool_calls": row["tool_calls"],
                    "latency_ms": row["latency_ms"],
                    "token_count": row["token_count"],
                }
            )
        )

    async def audit_entry(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        row = await self._visible_query(request, who)
        calls = await self._pool.fetch(
            f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE event_type = 'tool_call' AND session_id = $1 "  # noqa: S608
            "AND timestamp BETWEEN $2::timestamptz - interval '1 hour' AND $2::timestamptz "
            "ORDER BY timestamp",
            row["session_id"],
            row["timestamp"],
        )
        return web.json_response(_jsonable({"query": row, "tool_calls": list(calls)}))

    async def audit_list(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        if not who.is_admin:
            raise forbidden("Only admins may browse the audit log.")
        where, args = _audit_filters(request.query)
        limit = _int(request.query.get("limit"), 100, "limit")
        if not 1 <= limit <= MAX_PAGE:
            raise bad_request(f"'limit' must be between 1 and {MAX_PAGE}.")
        rows = await self._pool.fetch(
            # only constants and validated values are formatted in; user values are $n parameters
            f"SELECT {AUDIT_COLUMNS} FROM audit_events {where} "  # noqa: S608
            f"ORDER BY timestamp DESC, id LIMIT {limit}",
            *args,
        )
        return web.json_response({"events": [_jsonable(dict(r)) for r in rows]})

    async def audit_verify(self, request: web.Request) -> web.Response:
        who = await self._who(request)
        if not who.is_admin:
            raise forbidden("Only admins may read the audit verification status.")
        row = await self._pool.fetchrow(  # written by every `aiops audit verify` run
            "SELECT started_at, finished_at, from_day, to_day, ok, days_checked, last_verified_day, problems "
            "FROM audit_verify_runs ORDER BY finished_at DESC, id DESC LIMIT 1"
        )
        if row is None:
            raise not_found("No audit verification has run yet ('aiops audit verify').")
        out = _jsonable(dict(row))
        if isinstance(out.get("problems"), str):
            out["problems"] = json.loads(out["problems"])
        return web.json_response(out, dumps=lambda v: json.dumps(v, default=str))

    async def _visible_query(self, request: web.Request, who: Principal) -> asyncpg.Record:
        try:
            audit_id = uuid.UUID(request.match_info["id"])
        except ValueError:
            raise bad_request("The id must be an audit id (a UUID).") from None
        row = await self._pool.fetchrow(
            f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE id = $1 AND event_type = 'query'",  # noqa: S608
            audit_id,
        )
        if row is None:
            raise not_found(f"No question with audit id {audit_id}.")
        if row["user_id"] != who.sub and not who.is_admin:
            raise forbidden("Only the user who asked, or an admin, may read this.")
        return row


def _audit_filters(query: Any) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for param, column in (("user", "user_id"), ("type", "event_type")):
        if value := query.get(param):
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    for param, op in (("since", ">="), ("until", "<")):
        if value := query.get(param):
            try:
                args.append(datetime.fromisoformat(value))
            except ValueError:
                raise bad_request(f"'{param}' must be an ISO 8601 time, e.g. 2026-11-29T00:00:00Z.") from None
            clauses.append(f"timestamp {op} ${len(args)}")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _int(raw: str | None, default: int, name: str) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be an integer.") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, asyncpg.Record):
        value = dict(value)
    if isinstance(value, dict):
        if isinstance(value.get("tool_calls"), str):  # jsonb arrives as text (no codec on the pool)
            value = {**value, "tool_calls": json.loads(value["tool_calls"])}
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
