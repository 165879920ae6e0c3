"""A wire-faithful Anthropic Messages API on 127.0.0.1, for tests and `aiops demo`.

Speaks `POST /v1/messages` as the real `anthropic` SDK expects it: JSON or SSE
(`message_start`, `content_block_start/delta/stop`, `message_delta`, `message_stop`,
`ping`), error bodies with the API's status codes and `retry-after`, and usage numbers
that include a simulated prompt cache (prefixes up to a `cache_control` breakpoint that
were seen before are reported as `cache_read_input_tokens`).

    async with AnthropicSim() as sim:
        client = AsyncAnthropic(base_url=sim.base_url, api_key=sim.api_key)
        sim.script([SimReply(tool_uses=[("k8s_list", {"kind": "pods"})]), SimReply(text="done")])

Replies come from the FIFO script first, else from `sim.handler(request_json)` (sync or
async), else from a deterministic default that quotes the last user message.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import itertools
import json
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sim.loopback import LoopbackServer

JSON = dict[str, Any]

CACHE_LOOKBACK = 20
"""Block boundaries checked for an earlier cache entry before each breakpoint (API docs: ~20)."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class SimReply:
    """One scripted model turn."""

    text: str = ""
    tool_uses: list[tuple[str, JSON]] = field(default_factory=list)
    stop_reason: str | None = None
    """None → `tool_use` when tool_uses are present, else `end_turn` (or `max_tokens` if cut)."""
    chunk_chars: int = 16
    """Size of each streamed text_delta."""


Handler = Callable[[JSON], "SimReply | JSON | str | Awaitable[SimReply | JSON | str]"]


