"""The tool-use loop for one job (any provider behind `app.agent.model.ModelClient`).

Each round: compact if needed → one streamed model call (retried inside the deadline) → run the
requested tools in parallel through the router (bounded) → feed the results back. It ends when
the model answers without tools, at the round limit (a final round with `tool_choice: none`), or
when the deadline leaves only enough time for that final round — always with an answer, never
with an error. A tool call identical to an earlier one is refused without running it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.agent import texts
from app.agent.base import TokenUsage
from app.agent.budget import TokenBudget, estimate_tokens
from app.agent.evidence import CallRecord, describe_call, number_result
from app.agent.model import ModelClient
from app.agent.prompt import CACHE, render
from app.agent.retry import Deadline, call_with_retry
from kernel.audit import canonical_hash
from kernel.metrics import Metrics
from tools.base import Artifact, ToolContext

JSON = dict[str, Any]
TextSink = Callable[[str], Awaitable[None]]


@dataclass
class LoopResult:
    text: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    tool_calls: list[JSON] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    rounds: int = 0
    stopped: str | None = None
    """None (model finished), "round_limit" or "deadline"."""
    evidence: list[str] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    """Every call the router ran, numbered as the model saw them (`call="N"`): what findings may cite."""
    capped_results: int = 0
    refused_duplicates: int = 0


@dataclass
class LoopConfig:
    model: str
    max_rounds: int = 8
    max_parallel_tools: int = 4
    max_tokens: int = 4096
    attempt_timeout_s: float = 60.0
    final_reserve_s: float = 20.0
    """When less than this is left before the deadline, the next round is the final one."""
    budget: TokenBudget = field(default_factory=TokenBudget)


def usage_of(msg: Any) -> TokenUsage:
    u = msg.usage
    return TokenUsage(
        input_tokens=int(u.input_tokens or 0),
        output_tokens=int(u.output_tokens or 0),
        cache_read_tokens=int(getattr(u, "cache_read_input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(u, "cache_creation_input_tokens", 0) or 0),
    )


def with_tool_cache(tools: list[JSON]) -> list[JSON]:
    """A cache breakpoint after the tool definitions (they precede the system prompt)."""
    if not tools:
        return []
    out = [dict(t) for t in tools]
    out[-1]["cache_control"] = CACHE
    return out


def with_message_cache(messages: list[JSON]) -> list[JSON]:
    """Copy with one moving breakpoint on the newest block: the next round reads all before it."""
    out = list(messages)
    last = copy.deepcopy(out[-1])
    if isinstance(last["content"], str):
        last["content"] = [{"type": "text", "text": last["content"]}]
    last["content"][-1]["cache_control"] = CACHE
    out[-1] = last
    return out


class ToolLoop:
    def __init__(
        self,
        *,
        model: ModelClient,
        router: Any | None,
        metrics: Metrics,
        config: LoopConfig,
    ) -> None:
        self._model = model
        self._router = router
        self._metrics = metrics
        self._cfg = config

    async def run(
        self,
        *,
        system: list[JSON],
        messages: list[JSON],
        tools: list[JSON],
        ctx: ToolContext,
        deadline: Deadline,
        on_text: TextSink,
        on_status: TextSink,
    ) -> LoopResult:
        cfg = self._cfg
        result = LoopResult(text="")
        cached_tools = with_tool_cache(tools)
        fixed_tokens = estimate_tokens(system) + estimate_tokens(tools)
        seen_calls: set[str] = set()
        best_text = ""
        joiner = _Joiner(on_text)
        for round_no in range(1, cfg.max_rounds + 1):
            final = round_no == cfg.max_rounds or deadline.remaining() < cfg.final_reserve_s
            if final and round_no > 1:
                result.stopped = "round_limit" if round_no == cfg.max_rounds else "deadline"
                _add_user_text(messages, render("round_limit"))
            cfg.budget.compact(messages, fixed_tokens)
            params: JSON = {
                "model": cfg.model,
                "max_tokens": cfg.max_tokens,
                "system": system,
                "messages": with_message_cache(messages),
            }
            if cached_tools:
                params["tools"] = cached_tools  # kept on the final round too: the cached prefix stays intact
                if final:
                    params["tool_choice"] = {"type": "none"}
            joiner.next_round()
            msg = await call_with_retry(
                lambda p=params: self._timed_stream(p, joiner),  # type: ignore[misc]
                deadline=deadline,
                attempt_timeout_s=cfg.attempt_timeout_s,
                on_error=lambda status: self._metrics.llm_errors.labels(status=status).inc(),
            )
            result.rounds = round_no
            self._account(result.usage, usage_of(msg))
            text = "".join(b.text for b in msg.content if b.type == "text").strip()
            if text:
                best_text = text
            uses = [b for b in msg.content if b.type == "tool_use"]
            if not uses or msg.stop_reason != "tool_use" or final:
                if uses and result.stopped is None:
                    result.stopped = "round_limit"
                break
            messages.append({"role": "assistant", "content": [_block_dict(b) for b in msg.content]})
            await on_status(texts.tool_status([u.name for u in uses]))
            blocks = await self._run_tools(uses, ctx, deadline, seen_calls, result)
            messages.append({"role": "user", "content": blocks})
            await on_status(texts.STATUS_THINKING)
        result.text = best_text
        return result

    async def _timed_stream(self, params: JSON, on_text: TextSink) -> Any:
        with self._metrics.llm_latency.time():  # one LLM call, start to final message
            return await self._model.stream(params, on_text)

    def _account(self, total: TokenUsage, u: TokenUsage) -> None:
        total.add(u)
        m = self._metrics.llm_tokens
        m.labels(kind="input").inc(u.input_tokens)
        m.labels(kind="output").inc(u.output_tokens)
        m.labels(kind="cache_read").inc(u.cache_read_tokens)
        m.labels(kind="cache_write").inc(u.cache_write_tokens)

    async def _run_tools(
        self, uses: list[Any], ctx: ToolContext, deadline: Deadline, seen: set[str], result: LoopResult
    ) -> list[JSON]:
        sem = asyncio.Semaphore(self._cfg.max_parallel_tools)
        budget = self._cfg.budget

        async def one(use: Any, number: int) -> JSON:
            if not number:
                result.refused_duplicates += 1
                return _result(use.id, render("duplicate_call", name=use.name), True)
            args = dict(use.input or {})
            result.evidence.append(describe_call(use.name, args))
            if self._router is None:
                return _result(use.id, f"Unknown tool `{use.name}`: no tools are available.", True)
            async with sem:
                try:
                    # Tools may not eat the time reserved for the final, tool-less answer round.
                    async with asyncio.timeout(max(0.1, deadline.remaining() - self._cfg.final_reserve_s)):
                        outcome = await self._router.invoke(use.name, args, ctx, use.id)
                except TimeoutError:
                    msg = f"`{use.name}` did not finish before the investigation deadline."
                    return _result(use.id, msg, True)
            result.tool_calls.append(outcome.audit)
            result.artifacts.extend(outcome.artifacts)
            result.calls.append(CallRecord(
                number=number, name=use.name, args=args, content=outcome.content, is_error=outcome.is_error,
                query_sent=_str_or_none(outcome.audit.get("query_sent")),
                graphs=tuple(a.filename for a in outcome.artifacts),
            ))
            content, capped = budget.cap_result(use.name, outcome.content)
            result.capped_results += int(capped)
            return _result(use.id, number_result(content, number), outcome.is_error)

        # Numbers are given in the order the model asked, before anything runs in parallel;
        # a call identical to an earlier one gets none (it is refused).
        numbers: list[int] = []
        for use in uses:
            key = f"{use.name}:{canonical_hash(use.input)}"
            numbers.append(0 if key in seen else len(seen) + 1)
            seen.add(key)
        return list(await asyncio.gather(*(one(u, n) for u, n in zip(uses, numbers, strict=True))))


class _Joiner:
    """Forwards streamed text; separates the text of successive rounds with a blank line."""

    def __init__(self, sink: TextSink) -> None:
        self._sink = sink
        self._any = False
        self._new_round = False

    def next_round(self) -> None:
        self._new_round = True

    async def __call__(self, text: str) -> None:
        if self._new_round and self._any:
            await self._sink("\n\n")
        self._new_round = False
        self._any = True
        await self._sink(text)


def _result(tool_use_id: str, content: str, is_error: bool) -> JSON:
    block: JSON = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _block_dict(block: Any) -> JSON:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return dict(block.to_dict())


def _add_user_text(messages: list[JSON], text: str) -> None:
    last = messages[-1]
    if last["role"] != "user":
        messages.append({"role": "user", "content": text})
        return
    if isinstance(last["content"], str):
        last["content"] = [{"type": "text", "text": last["content"]}]
    last["content"].append({"type": "text", "text": text})
