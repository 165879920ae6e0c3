"""Role guard: viewers never receive recommendations — in the stream or the final message —
even when the model writes them; analysts/admins do, and a `recommendation` event is written."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from app.agent.claude import ClaudeAgent
from app.agent.recommendations import ViewerStreamFilter, split_recommendations
from app.jobs import Job
from app.queue import RedisJobStateStore
from app.slack.reply import ThreadReply
from sim.anthropic import SimReply
from sim.slack import SlackSimulator
from tests.app.agent.helpers import scope_for

MODEL_TEXT = """## Summary
The recommender pod in shop is OOM-killed at its 256Mi limit.

## Findings
- `recommender-84d6f9c7b-h7v2s` restarted 3 times, last state OOMKilled (exit 137).
- `max_over_time(container_memory_working_set_bytes{namespace="shop"}[1h])` peaks at the limit.

## Recommendations
1. Raise the memory limit: `kubectl set resources deploy/recommender -n shop --limits=memory=512Mi`
2. Then watch restarts for an hour.

## Runbooks
- OOMKilled pods runbook
"""


@pytest.fixture
async def slack():
    async with SlackSimulator(scopes="all") as sim:
        sim.add_user("U1", "alice")
        sim.add_channel("C1")
        yield sim


async def run_job(
    role, slack, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix
):
    anthropic_sim.script([SimReply(text=MODEL_TEXT, chunk_chars=9)])
    root = slack.post_user_message("C1", "U1", "<@U0AIOPS> why does recommender restart?").ts
    job = Job(
        job_id=f"ev-{uuid.uuid4().hex[:8]}",
        kind="mention",
        channel_id="C1",
        user_id="U1",
        team_id="T0SIM",
        text="why does recommender restart?",
        thread_ts=root,
    )
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    reply = ThreadReply(
        client=client,
        job=job,
        state=RedisJobStateStore(redis=redis_client, prefix=redis_prefix),
        thread_ts=root,
    )
    await reply.open()
    scope = scope_for(role)
    agent = ClaudeAgent(client=anthropic_client, model="m", router=None, audit=audit_log, metrics=metrics)
    answer = await agent.answer(job, scope, [], reply)
    await reply.finish(answer, audit_id=job.audit_id)
    [msg] = slack.bot_replies("C1", root)
    streamed = "".join(c.get("text", "") for c in msg.chunks)
    final = "\n".join(b.get("text", "") for b in msg.blocks if b["type"] == "markdown")
    return answer, scope, job, streamed, final


async def test_viewer_never_sees_recommendations(
    slack, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix, pg_pool
):
    answer, scope, _job, streamed, final = await run_job(
        "viewer", slack, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix
    )
    for shown in (streamed, final, answer.text):
        assert "## Recommendations" not in shown and "kubectl set" not in shown and "512Mi" not in shown
        assert "OOM-killed" in shown and "Runbooks" in shown
    assert answer.recommendations is None
    assert final.endswith("_Recommendations are only shown to analysts and admins._")
    assert "Raise the memory limit" not in final
    n = await pg_pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type='recommendation' AND user_id=$1", scope.user_id
    )
    assert n == 0


@pytest.mark.parametrize("role", ["analyst", "admin"])
async def test_analyst_gets_recommendations_and_event_is_written(
    role, slack, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix, pg_pool
):
    answer, scope, job, streamed, final = await run_job(
        role, slack, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix
    )
    assert "## Recommendations" in final and "kubectl set resources" in final
    assert "## Recommendations" in streamed
    assert answer.recommendations and "512Mi" in answer.recommendations
    rows = await pg_pool.fetch(
        "SELECT session_id, response_hash FROM audit_events"
        " WHERE event_type='recommendation' AND user_id=$1 AND session_id=$2",
        scope.user_id,
        job.session_id,
    )
    assert len(rows) == 1 and rows[0]["session_id"] == job.session_id and len(rows[0]["response_hash"]) == 64


HEADINGS = st.sampled_from(
    [
        "## Recommendations",
        "### Recommended actions",
        "**Next steps**",
        "Remediation:",
        "## 4. Recommendations",
        "*Suggested fix*",
        "# How to fix",
        "## Mitigation",
        "**Action items:**",
        "## What to do",
    ]
)
STEPS = st.lists(
    st.sampled_from(
        [
            "1. Restart it: `kubectl rollout restart deploy/api -n shop`",
            "- scale up the deployment",
            "- Increase the memory limit to 1Gi",
            "2. helm rollback api 3",
            "- kubectl delete pod api-1",
        ]
    ),
    min_size=1,
    max_size=4,
)
FINDINGS = st.lists(
    st.sampled_from(
        [
            "- pod api-1 is CrashLoopBackOff",
            '- `rate(http_requests_total{code=~"5.."}[5m])` is 12/s',
            "The summary line.",
            "",
            "## Findings",
            "## Evidence",
        ]
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(
    before=FINDINGS,
    heading=HEADINGS,
    steps=STEPS,
    after=FINDINGS,
    cuts=st.lists(st.integers(1, 40), max_size=30),
)
def test_viewer_guard_removes_any_remediation_section(before, heading, steps, after, cuts):
    text = "\n".join([*before, heading, *steps, *after])
    body, recs = split_recommendations(text)
    assert recs is not None
    for step in steps:
        assert step not in body
    assert heading not in body
    # streamed in arbitrary chunks, the viewer sees no step either
    f = ViewerStreamFilter()
    out, pos = [], 0
    for c in cuts:
        out.append(f.feed(text[pos : pos + c]))
        pos += c
    out.append(f.feed(text[pos:]))
    out.append(f.flush())
    streamed = "".join(out)
    for step in steps:
        assert step not in streamed
    assert heading not in streamed