def estimate_tokens(obj: Any) -> int:
    """~4 characters per token over the JSON form (without cache_control markers)."""
    text = obj if isinstance(obj, str) else json.dumps(_strip_cache(obj), sort_keys=True, ensure_ascii=False)
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _strip_cache(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_cache(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [_strip_cache(v) for v in obj]
    return obj


def _coerce(reply: SimReply | JSON | str) -> SimReply:
    if isinstance(reply, SimReply):
        return reply
    if isinstance(reply, str):
        return SimReply(text=reply)
    return SimReply(
        text=str(reply.get("text", "")),
        tool_uses=[(str(n), dict(i)) for n, i in reply.get("tool_uses", [])],
        stop_reason=reply.get("stop_reason"),
    )


def _segments(body: JSON) -> list[Any]:
    """The prompt in cache order — tools, system, then message content blocks."""
    segs: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    if isinstance(system, str):
        segs.append({"type": "text", "text": system})
    elif isinstance(system, list):
        segs.extend(system)
    for msg in body.get("messages") or []:
        content = msg.get("content")
        if isinstance(content, str):
            segs.append({"role": msg.get("role"), "type": "text", "text": content})
        else:
            segs.extend({"role": msg.get("role"), **blk} for blk in content or [])
    return segs


def last_user_text(body: JSON) -> str:
    """Text of the last user message that has text (tool_result-only turns are skipped)."""
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        if texts:
            return "\n".join(texts)
    return ""


def default_reply(body: JSON) -> SimReply:
    """Deterministic: quotes the last user message and counts the turns it saw."""
    n = len(body.get("messages") or [])
    return SimReply(text=f'Simulated answer after {n} message(s). You asked: "{last_user_text(body)}"')


class Scripted:
    """The scripting both model simulators share: a FIFO script, a handler, failures to inject, and
    the record of every request and usage (benchmarks compare token counts)."""

    def _init_scripting(self) -> None:
        self.requests: list[JSON] = []
        self.usages: list[JSON] = []
        self.handler: Handler | None = None
        self._script: deque[SimReply | JSON | str] = deque()
        self._failures: deque[tuple[int, float | None]] = deque()

    def script(self, replies: Sequence[SimReply | JSON | str]) -> None:
        self._script.extend(replies)

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self._failures.extend([(status, retry_after)] * times)

    async def _scripted(self, body: JSON) -> SimReply | None:
        """The next scripted or handler reply; None when neither has one (use the default)."""
        if self._script:
            return _coerce(self._script.popleft())
        if self.handler is not None:
            out = self.handler(body)
            if inspect.isawaitable(out):
                out = await out
            return _coerce(out)
        return None


class AnthropicSim(Scripted, LoopbackServer):
    def __init__(self, *, api_key: str = "sk-ant-sim-key", host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.api_key = api_key
        self._init_scripting()
        self._hangs = 0
        self._stream_errors: deque[str] = deque()
        self._release = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._cache: set[str] = set()
        self._ids = itertools.count(1)

    # --- scripting -------------------------------------------------------------------------
    def fail_stream_next(self, error_type: str = "overloaded_error", times: int = 1) -> None:
        """The next `times` streamed replies break after `message_start` with an SSE `error`
        event (HTTP status already 200), as the API does when it overloads mid-stream."""
        self._stream_errors.extend([error_type] * times)

    def hang_next(self, times: int = 1) -> None:
        """The next `times` requests never answer until `release()` (or the client gives up)."""
        self._hangs += times
        self._release.clear()

    def release(self) -> None:
        self._hangs = 0
        self._release.set()

    async def wait_requests(self, n: int, within_s: float = 10.0) -> None:
        """Until at least `n` requests have arrived (TimeoutError after `within_s`)."""
        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= n)

    def reset(self) -> None:
        self._script.clear()
        self._failures.clear()
        self._stream_errors.clear()
        self.requests.clear()
        self.usages.clear()
        self._cache.clear()
        self.handler = None
        self.release()

    # --- lifecycle -------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        return app

    async def close(self) -> None:
        self.release()  # a hung request must not hold the server open
        await super().close()

    # --- HTTP ------------------------------------------------------------------------------
    def _error(self, status: int, message: str, retry_after: float | None = None) -> web.Response:
        headers = {"request-id": f"req_sim_{next(self._ids)}"}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        body = {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}
        return web.json_response(body, status=status, headers=headers)

    async def _authorize(self, request: web.Request) -> tuple[JSON | None, web.Response | None]:
        # Older SDKs send `x-api-key`; anthropic >= 2 sends the key as a bearer token.
        bearer = request.headers.get("authorization", "")
        key = request.headers.get("x-api-key") or (bearer[7:] if bearer.lower().startswith("bearer ") else "")
        if key != self.api_key:
            return None, self._error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return None, self._error(400, "anthropic-version: header is required")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, self._error(400, "request body is not valid JSON")
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return None, self._error(400, "model and messages are required")
        return body, None

    async def _count_tokens(self, request: web.Request) -> web.StreamResponse:
        body, err = await self._authorize(request)
        if err is not None or body is None:
            return err or self._error(400, "bad request")
        return web.json_response({"input_tokens": sum(estimate_tokens(s) for s in _segments(body))})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body, err = await self._authorize(request)
        if err is not None or body is None:
            return err or self._error(400, "bad request")
        self.requests.append(body)
        async with self._arrived:
            self._arrived.notify_all()
        if self._failures:
            status, retry_after = self._failures.popleft()
            return self._error(status, f"simulated {_ERROR_TYPES.get(status, 'error')}", retry_after)
        if self._hangs > 0:
            self._hangs -= 1
            await self._release.wait()
        reply = await self._next_reply(body)
        message = self._build_message(body, reply)
        if body.get("stream"):
            return await self._stream(request, message, reply.chunk_chars)
        return web.json_response(message, headers={"request-id": f"req_sim_{next(self._ids)}"})

    async def _next_reply(self, body: JSON) -> SimReply:
        return await self._scripted(body) or default_reply(body)

    # --- message building ------------------------------------------------------------------
    def _usage(self, body: JSON) -> JSON:
        """Input tokens split into cache read / cache write / uncached, like the real API.

        As documented for the API, a cache entry is written for the prefix ending at each
        `cache_control` breakpoint, and a lookup checks each breakpoint and the block boundaries up
        to `CACHE_LOOKBACK` blocks before it, taking the longest prefix seen before.
        """
        segs = _segments(body)
        sizes = [estimate_tokens(s) for s in segs]
        breakpoints = [i for i, s in enumerate(segs) if isinstance(s, dict) and s.get("cache_control")]
        hashes: list[str] = []
        running = hashlib.sha256()
        for seg in segs:
            running.update(json.dumps(_strip_cache(seg), sort_keys=True).encode())
            hashes.append(running.copy().hexdigest())
        candidates = sorted(
            {i for bp in breakpoints for i in range(max(0, bp - CACHE_LOOKBACK), bp + 1)}, reverse=True
        )
        read_upto = next((i for i in candidates if hashes[i] in self._cache), -1)
        last_bp = breakpoints[-1] if breakpoints else -1
        cache_read = sum(sizes[: read_upto + 1])
        cache_write = sum(sizes[read_upto + 1 : last_bp + 1])
        self._cache.update(hashes[i] for i in breakpoints)
        return {
            "input_tokens": sum(sizes[last_bp + 1 :]),
            "output_tokens": 0,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        }

    def _build_message(self, body: JSON, reply: SimReply) -> JSON:
        content: list[JSON] = []
        text = reply.text
        max_tokens = int(body.get("max_tokens") or 4096)
        cut = False
        if text and estimate_tokens(text) > max_tokens:
            text, cut = text[: max_tokens * 4], True
        if text:
            content.append({"type": "text", "text": text})
        for name, tool_input in reply.tool_uses:
            tool_id = f"toolu_sim_{next(self._ids):06d}"
            content.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        stop = reply.stop_reason or ("max_tokens" if cut else "tool_use" if reply.tool_uses else "end_turn")
        usage = self._usage(body)
        usage["output_tokens"] = sum(estimate_tokens(_strip_cache(b)) for b in content) or 1
        self.usages.append(dict(usage))
        return {
            "id": f"msg_sim_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }

    async def _stream(self, request: web.Request, message: JSON, chunk: int) -> web.StreamResponse:
        resp = web.StreamResponse(
            status=200,
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                     "request-id": f"req_sim_{next(self._ids)}"},
        )
        await resp.prepare(request)

        async def send(event: str, data: JSON) -> None:
            await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        await send("message_start", {"type": "message_start", "message": start})
        await send("ping", {"type": "ping"})
        if self._stream_errors:
            kind = self._stream_errors.popleft()
            await send("error", {"type": "error", "error": {"type": kind, "message": f"simulated {kind}"}})
            await resp.write_eof()
            return resp
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                await send("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}})
                text = block["text"]
                for pos in range(0, len(text), max(1, chunk)):
                    delta = {"type": "text_delta", "text": text[pos : pos + chunk]}
                    await send("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": delta})
            else:
                await send("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {**block, "input": {}}})
                raw = json.dumps(block["input"])
                for pos in range(0, len(raw), 24):
                    delta = {"type": "input_json_delta", "partial_json": raw[pos : pos + 24]}
                    await send("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": delta})
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        await send("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": usage,
        })
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        return resp
