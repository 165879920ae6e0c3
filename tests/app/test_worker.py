# ruff: noqa: F811  (harness fixtures are imported from tests/scenario/conftest.py)
"""Worker behaviour a user notices: retries that still give one answer, Slack 429s honoured,
a clear message when the AI backend fails, poison jobs that stop retrying, no double answers."""

from __future__ import annotations

import asyncio

from app.agent.base import AgentAnswer, AnswerSurface, Turn
from app.jobs import Job
from kernel.scope import EffectiveScope
from tests.scenario.conftest import (  # noqa: F401  (fixtures)
    ALICE,
    AUDIT_REF,
    CHANNEL,
    Harness,
    HarnessFactory,
    anthropic_sim,
    audit_ref,
    make_harness,
    scenario_env,
    secret_values,
    slack_sim,
    visible,
)


async def wait_no_pending(h: Harness, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while await h.runtime.queue.pending_count() or await h.redis.xlen(h.runtime.queue.stream):
        assert asyncio.get_running_loop().time() < deadline, "jobs still pending"
        await asyncio.sleep(0.05)


async def test_slack_errors_are_retried_until_one_answer(make_harness: HarnessFactory) -> None:
    h = await make_harness(claim_idle_ms=300)
    for method in ("chat.startStream", "chat.postMessage"):
        h.slack.fail_next(method, status=200, error="fatal_error", times=2)
    sent = await h.sender.mention(ALICE, CHANNEL, "retry me")
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    answer = await h.wait_answer(CHANNEL, root_ts, timeout=30)
    await wait_no_pending(h)
    assert len(h.slack.bot_replies(CHANNEL, root_ts)) == 1
    assert (await h.wait_audit_row(audit_ref(answer)))["failure_reason"] is None


async def test_slack_429_retry_after_is_honoured(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    h.slack.fail_next("chat.update", status=429, retry_after=1)
    h.slack.fail_next("chat.stopStream", status=429, retry_after=1)
    sent = await h.sender.mention(ALICE, CHANNEL, "rate limited?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"], timeout=30)  # type: ignore[index]
    limited = [c for c in h.slack.calls if c.status == 429]
    assert limited, "the simulator answered 429 at least once"
    later = [c for c in h.slack.calls if c.method == limited[0].method and c.at >= limited[0].at + 0.9]
    assert later and later[0].ok  # the same call, retried after Retry-After, succeeded
    assert "rate limited?" in visible(answer)


async def test_poison_job_stops_retrying_with_an_audit_row(make_harness: HarnessFactory) -> None:
    h = await make_harness(claim_idle_ms=200, max_deliveries=2)
    for method in ("chat.startStream", "chat.postMessage"):
        h.slack.fail_next(method, status=200, error="fatal_error", times=1000)
    sent = await h.sender.mention(ALICE, CHANNEL, "poison")
    job_id = sent.payload["event_id"]  # type: ignore[index]
    await wait_no_pending(h)
    audit_id = str(
        Job(job_id=job_id, kind="mention", channel_id=CHANNEL, user_id=ALICE, text="").audit_id
    )
    row = await h.wait_audit_row(audit_id)
    assert row["failure_reason"] == "poison_job"
    assert row["user_message"] == "poison"


class BrokenAgent:
    """An Agent whose backend always fails (the real agent turns API errors into offline answers)."""

    def __init__(self) -> None:
        self.calls = 0

    async def answer(
        self, job: Job, scope: EffectiveScope, history: list[Turn], surface: AnswerSurface
    ) -> AgentAnswer:
        self.calls += 1
        raise RuntimeError("backend exploded")


async def test_agent_failure_tells_the_user_and_is_audited_once(make_harness: HarnessFactory) -> None:
    agent = BrokenAgent()
    h = await make_harness(agent=agent)
    sent = await h.sender.mention(ALICE, CHANNEL, "will this fail?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    assert "could not finish" in visible(answer)
    row = await h.wait_audit_row(audit_ref(answer))
    assert row["failure_reason"] == "agent_error"
    assert "backend exploded" not in visible(answer)
    await wait_no_pending(h)
    assert agent.calls == 1


async def test_an_already_answered_job_is_not_answered_again(make_harness: HarnessFactory) -> None:
    h = await make_harness(workers=0)
    job = Job(
        job_id="EvDONE",
        kind="mention",
        channel_id=CHANNEL,
        user_id=ALICE,
        text="done before",
        event_ts="1.0",
    )
    # a previous delivery answered, then died before writing the audit row and acking
    await h.runtime.states.update(
        job.job_id,
        answered=True,
        message_ts="1.1",
        thread_ts="1.0",
        user_id="kc-alice",
        response_hash="ab" * 32,
        latency_ms=5,
        token_count=9,
    )
    assert await h.runtime.queue.enqueue(job)
    h.start_worker(claim_idle_ms=1000)
    row = await h.wait_audit_row(str(job.audit_id))
    await wait_no_pending(h)
    assert row["response_hash"] == "ab" * 32 and row["token_count"] == 9
    assert h.anthropic.requests == []
    assert h.slack.messages(CHANNEL) == []
