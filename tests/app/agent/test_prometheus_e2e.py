"""Agent + real router + real Prometheus → Slack: a range query's graph is attached to the
thread, the PromQL shows in the evidence line; offline mode lists the scope's firing alerts."""

from __future__ import annotations

import uuid

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.agent.claude import ClaudeAgent
from app.jobs import Job
from app.queue import RedisJobStateStore
from app.slack.reply import ThreadReply
from sim.anthropic import SimReply
from sim.slack import SlackSimulator
from tests.fixtures.kubernetes import scope_for
from tools.blocklist import Blocklist
from tools.prometheus.client import PrometheusClient
from tools.prometheus.tools import PrometheusAlertsTool, PrometheusRangeQueryTool
from tools.router import ToolRouter

pytestmark = pytest.mark.prometheus
QUERY = "sum by (pod) (rate(http_requests_total[5m]))"


@pytest.fixture
def router(prometheus_url, audit_log, metrics, pg_pool, redis_prefix):
    client = PrometheusClient(url=prometheus_url)
    return ToolRouter(
        tools=[PrometheusRangeQueryTool(client=client), PrometheusAlertsTool(client=client)],
        audit=audit_log,
        metrics=metrics,
        blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
    )


async def test_range_query_graph_is_attached_and_query_is_evidence(
    router, anthropic_sim, anthropic_client, audit_log, metrics, redis_client, redis_prefix
):
    anthropic_sim.script(
        [
            SimReply(
                tool_uses=[("prometheus_range_query", {"query": QUERY, "start": "now-1h", "end": "now"})]
            ),
            SimReply(text="## Summary\nweb-2 serves twice the traffic of web-1."),
        ]
    )
    async with SlackSimulator(scopes="all") as slack:
        slack.add_user("U1", "alice")
        slack.add_channel("C1")
        root = slack.post_user_message("C1", "U1", "<@U0AIOPS> traffic in team-a?").ts
        job = Job(
            job_id=f"ev-{uuid.uuid4().hex[:8]}",
            kind="mention",
            channel_id="C1",
            user_id="U1",
            team_id="T0SIM",
            text="traffic in team-a?",
            thread_ts=root,
        )
        reply = ThreadReply(
            client=AsyncWebClient(base_url=slack.base_url, token=slack.bot_token),
            job=job,
            state=RedisJobStateStore(redis=redis_client, prefix=redis_prefix),
            thread_ts=root,
        )
        await reply.open()
        agent = ClaudeAgent(
            client=anthropic_client, model="m", router=router, audit=audit_log, metrics=metrics
        )
        answer = await agent.answer(job, scope_for(("analyst",), ("team-a",)), [], reply)
        await reply.finish(answer, audit_id=job.audit_id)

        files = slack.files_in_thread("C1", root)
        assert len(files) == 1 and files[0].content.startswith(b"\x89PNG")
        [msg] = [m for m in slack.bot_replies("C1", root) if m.blocks]
        evidence = next(b for b in msg.blocks if b["type"] == "context" and "Evidence" in str(b))
        assert "http_requests_total" in evidence["elements"][0]["text"]
    result = anthropic_sim.requests[1]["messages"][-1]["content"][0]["content"]
    assert "team-b" not in result and "web-1" in result


async def test_offline_answer_lists_only_in_scope_firing_alerts(router, audit_log, metrics):
    from tests.app.agent.helpers import RecordingSurface

    agent = ClaudeAgent(client=None, model="m", router=router, audit=audit_log, metrics=metrics)
    job = Job(job_id=uuid.uuid4().hex, kind="mention", channel_id="C1", user_id="U1", text="status?")
    answer = await agent.answer(job, scope_for(("viewer",), ("team-a",)), [], RecordingSurface())
    assert answer.offline and "*Firing alerts*" in answer.text
    assert "TeamAHighErrorRate" in answer.text and "TeamBDown" not in answer.text
    assert "NodeLoadHigh" not in answer.text  # cluster-wide alert, not for a namespaced viewer
    assert "IGNORE PREVIOUS" not in answer.text.upper()  # sanitized by the router before we format it
