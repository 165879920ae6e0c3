"""`ClaudeAgent` — the `Agent` the worker calls: budget check → tool-use loop (or offline mode)
→ role guard on recommendations → usage accounting. It never raises for model trouble: an
unreachable model becomes the offline answer, a round/deadline limit becomes a partial answer.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import anthropic

from app.agent import texts
from app.agent.base import AgentAnswer, AnswerSurface, Turn
from app.agent.budget import TokenBudget
from app.agent.findings import FindingsStreamFilter, answer_findings, to_markdown, unforgeable
from app.agent.loop import LoopConfig, ToolLoop
from app.agent.model import AnthropicModel, ModelClient
from app.agent.offline import OfflineResponder
from app.agent.pause import PauseSwitch
from app.agent.prompt import alert_question, system_blocks, turn_context
from app.agent.recommendations import ViewerStreamFilter, split_recommendations
from app.agent.retry import Deadline, ModelUnavailable
from app.agent.usage import DailyTokenBudget
from app.jobs import Job
from kernel.audit import AuditEvent, AuditSink, sha256_hex
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope
from tools.base import ToolContext

JSON = dict[str, Any]


class NoteSource(Protocol):
    """Team notes for an asker (app.memory.notes.NoteStore): a `<team_notes>` data block or None."""

    async def block_for(self, scope: EffectiveScope) -> str | None: ...


class ClaudeAgent:
    def __init__(
        self,
        *,
        client: anthropic.AsyncAnthropic | None = None,
        model: str,
        provider: ModelClient | None = None,
        router: Any | None,
        audit: AuditSink,
        metrics: Metrics,
        redis: Any | None = None,
        redis_prefix: str = "aiops",
        daily_token_budget: int = 0,
        max_rounds: int = 8,
        deadline_s: float = 120.0,
        max_parallel_tools: int = 4,
        max_tokens: int = 4096,
        budget: TokenBudget | None = None,
        final_reserve_s: float = 20.0,
        notes: NoteSource | None = None,
        pause: PauseSwitch | None = None,
    ) -> None:
        """`provider` (any `ModelClient`) or `client` (an Anthropic client, wrapped); neither (no
        LLM key) → every answer comes from offline mode, which says so."""
        self._model = provider or (AnthropicModel(client) if client is not None else None)
        self._pause = pause
        self._router = router
        self._audit = audit
        self._metrics = metrics
        self._deadline_s = deadline_s
        self._usage = (
            DailyTokenBudget(redis=redis, prefix=redis_prefix, limit=daily_token_budget)
            if redis is not None
            else None
        )
        self._config = LoopConfig(
            model=model,
            max_rounds=max_rounds,
            max_parallel_tools=max_parallel_tools,
            max_tokens=max_tokens,
            final_reserve_s=min(final_reserve_s, deadline_s / 4),
            budget=budget or TokenBudget(),
        )
        self._offline = OfflineResponder(router=router)
        self._notes = notes

    async def answer(
        self, job: Job, scope: EffectiveScope, history: list[Turn], surface: AnswerSurface
    ) -> AgentAnswer:
        if not scope.may_query:
            return AgentAnswer(text=texts.NO_QUERY_ACCESS)
        if self._pause is not None and await self._pause.paused():  # the kill switch: no tool call
            return AgentAnswer(text=texts.TOOLS_PAUSED)
        if self._model is None:  # offline mode spends no model tokens: no budget check
            return await self._offline_answer(job, scope, texts.OFFLINE_REASON_NO_KEY, surface)
        if self._usage is not None and await self._usage.exceeded(scope.user_id):
            return AgentAnswer(text=texts.BUDGET_EXCEEDED.format(budget=self._usage.limit))
        try:
            answer = await self._investigate(job, scope, history, surface)
        except ModelUnavailable as exc:
            reason = texts.OFFLINE_REASON_DOWN.format(detail=str(exc))
            return await self._offline_answer(job, scope, reason, surface)
        return with_findings(await self._guard_recommendations(job, scope, answer))

    async def _investigate(
        self, job: Job, scope: EffectiveScope, history: list[Turn], surface: AnswerSurface
    ) -> AgentAnswer:
        assert self._model is not None
        deadline = Deadline(self._deadline_s)
        await surface.set_status(texts.STATUS_THINKING)
        tools = self._router.catalog(scope) if self._router is not None else []
        messages = build_messages(job, scope, history)
        if self._notes is not None and (block := await self._notes.block_for(scope)):
            messages[-1]["content"].insert(1, {"type": "text", "text": block})  # data, before the question
        ctx = ToolContext(scope=scope, job_id=job.job_id, session_id=job.session_id)
        viewer_filter = None if scope.may_recommend else ViewerStreamFilter()
        block_filter = FindingsStreamFilter()  # the raw findings block never shows while streaming

        async def on_text(chunk: str) -> None:
            out = block_filter.feed(chunk)
            out = viewer_filter.feed(out) if viewer_filter is not None and out else out
            if out:
                await surface.append(out)

        loop = ToolLoop(model=self._model, router=self._router, metrics=self._metrics, config=self._config)
        result = await loop.run(
            system=system_blocks(scope), messages=messages, tools=tools, ctx=ctx, deadline=deadline,
            on_text=on_text, on_status=surface.set_status,
        )
        rest = block_filter.flush()
        if viewer_filter is not None:
            rest = viewer_filter.feed(rest) + viewer_filter.flush()
        if rest:
            await surface.append(rest)
        text, report = answer_findings(result.text, result.calls, may_recommend=scope.may_recommend)
        if not text and (report is None or not report.supported):
            text = texts.EMPTY_ANSWER
        if result.stopped == "round_limit":
            text += "\n\n" + texts.ROUND_LIMIT_NOTE.format(rounds=result.rounds)
        elif result.stopped == "deadline":
            text += "\n\n" + texts.DEADLINE_NOTE
        if self._usage is not None:
            await self._usage.charge(scope.user_id, result.usage.total)
        return AgentAnswer(
            text=text, usage=result.usage, tool_calls=result.tool_calls, artifacts=result.artifacts,
            evidence=result.evidence, findings=report,
        )

    async def _offline_answer(
        self, job: Job, scope: EffectiveScope, reason: str, surface: AnswerSurface
    ) -> AgentAnswer:
        await surface.set_status(texts.STATUS_OFFLINE)
        answer = await self._offline.answer(
            job_id=job.job_id, session_id=job.session_id, scope=scope, reason=reason,
            question=job.text, alert=job.alert,
        )
        # Analyzer output carries no remediation, but the role guard is applied all the same.
        if not scope.may_recommend:  # every form Slack, the history or the API may show
            answer.text = split_recommendations(answer.text)[0]
            if answer.body is not None:
                answer.body = split_recommendations(answer.body)[0]
            if answer.findings is not None and answer.findings.appendix:
                answer.findings.appendix = split_recommendations(answer.findings.appendix)[0] or None
        return answer

    async def _guard_recommendations(
        self, job: Job, scope: EffectiveScope, answer: AgentAnswer
    ) -> AgentAnswer:
        body, recs = split_recommendations(answer.text)
        if not scope.may_recommend:
            # The prompt told the model not to write them; this is the guard.
            only_findings = answer.findings is not None and answer.findings.supported
            answer.text = body or ("" if only_findings else texts.EMPTY_ANSWER)
            if recs:
                answer.text += "\n\n" + texts.VIEWER_REMOVED_NOTE
            answer.recommendations = None
            return answer
        answer.recommendations = recs
        if recs:
            await self._audit.write(
                AuditEvent(
                    event_type="recommendation",
                    user_id=scope.user_id,
                    session_id=job.session_id,
                    response_hash=sha256_hex(recs),
                    namespace=_namespace_of(scope),
                    token_count=answer.usage.total,
                )
            )
        return answer


def with_findings(answer: AgentAnswer) -> AgentAnswer:
    """The checked findings join the answer text as Markdown (thread history, the API, a
    re-shown answer); `body` keeps the prose alone for Slack, which renders them as blocks."""
    report = answer.findings
    if report is None:
        return answer
    answer.body = answer.text
    extra = to_markdown(report)
    answer.text = "\n\n".join(t for t in (unforgeable(answer.text), extra) if t)
    return answer


def _namespace_of(scope: EffectiveScope) -> str | None:
    if scope.namespaces is None:
        return None
    return ",".join(sorted(scope.namespaces)) or None


def build_messages(
    job: Job, scope: EffectiveScope, history: list[Turn], now: float | None = None
) -> list[JSON]:
    """History turns (alternating, user first) + this job's question with the time context."""
    if job.kind == "alert" and job.alert is not None:
        ns = next(iter(sorted(scope.namespaces)), None) if scope.namespaces else None
        question = alert_question(job.alert, ns)
    else:
        question = job.text.strip() or "(empty question)"
    messages: list[JSON] = []
    for turn in history:
        if turn.role not in ("user", "assistant") or not turn.content.strip():
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + turn.content
        else:
            messages.append({"role": turn.role, "content": turn.content})
    if messages and messages[0]["role"] == "assistant":
        messages.insert(0, {"role": "user", "content": "(This thread started with your message below.)"})
    if messages and messages[-1]["role"] == "user" and messages[-1]["content"].strip() == question:
        messages.pop()  # the worker may already have stored this turn
    now_t = time.time() if now is None else now
    content = [{"type": "text", "text": turn_context(now_t)}, {"type": "text", "text": question}]
    if messages and messages[-1]["role"] == "user":
        messages.append({"role": "assistant", "content": "(no answer)"})
    messages.append({"role": "user", "content": content})
    return messages
