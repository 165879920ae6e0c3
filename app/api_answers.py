"""Answers to REST API questions travel back from the worker to the API process through Redis.

The worker's `ApiReply` is the `AnswerSurface` of an API job (as `ThreadReply` is for Slack): it
appends `status`, `delta`, `final` and `error` events to a short-lived Redis stream per job. The
API process reads them with `answer_events()` and forwards them as Server-Sent Events (or waits for
the `final` one). A reclaimed job appends its events again; readers stop at the first terminal one.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from app.agent.base import AgentAnswer
from app.jobs import Job

ANSWER_TTL_S = 3600
TERMINAL = frozenset({"final", "error"})
MAX_GRAPHS = 4


def answer_key(prefix: str, job_id: str) -> str:
    return f"{prefix}:api:answer:{job_id}"


class ApiReply:
    def __init__(self, *, redis: aioredis.Redis, prefix: str, job: Job) -> None:
        self._redis = redis
        self._key = answer_key(prefix, job.job_id)

    async def _emit(self, event: dict[str, Any]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self._key, {"e": json.dumps(event, separators=(",", ":"))}, maxlen=10_000)
            pipe.expire(self._key, ANSWER_TTL_S)
            await pipe.execute()

    async def open(self) -> None:
        await self._emit({"type": "status", "text": "On it…"})

    async def set_status(self, text: str) -> None:
        await self._emit({"type": "status", "text": text})

    async def append(self, markdown: str) -> None:
        await self._emit({"type": "delta", "text": markdown})

    async def finish(self, answer: AgentAnswer, *, audit_id: Any) -> None:
        await self._emit(
            {
                "type": "final",
                "text": answer.text,
                "audit_id": str(audit_id),
                "offline": answer.offline,
                "evidence": list(answer.evidence),
                "recommendations": answer.recommendations,
                "findings": answer.findings.to_json() if answer.findings is not None else None,
                "graphs": [
                    {"title": a.title, "mime": a.mime, "data": base64.b64encode(a.content).decode()}
                    for a in answer.artifacts[:MAX_GRAPHS]
                    if a.mime == "image/png"
                ],
            }
        )

    async def fail(self, text: str, *, audit_id: Any) -> None:
        await self._emit({"type": "error", "text": text, "audit_id": str(audit_id)})


async def answer_events(
    redis: aioredis.Redis, prefix: str, job_id: str, *, timeout_s: float
) -> AsyncIterator[dict[str, Any]]:
    """The job's events in order until a terminal one; TimeoutError when none comes in time."""
    key, last, deadline = answer_key(prefix, job_id), "0-0", time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        found: Any = await redis.xread({key: last}, count=100, block=max(1, int(min(left, 1.0) * 1000)))
        for _stream, entries in found or []:
            for entry_id, fields in entries:
                last = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                raw = fields.get(b"e") or fields.get("e")
                event: dict[str, Any] = json.loads(raw)
                yield event
                if event["type"] in TERMINAL:
                    return
    raise TimeoutError("no answer in time")
