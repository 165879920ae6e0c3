"""`POST /api/v1/ask`: a question onto the workers' queue; the answer streams back.

`{"question": "...", "namespace": "shop"?, "stream": true?}`. With `Accept: text/event-stream` (or
`"stream": true`) the answer arrives as Server-Sent Events — `status`, `delta` (Markdown
fragments), then `final` (text, audit_id, evidence) or `error`; otherwise one JSON document once
the answer is complete. The API never runs the model or a tool itself: the job carries the claims
verified here and the worker scopes, answers and audits it like a Slack question. The
`query` row's session is `api:<sub>:<conversation id>`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from app.api_answers import answer_events
from app.identity.claims import is_namespace
from app.jobs import Job
from app.queue import JobQueue
from handlers.api.auth import Authenticator, Principal
from handlers.api.limits import RateLimiter, json_object
from handlers.api.problems import Problem, bad_request, forbidden

MAX_QUESTION_CHARS = 4000


class AskEndpoint:
    def __init__(
        self,
        *,
        auth: Authenticator,
        limiter: RateLimiter,
        queue: JobQueue,
        redis: aioredis.Redis,
        prefix: str,
        answer_timeout_s: float = 300.0,
    ) -> None:
        self._auth = auth
        self._limiter = limiter
        self._queue = queue
        self._redis = redis
        self._prefix = prefix
        self._timeout = answer_timeout_s

    async def ask(self, request: web.Request) -> web.StreamResponse:
        who = await self._auth.principal(request)
        await self._limiter.check(who.sub, "ask")
        body = await json_object(request)
        question, namespace = _question(body), _namespace(body, who)
        conversation = uuid.uuid4().hex
        job = Job(
            job_id=f"api-{conversation}",
            kind="api",
            channel_id=f"api:{who.sub}",
            user_id=who.sub,
            text=question,
            event_ts=conversation,
            claims=who.claims,
            namespace=namespace,
            ip_address=request.remote,
        )
        await self._queue.enqueue(job)
        streaming = body.get("stream") is True or "text/event-stream" in request.headers.get("Accept", "")
        if streaming:
            return await self._sse(request, job, conversation)
        return await self._json(job, conversation)

    async def _sse(self, request: web.Request, job: Job, conversation: str) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        await _send(resp, "conversation", {"conversation_id": conversation, "audit_id": str(job.audit_id)})
        try:
            async for event in answer_events(self._redis, self._prefix, job.job_id, timeout_s=self._timeout):
                await _send(resp, event["type"], event)
        except TimeoutError:
            await _send(
                resp,
                "error",
                {
                    "type": "error",
                    "text": "No answer in time; the question stays queued.",
                    "audit_id": str(job.audit_id),
                },
            )
        await resp.write_eof()
        return resp

    async def _json(self, job: Job, conversation: str) -> web.Response:
        text: list[str] = []
        try:
            async for event in answer_events(self._redis, self._prefix, job.job_id, timeout_s=self._timeout):
                if event["type"] in ("final", "error"):
                    return web.json_response(
                        {
                            "conversation_id": conversation,
                            "status": event["type"],
                            **{k: v for k, v in event.items() if k != "type"},
                        },
                        status=200 if event["type"] == "final" else 502,
                    )
                if event["type"] == "delta":
                    text.append(event["text"])
        except TimeoutError:
            pass
        raise Problem(
            504,
            "Gateway Timeout",
            "No answer in time; the question stays queued.",
            conversation_id=conversation,
            audit_id=str(job.audit_id),
        )


def _question(body: dict[str, Any]) -> str:
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise bad_request("'question' must be a non-empty string.")
    if len(question) > MAX_QUESTION_CHARS:
        raise bad_request(f"'question' is longer than {MAX_QUESTION_CHARS} characters.")
    return question.strip()


def _namespace(body: dict[str, Any], who: Principal) -> str | None:
    namespace = body.get("namespace")
    if namespace is None:
        return None
    if not is_namespace(namespace):
        raise bad_request("'namespace' must be a Kubernetes namespace name.")
    if not who.may_see(str(namespace)):
        raise forbidden(f"You cannot see namespace {namespace}: it is not among your namespaces.")
    return str(namespace)


async def _send(resp: web.StreamResponse, event: str, data: dict[str, Any]) -> None:
    await resp.write(f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode())
