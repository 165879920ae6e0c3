"""Cited findings (issue 15, item 1), on both providers: scripted model transcripts through the
Anthropic and OpenAI simulators, the real ToolRouter over the Kubernetes simulator and a real
Prometheus, the answer finished into the Slack simulator.

An uncited claim — no reference, a call that was never made, a call that failed, a quote that is
not in the cited result — never reaches Slack as a finding; it is shown as *not verified*."""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.agent.claude import ClaudeAgent
from app.jobs import Job
from app.queue import RedisJobStateStore
from app.slack import strings
from app.slack.reply import ThreadReply
from sim.anthropic import SimReply
from sim.slack import SlackSimulator
from sim.slack.render import blocks_text
from tests.app.agent.helpers import RecordingSurface
from tests.fixtures.kubernetes import scope_for
from tools.base import Tool, ToolContext
from tools.blocklist import Blocklist
from tools.kubernetes.tools import K8sEventsTool, K8sPodLogsTool
from tools.prometheus.client import PrometheusClient
from tools.prometheus.tools import PrometheusRangeQueryTool
from tools.router import ToolRouter

pytestmark = pytest.mark.prometheus
POD = "orders-6c9f7d5b8-r4d2k"
FATAL = "FATAL cannot reach database orders-db:5432, exiting"
QUERY = "sum by (pod) (rate(http_requests_total[5m]))"
PROM_EXTERNAL = "https://prometheus.corp.example"
CITED = "orders exits at start: its database refuses connections"
TRAFFIC = "web-2 serves twice the traffic of web-1"
PARTIAL = "orders has restarted repeatedly"
UNCITED = "UNCITED the node ran out of disk"
INVENTED = "INVENTED a ConfigMap was deleted"
FAKE_QUOTE = "FAKEQUOTE the database password expired"
ERRORED = "ERRORED events show an eviction"
LOGS = ("k8s_pod_logs", {"namespace": "shop", "pod": POD, "previous": True})
RANGE = ("prometheus_range_query", {"query": QUERY, "start": "now-1h", "end": "now"})
MISSING_POD_EVENTS = ("k8s_events", {"namespace": "nope-not-mine"})


def block(doc: dict[str, Any]) -> str:
    return "```findings\n" + json.dumps(doc) + "\n```"


FINDINGS = {
    "findings": [
        {"claim": CITED, "severity": "critical", "confidence": "high",
         "evidence": [{"call": 1, "quote": FATAL}]},
        {"claim": TRAFFIC, "severity": "info", "confidence": "medium", "evidence": [{"call": 2}]},
        {"claim": PARTIAL, "severity": "warning", "confidence": "high", "evidence": [1, "call 9"]},
        {"claim": UNCITED, "severity": "critical", "confidence": "high", "evidence": []},
        {"claim": INVENTED, "severity": "critical", "confidence": "high", "evidence": [{"call": 7}]},
        {"claim": FAKE_QUOTE, "severity": "critical", "confidence": "high",
         "evidence": [{"call": 1, "quote": "password authentication failed"}]},
        {"claim": ERRORED, "severity": "warning", "confidence": "high", "evidence": [{"call": 3}]},
    ],
    "unknown": "why the database refuses connections",
    "next": ["the orders-db pods and their events"],
}


@pytest.fixture
def router(prometheus_url, k8s_cluster, audit_log, metrics, pg_pool, redis_prefix):
    async def build() -> ToolRouter:
        cluster = await k8s_cluster("crashloop")
        prom = PrometheusClient(url=prometheus_url)
        return ToolRouter(
            tools=[K8sPodLogsTool(client=cluster.client), K8sEventsTool(client=cluster.client),
                   PrometheusRangeQueryTool(client=prom)],
            audit=audit_log, metrics=metrics, blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
        )

    return build


