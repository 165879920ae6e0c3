"""A worker process killed mid-job: another worker reclaims the job and answers it exactly once."""

from __future__ import annotations

import signal

from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, HarnessFactory, audit_ref, visible


async def test_sigkilled_worker_job_is_reclaimed_and_answered_once(make_harness: HarnessFactory) -> None:
    h = await make_harness(workers=0)
    h.anthropic.hang_next(1)  # worker A's model call never returns
    worker_a = h.spawn_cli("worker", "--concurrency", "1", "--claim-idle-ms", "1000")
    try:
        sent = await h.sender.mention(ALICE, CHANNEL, "what is wrong with checkout?")
        root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
        await h.anthropic.wait_requests(1, within_s=30)  # A is inside the agent call
        placeholder = await h.slack.wait_for(lambda: h.slack.bot_replies(CHANNEL, root_ts), timeout=10)
        assert len(placeholder) == 1 and AUDIT_REF not in visible(placeholder[0])
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(timeout=10)
    finally:
        if worker_a.poll() is None:
            worker_a.kill()
            worker_a.wait(timeout=10)

    h.start_worker(claim_idle_ms=1000)  # worker B
    answer = await h.wait_answer(CHANNEL, root_ts, timeout=30)

    replies = h.slack.bot_replies(CHANNEL, root_ts)
    assert [m.ts for m in replies] == [placeholder[0].ts]  # A's placeholder was updated, not re-posted
    opened = h.slack.calls_to("chat.postMessage") + h.slack.calls_to("chat.startStream")
    assert len(opened) == 1  # one message was ever created for this job
    assert len(h.anthropic.requests) == 2
    row = await h.wait_audit_row(audit_ref(answer))
    assert len(await h.audit_rows("query", user_message="what is wrong with checkout?")) == 1
    assert row["user_id"] == "kc-alice"
    reclaimed = h.runtime.metrics.registry.get_sample_value("aiops_jobs_reclaimed_total")
    assert reclaimed == 1.0
