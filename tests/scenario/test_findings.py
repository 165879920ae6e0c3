"""Cited findings through the running app (issue 15, item 1): a signed @mention, the production
composition root, the real router over the Kubernetes simulator and a real Prometheus, a scripted
model on either provider — and the thread in the Slack simulator shows each finding with its
confidence and evidence (the quoted log line, the enforced PromQL with a link to the configured
Prometheus), while a claim that cites nothing never appears there as a finding."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from app.slack import strings
from sim.anthropic import SimReply
from sim.openai import OpenAISim
from sim.slack.render import blocks_text
from tests.app.agent.test_offline_focus import CHECKOUT_POD, DECISIVE
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, k8s_cluster  # noqa: F401  (fixture)
from tests.fixtures.prometheus import prometheus_server, prometheus_url  # noqa: F401  (fixtures)
from tests.scenario.conftest import ALICE, CHANNEL, Harness, HarnessFactory, audit_ref
from tests.scenario.test_offline_focus import offline_app  # noqa: F401  (fixture)

CARD = "confidence:"

pytestmark = pytest.mark.prometheus
POD = "orders-6c9f7d5b8-r4d2k"
FATAL = "FATAL cannot reach database orders-db:5432, exiting"
QUERY = "sum by (pod) (rate(http_requests_total[5m]))"
ENFORCED = 'sum by (pod) (rate(http_requests_total{namespace=~"shop"}[5m]))'
PROM_EXTERNAL = "https://prometheus.corp.example"
CITED = "orders exits at start because its database refuses connections"
QUIET = "orders serves no HTTP traffic right now"
UNCITED = "UNCITED the node under orders is out of disk"


@pytest.fixture(params=["anthropic", "openai"])
async def provider(
    request: pytest.FixtureRequest, scenario_env: dict[str, str]
) -> AsyncIterator[dict[str, Any]]:
    """The env for one provider and the simulator to script (None: the scenario's Anthropic sim)."""
    if request.param == "anthropic":
        yield {"env": {}, "sim": None}
        return
    async with OpenAISim() as sim:
        (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "openai_api_key").write_text(sim.api_key + "\n")
        yield {"env": {"AIOPS_LLM_PROVIDER": "openai", "OPENAI_BASE_URL": sim.v1_url, "AIOPS_MODEL": "m"},
               "sim": sim}


async def test_finding_is_shown_with_its_evidence_and_confidence(
    make_harness: HarnessFactory,
    provider: dict[str, Any],
    k8s_cluster: ClusterFactory,  # noqa: F811
    prometheus_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    cluster = await k8s_cluster("crashloop")
    scopes = tmp_path / "channel-scopes.yaml"
    scopes.write_text(json.dumps({CHANNEL: ["shop"]}))  # the enforced query names this namespace
    h = await make_harness(env={
        "KUBECONFIG": str(cluster.kubeconfig), "PROMETHEUS_URL": prometheus_url,
        "AIOPS_PROMETHEUS_EXTERNAL_URL": PROM_EXTERNAL, "AIOPS_CHANNEL_SCOPES": str(scopes),
        **provider["env"],
    })
    model = provider["sim"] or h.anthropic
    findings = {"findings": [
        {"claim": CITED, "severity": "critical", "confidence": "high",
         "evidence": [{"call": 1, "quote": FATAL}]},
        {"claim": QUIET, "severity": "info", "confidence": "medium", "evidence": [{"call": 2}]},
        {"claim": UNCITED, "severity": "critical", "confidence": "high", "evidence": [{"call": 3}]},
    ]}
    model.script([
        SimReply(text="Checking its logs and traffic.", tool_uses=[
            ("k8s_pod_logs", {"namespace": "shop", "pod": POD, "previous": True}),
            ("prometheus_query", {"query": QUERY}),
        ]),
        SimReply(text="orders is crash-looping: its database is unreachable.\n\n```findings\n"
                 + json.dumps(findings) + "\n```"),
    ])
    sent = await h.sender.mention(ALICE, CHANNEL, "why is orders down?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]

    sections = [b["text"]["text"] for b in answer.blocks if b["type"] == "section"]
    cards = [s for s in sections if "confidence:" in s]
    assert len(cards) == 2 and CITED in cards[0] and "confidence: *high*" in cards[0]
    assert QUIET in cards[1] and "confidence: *medium*" in cards[1]
    shown = blocks_text(answer.blocks)
    assert FATAL in shown and f"logs shop/{POD}" in shown  # the quoted log line and the resource
    assert ENFORCED in shown  # the PromQL the router actually sent
    assert f"<{PROM_EXTERNAL}/graph?g0.expr={quote(ENFORCED, safe='')}&g0.tab=0|" in shown
    assert not any(UNCITED in s for s in sections)  # never a finding …
    assert UNCITED in shown.split("Not verified", 1)[1]  # … only listed as not verified
    assert "```findings" not in shown and '"claim"' not in shown and strings.FINDINGS_TITLE in shown

    row = await h.wait_audit_row(audit_ref(answer))
    calls = await h.audit_rows("tool_call", session_id=row["session_id"])
    sent_queries = [e.get("query_sent") for c in calls for e in json.loads(c["tool_calls"])]
    assert len(calls) == 2 and ENFORCED in sent_queries  # the finding shows what the audit recorded

    # a follow-up in the thread: the model's history holds the checked findings, not the uncited claim
    model.script([SimReply(text="It started with the last restart.")])
    root = sent.payload["event"]["ts"]  # type: ignore[index]
    await h.sender.channel_message(ALICE, CHANNEL, "since when?", thread_ts=root)
    await h.slack.wait_for(lambda: len(model.requests) == 3 or None, timeout=20, what="follow-up request")
    history = json.dumps(model.requests[2]["messages"])
    assert CITED in history and FATAL in history and UNCITED not in history


async def test_offline_mode_shows_the_analyzers_findings_the_same_way(
    offline_app: tuple[Harness, SimCluster],  # noqa: F811
) -> None:
    h, _ = offline_app
    sent = await h.sender.mention(ALICE, CHANNEL, "why is checkout crashing?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    cards = [t for b in answer.blocks if b["type"] == "section" and CARD in (t := b["text"]["text"])]
    assert cards and CHECKOUT_POD in cards[0] and "confidence: *high*" in cards[0]
    shown = blocks_text(answer.blocks)
    assert strings.FINDINGS_TITLE_ANALYZERS in shown and DECISIVE in shown and "call 1" in shown
    assert not h.anthropic.requests