async def investigate(
    llm, router, audit_log, metrics, redis_client, redis_prefix, replies, *, role="analyst"
):
    """Run the agent on `replies` and finish the answer into a Slack thread: (answer, Slack message)."""
    llm.sim.script(replies)
    async with SlackSimulator(scopes="all") as slack:
        slack.add_user("U1", "alice")
        slack.add_channel("C1")
        root = slack.post_user_message("C1", "U1", "<@U0AIOPS> why is orders down?").ts
        job = Job(job_id=f"fi-{uuid.uuid4().hex[:8]}", kind="mention", channel_id="C1", user_id="U1",
                  team_id="T0SIM", text="why is orders down?", thread_ts=root)
        reply = ThreadReply(
            client=AsyncWebClient(base_url=slack.base_url, token=slack.bot_token), job=job,
            state=RedisJobStateStore(redis=redis_client, prefix=redis_prefix), thread_ts=root,
            allowed_hosts={"prometheus.corp.example"}, prometheus_url=PROM_EXTERNAL,
        )
        await reply.open()
        agent = ClaudeAgent(provider=llm.model, model="m", router=await router(), audit=audit_log,
                            metrics=metrics)
        answer = await agent.answer(job, scope_for((role,), ("shop", "team-a")), [], reply)
        await reply.finish(answer, audit_id=job.audit_id)
        [msg] = [m for m in slack.bot_replies("C1", root) if m.blocks]
        return answer, msg


