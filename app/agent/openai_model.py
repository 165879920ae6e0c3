"""Any OpenAI-compatible Chat Completions server (OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM proxy)
behind `ModelClient`, through the official `openai` SDK.

The loop's Anthropic-shaped request is translated here — system blocks → one system message,
`tool_use` blocks → `tool_calls`, `tool_result` blocks → `tool` messages, tools → functions — and
the streamed reply is assembled back into the loop's reply shape, usage included (`cached_tokens`
of the provider's automatic prompt cache become `cache_read_input_tokens`). Tool data stays
inside the same XML data tags: nothing about the router, budget, audit or guards changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import openai

from app.agent.model import JSON, ProviderConnectionError, ProviderStatusError, TextSink

_STOP = {"tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens"}


@dataclass
class Block:
    type: str
    text: str = ""
    id: str = ""
    name: str = ""
    input: JSON = field(default_factory=dict)

    def to_dict(self) -> JSON:
        if self.type == "text":
            return {"type": "text", "text": self.text}
        return {"type": "tool_use", "id": self.id, "name": self.name, "input": self.input}


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass
class Reply:
    content: list[Block]
    stop_reason: str
    usage: Usage


class OpenAIModel:
    provider = "openai"

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        # app.agent.retry is the one policy; a client already so is kept (key rotation sets it)
        self._client = client if client.max_retries == 0 else client.with_options(max_retries=0)

    async def stream(self, params: JSON, on_text: TextSink) -> Reply:
        try:
            return await self._stream(chat_request(params), on_text)
        except openai.APIStatusError as exc:
            status = exc.status_code
            raise ProviderStatusError(status, retry_after=_retry_after(exc), kind=_kind(exc)) from None
        except openai.APIConnectionError as exc:  # APITimeoutError included
            raise ProviderConnectionError(type(exc).__name__) from None

    async def _stream(self, request: JSON, on_text: TextSink) -> Reply:
        text: list[str] = []
        calls: dict[int, JSON] = {}
        finish = "stop"
        usage = Usage()
        body = {k: v for k, v in request.items() if k != "stream"}
        stream = await self._client.chat.completions.create(stream=True, **body)
        async for chunk in stream:
            if chunk.usage is not None:
                usage = _usage(chunk.usage)
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                    await on_text(delta.content)
                for tc in delta.tool_calls or []:
                    slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function is not None:
                        slot["name"] = tc.function.name or slot["name"]
                        slot["arguments"] += tc.function.arguments or ""
                if choice.finish_reason:
                    finish = choice.finish_reason
        blocks = [Block("text", text="".join(text))] if text else []
        blocks += [_tool_block(calls[i]) for i in sorted(calls)]
        return Reply(content=blocks, stop_reason=_STOP.get(finish, "end_turn"), usage=usage)


def chat_request(params: JSON) -> JSON:
    """The loop's Anthropic-shaped parameters as a streaming Chat Completions request."""
    messages: list[JSON] = []
    system = params.get("system")
    if system:
        text = system if isinstance(system, str) else "\n\n".join(b.get("text", "") for b in system)
        messages.append({"role": "system", "content": text})
    for msg in params.get("messages", []):
        messages.extend(_messages(msg))
    request: JSON = {
        "model": params["model"],
        "max_tokens": params.get("max_tokens", 4096),
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    tools = params.get("tools")
    if tools:
        request["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t["input_schema"],
                },
            }
            for t in tools
        ]
        if (params.get("tool_choice") or {}).get("type") == "none":
            request["tool_choice"] = "none"
    return request


def _messages(msg: JSON) -> list[JSON]:
    role, content = msg["role"], msg["content"]
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    texts = "\n\n".join(b["text"] for b in content if b.get("type") == "text")
    if role == "assistant":
        out: JSON = {"role": "assistant", "content": texts or None}
        uses = [b for b in content if b.get("type") == "tool_use"]
        if uses:
            out["tool_calls"] = [
                {
                    "id": b["id"],
                    "type": "function",
                    "function": {"name": b["name"], "arguments": json.dumps(b.get("input") or {})},
                }
                for b in uses
            ]
        return [out]
    # user turn: tool results first (they must follow the assistant's tool_calls), then any text
    results = [
        {"role": "tool", "tool_call_id": b["tool_use_id"], "content": _result_text(b)}
        for b in content
        if b.get("type") == "tool_result"
    ]
    return results + ([{"role": "user", "content": texts}] if texts else [])


def _result_text(block: JSON) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        content = "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
    return ("ERROR: " if block.get("is_error") else "") + str(content)


def _tool_block(call: JSON) -> Block:
    try:
        args = json.loads(call["arguments"] or "{}")
    except json.JSONDecodeError:
        args = {"_unparseable_arguments": call["arguments"][:200]}  # the router's schema check refuses it
    return Block(
        "tool_use",
        id=call["id"] or f"call_{call['name']}",
        name=call["name"],
        input=args if isinstance(args, dict) else {"_arguments": args},
    )


def _usage(u: Any) -> Usage:
    details = getattr(u, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    prompt = int(u.prompt_tokens or 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(u.completion_tokens or 0),
        cache_read_input_tokens=cached,
    )


def _retry_after(exc: openai.APIStatusError) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = exc.response.headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def _kind(exc: openai.APIStatusError) -> str | None:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    kind = err.get("type") or err.get("code")
    return str(kind) if kind else None
