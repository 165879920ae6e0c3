"""A wire-faithful OpenAI Chat Completions API on 127.0.0.1 (what vLLM, Ollama, LiteLLM and Azure
OpenAI also speak), for tests and benchmarks.

`POST /v1/chat/completions` with `Authorization: Bearer <key>`: JSON or SSE streaming
(`chat.completion.chunk` objects, `data: [DONE]`), tool calls streamed as `delta.tool_calls`
with argument fragments, `finish_reason` `stop` | `tool_calls` | `length`, usage in a last
chunk when `stream_options.include_usage` is set, and OpenAI's error bodies with `retry-after`.
Like the real API it refuses (400) a `tool` message that does not answer a preceding
assistant `tool_calls` id. Automatic prompt caching is simulated as documented: a repeated
prefix of at least 1,024 tokens is reported, in 128-token steps, as `cached_tokens`.

Scripting is the Anthropic simulator's (`SimReply`, `script`, `fail_next`, `handler`), so one
scripted investigation runs on both providers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any

from aiohttp import web

from sim.anthropic import Scripted, SimReply, estimate_tokens
from sim.loopback import LoopbackServer

JSON = dict[str, Any]
CACHE_MIN_TOKENS = 1024
CACHE_STEP = 128
_ERRORS = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


def last_user_text(body: JSON) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user" and isinstance(msg.get("content"), str):
            return str(msg["content"])
    return ""


class OpenAISim(Scripted, LoopbackServer):
    def __init__(self, *, api_key: str = "sk-openai-sim-key", host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.api_key = api_key
        self._init_scripting()
        self._prefixes: set[str] = set()
        self._ids = itertools.count(1)

    @property
    def v1_url(self) -> str:
        return self.base_url.rstrip("/") + "/v1"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    def _error(self, status: int, message: str, retry_after: float | None = None) -> web.Response:
        headers = {"x-request-id": f"req_{next(self._ids)}"}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        body = {
            "error": {
                "message": message,
                "type": _ERRORS.get(status, "server_error"),
                "param": None,
                "code": None,
            }
        }
        return web.json_response(body, status=status, headers=headers)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("authorization", "") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided.")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return self._error(400, "'model' and 'messages' are required properties.")
        if problem := _tool_order_problem(body["messages"]):
            return self._error(400, problem)
        self.requests.append(body)
        if self._failures:
            status, retry_after = self._failures.popleft()
            return self._error(status, f"simulated {_ERRORS.get(status, 'error')}", retry_after)
        reply = await self._next_reply(body)
        completion = self._completion(body, reply)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(request, completion, reply.chunk_chars, include_usage)
        return web.json_response(completion)

    async def _next_reply(self, body: JSON) -> SimReply:
        n = len(body.get("messages") or [])
        default = SimReply(text=f'Simulated answer after {n} message(s). You asked: "{last_user_text(body)}"')
        return await self._scripted(body) or default

    def _usage(self, body: JSON, output: int) -> JSON:
        segs = [*(body.get("tools") or []), *body["messages"]]
        sizes = [estimate_tokens(s) for s in segs]
        running, cached, total = hashlib.sha256(), 0, 0
        for seg, size in zip(segs, sizes, strict=True):
            running.update(json.dumps(seg, sort_keys=True).encode())
            total += size
            digest = running.copy().hexdigest()
            if digest in self._prefixes and total >= CACHE_MIN_TOKENS:
                cached = total - total % CACHE_STEP
            self._prefixes.add(digest)
        prompt = sum(sizes)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "prompt_tokens_details": {"cached_tokens": min(cached, prompt)},
        }
        self.usages.append(usage)
        return usage

    def _completion(self, body: JSON, reply: SimReply) -> JSON:
        text, cut = reply.text, False
        limit = int(body.get("max_tokens") or body.get("max_completion_tokens") or 4096)
        if text and estimate_tokens(text) > limit:
            text, cut = text[: limit * 4], True
        calls = [
            {
                "id": f"call_sim_{next(self._ids):06d}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in reply.tool_uses
        ]
        finish = "length" if cut else "tool_calls" if calls else "stop"
        message: JSON = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        output = estimate_tokens(text) + sum(estimate_tokens(c) for c in calls) or 1
        return {
            "id": f"chatcmpl-sim{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": self._usage(body, output),
        }

    async def _stream(
        self, request: web.Request, done: JSON, chunk: int, include_usage: bool
    ) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {k: done[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

        async def send(delta: JSON, finish: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            data = base | {"choices": [choice]}
            await resp.write(f"data: {json.dumps(data)}\n\n".encode())

        message, finish = done["choices"][0]["message"], done["choices"][0]["finish_reason"]
        await send({"role": "assistant", "content": ""})
        text = message.get("content") or ""
        for pos in range(0, len(text), max(1, chunk)):
            await send({"content": text[pos : pos + chunk]})
        for index, call in enumerate(message.get("tool_calls") or []):
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            await send({"tool_calls": [head]})
            raw = call["function"]["arguments"]
            for pos in range(0, len(raw), 24):
                await send({"tool_calls": [{"index": index, "function": {"arguments": raw[pos : pos + 24]}}]})
        await send({}, finish)
        if include_usage:
            last = base | {"choices": [], "usage": done["usage"]}
            await resp.write(f"data: {json.dumps(last)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def _tool_order_problem(messages: list[JSON]) -> str | None:
    open_ids: set[str] = set()
    for i, msg in enumerate(messages):
        if msg.get("role") == "assistant":
            open_ids = {c["id"] for c in msg.get("tool_calls") or []}
        elif msg.get("role") == "tool":
            if msg.get("tool_call_id") not in open_ids:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    f"message with 'tool_calls'. (messages[{i}])"
                )
        else:
            open_ids = set()
    return None