def finding_sections(blocks: list[dict[str, Any]]) -> list[str]:
    """The text of the finding blocks (a section with a confidence)."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    return [t for t in texts if "confidence:" in t]


async def test_only_cited_claims_reach_slack_as_findings(
    llm, router, audit_log, metrics, redis_client, redis_prefix
):
    answer, msg = await investigate(
        llm, router, audit_log, metrics, redis_client, redis_prefix,
        [SimReply(text="Looking at the logs and traffic.", tool_uses=[LOGS, RANGE, MISSING_POD_EVENTS]),
         SimReply(text="orders crash-loops because its database is unreachable.\n\n" + block(FINDINGS))],
    )
    # the model saw each result numbered, so it could cite it
    results = llm.tool_results(llm.requests[1])
    assert [r["content"].split(">", 1)[0].split(" call=")[1] for r in results] == ['"1"', '"2"', '"3"']

    report = answer.findings
    assert report is not None
    assert [f.claim for f in report.findings] == [CITED, PARTIAL, TRAFFIC]  # by severity
    assert set(report.unverified) == {UNCITED, INVENTED, FAKE_QUOTE, ERRORED}
    cited, partial, traffic = report.findings
    assert cited.confidence == "high" and cited.evidence[0].quote == FATAL
    assert cited.evidence[0].label == f"logs shop/{POD}"
    assert partial.confidence == "medium" and partial.note  # lost a reference: visibly downgraded
    enforced = traffic.evidence[0].query
    assert enforced and enforced != QUERY and "namespace" in enforced  # the query the router sent
    assert traffic.evidence[0].graph

    sections = finding_sections(msg.blocks)
    assert len(sections) == 3
    shown = blocks_text(msg.blocks)
    for claim in (UNCITED, INVENTED, FAKE_QUOTE, ERRORED):
        assert not any(claim in s for s in sections)
        assert claim in shown.split("Not verified", 1)[1]  # only as "not verified"
        assert claim not in answer.text  # nor in the thread history / API text
    assert "confidence: *high*" in sections[0] and CITED in sections[0]
    assert FATAL in shown and f"{PROM_EXTERNAL}/graph?g0.expr={quote(enforced, safe='')}" in shown
    assert "```findings" not in shown and '"claim"' not in shown
    assert "why the database refuses connections" in shown


async def test_the_raw_block_never_streams(llm, router, audit_log, metrics, redis_client, redis_prefix):
    llm.sim.script([SimReply(tool_uses=[LOGS]), SimReply(
        text="Cause found.\n" + block({"findings": [{"claim": CITED, "evidence": [1]}]}) + "\nDone.",
        chunk_chars=3)])
    agent = ClaudeAgent(
        provider=llm.model, model="m", router=await router(), audit=audit_log, metrics=metrics
    )
    surface = RecordingSurface()
    job = Job(job_id=f"fi-{uuid.uuid4().hex[:8]}", kind="mention", channel_id="C1", user_id="U1", text="?")
    answer = await agent.answer(job, scope_for(("viewer",), ("shop",)), [], surface)
    assert surface.streamed.strip().startswith("Cause found.") and "Done." in surface.streamed
    assert "findings" not in surface.streamed and "claim" not in surface.streamed
    assert answer.findings is not None and [f.claim for f in answer.findings.findings] == [CITED]
    assert answer.findings.findings[0].confidence == "low"  # no confidence given: the lowest


async def test_no_supported_finding_says_what_is_unknown_and_what_next(
    llm, router, audit_log, metrics, redis_client, redis_prefix
):
    answer, msg = await investigate(
        llm, router, audit_log, metrics, redis_client, redis_prefix,
        [SimReply(tool_uses=[LOGS]),
         SimReply(text="I could not find the cause.\n" + block({"findings": [
             {"claim": UNCITED, "severity": "critical", "confidence": "high"}]}))],
    )
    assert answer.findings is not None and not answer.findings.supported
    shown = blocks_text(msg.blocks)
    assert strings.FINDINGS_NONE in shown and "*Unknown:*" in shown and strings.FINDINGS_NEXT in shown
    assert not finding_sections(msg.blocks)


async def test_answer_without_a_block_is_marked_unchecked(
    llm, router, audit_log, metrics, redis_client, redis_prefix
):
    answer, msg = await investigate(
        llm, router, audit_log, metrics, redis_client, redis_prefix,
        [SimReply(tool_uses=[LOGS]), SimReply(text="The database is down.")],
    )
    assert answer.findings is not None and answer.findings.missing
    assert answer.text == "The database is down."
    assert strings.FINDINGS_MISSING in blocks_text(msg.blocks) and not finding_sections(msg.blocks)


async def test_viewer_findings_carry_no_change_commands(
    llm, router, audit_log, metrics, redis_client, redis_prefix
):
    doc = {"findings": [{"claim": CITED, "evidence": [1], "confidence": "high", "severity": "critical"},
                        {"claim": "kubectl rollout restart deployment/orders -n shop", "evidence": [1]}],
           "next": ["kubectl delete pod " + POD, "the orders-db service endpoints"]}
    answer, msg = await investigate(
        llm, router, audit_log, metrics, redis_client, redis_prefix,
        [SimReply(tool_uses=[LOGS]), SimReply(text="Cause found.\n" + block(doc))], role="viewer",
    )
    shown = blocks_text(msg.blocks)
    assert "kubectl" not in shown and "kubectl" not in answer.text
    assert CITED in shown and "the orders-db service endpoints" in shown


class LeakyLogs(Tool):
    """Log lines with a credential in clear, as pods print them."""

    name = "leaky_logs"
    description = "Log lines of a pod."
    input_schema: ClassVar[dict[str, Any]] = {
        "type": "object", "properties": {"namespace": {"type": "string"}}, "additionalProperties": False,
    }
    output_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    long_text_fields = frozenset({"lines"})

    async def _invoke(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        lines = ["INFO start", "ERROR login failed for db_password=hunter2-secret at orders-db", "INFO bye"]
        return {"lines": "\n".join(lines)}


async def test_a_quoted_log_line_is_the_redacted_one(llm, audit_log, metrics, pg_pool, redis_prefix):
    router = ToolRouter(tools=[LeakyLogs()], audit=audit_log, metrics=metrics,
                        blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix))
    doc = {"findings": [
        {"claim": "LEAK quoting the secret",
         "evidence": [{"call": 1, "quote": "db_password=hunter2-secret"}]},
        {"claim": "login fails", "confidence": "high",
         "evidence": [{"call": 1, "quote": "ERROR login failed for db_password=[REDACTED] at orders-db"}]},
    ]}
    llm.sim.script([SimReply(tool_uses=[("leaky_logs", {"namespace": "shop"})]),
                    SimReply(text="Login fails.\n" + block(doc))])
    agent = ClaudeAgent(provider=llm.model, model="m", router=router, audit=audit_log, metrics=metrics)
    job = Job(job_id=f"fi-{uuid.uuid4().hex[:8]}", kind="mention", channel_id="C1", user_id="U1", text="?")
    answer = await agent.answer(job, scope_for(("analyst",), ("shop",)), [], RecordingSurface())
    assert answer.findings is not None
    [kept] = answer.findings.findings
    assert kept.claim == "login fails" and kept.evidence[0].quote and "[REDACTED]" in kept.evidence[0].quote
    assert answer.findings.unverified == ["LEAK quoting the secret"]
    assert "hunter2" not in answer.text
