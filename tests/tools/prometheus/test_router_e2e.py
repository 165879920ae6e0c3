"""The Prometheus tools behind the real ToolRouter, real Prometheus, Postgres audit and Redis
blocklist: what the model finally reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope
from tests.fixtures.prometheus import BIG_LABEL, PrometheusServer
from tests.tools._router_kit import unwrap
from tests.tools.prometheus.scopes import make_scope
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.prometheus.client import PrometheusClient
from tools.prometheus.tools import PrometheusAlertsTool, PrometheusQueryTool, PrometheusRangeQueryTool
from tools.router import ToolRouter
from tools.sanitize import MARKER_INJECTION

pytestmark = pytest.mark.prometheus

VIEWER_A = make_scope("viewer", namespaces={"team-a"})


@pytest.fixture
async def router(
    prometheus_server: PrometheusServer,
    audit_log: PostgresAuditLog,
    pg_pool: asyncpg.Pool,
    redis_prefix: str,
) -> AsyncIterator[ToolRouter]:
    client = PrometheusClient(url=prometheus_server.url)
    try:
        yield ToolRouter(
            tools=[
                PrometheusQueryTool(client=client),
                PrometheusRangeQueryTool(client=client),
                PrometheusAlertsTool(client=client),
            ],
            audit=audit_log,
            metrics=Metrics(),
            blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
        )
    finally:
        client.close()


def new_ctx(scope: EffectiveScope) -> ToolContext:
    return ToolContext(scope=scope, job_id="job-1", session_id=f"s-{uuid.uuid4().hex}")


async def call(router: ToolRouter, name: str, args: dict[str, Any], ctx: ToolContext) -> Any:
    outcome = await router.invoke(name, args, ctx, tool_use_id="tu-1")
    assert not outcome.is_error, outcome.content[:500]
    return unwrap(outcome.content)[2], outcome


async def test_big_and_hostile_labels_reach_the_model_capped_and_flagged(
    router: ToolRouter, pg_pool: asyncpg.Pool
) -> None:
    ctx = new_ctx(VIEWER_A)
    out, outcome = await call(router, "prometheus_query", {"query": "app_info"}, ctx)
    by_pod = {s["labels"]["pod"]: s["labels"] for s in out["series"]}
    assert BIG_LABEL[:200] in by_pod["web-1"]["description"]
    assert len(by_pod["web-1"]["description"]) <= 256
    assert by_pod["evil"]["note"] == MARKER_INJECTION
    assert "IGNORE PREVIOUS" not in outcome.content and "sneaky" not in outcome.content
    rows = await pg_pool.fetch(
        "SELECT event_type, failure_reason, tool_calls FROM audit_events WHERE session_id = $1",
        ctx.session_id,
    )
    kinds = sorted((r["event_type"], r["failure_reason"]) for r in rows)
    assert kinds == [("security", "prompt_injection"), ("tool_call", None)]
    tool_call = next(r for r in rows if r["event_type"] == "tool_call")
    (entry,) = json.loads(tool_call["tool_calls"])
    assert entry["query"] == "app_info" and len(entry["result_hash"]) == 64  # PromQL + hash only
    # and the query actually sent, with the viewer's namespace enforced: what an auditor replays
    assert entry["query_sent"] == out["query_sent"] and 'namespace=~"team-a"' in entry["query_sent"]
    assert "web-1" not in str(tool_call["tool_calls"])  # no metric content in the audit row


async def test_viewer_never_sees_other_namespaces_or_nodes_through_any_tool(
    router: ToolRouter, prometheus_server: PrometheusServer
) -> None:
    ctx = new_ctx(VIEWER_A)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("prometheus_query", {"query": "up or node_load1 or http_requests_total"}),
        ("prometheus_range_query", {"query": "up or node_load1", "start": prometheus_server.start,
                                    "end": prometheus_server.end}),
        ("prometheus_alerts", {}),
    ]
    graphs = 0
    for name, args in calls:
        _, outcome = await call(router, name, args, ctx)
        for other in ("team-b", "kube-system", "node-1", "api-1", "coredns", "NodeLoadHigh", "TeamBDown"):
            assert other not in outcome.content, (name, other)
        graphs += len(outcome.artifacts)
    assert graphs == 1  # the range query's graph


async def test_out_of_scope_alerts_namespace_is_refused_and_audited(
    router: ToolRouter, pg_pool: asyncpg.Pool
) -> None:
    ctx = new_ctx(VIEWER_A)
    outcome = await router.invoke("prometheus_alerts", {"namespace": "kube-system"}, ctx, "tu-2")
    assert outcome.is_error and "outside your scope" in outcome.content
    reason = await pg_pool.fetchval(
        "SELECT failure_reason FROM audit_events WHERE session_id = $1 AND event_type = 'security'",
        ctx.session_id,
    )
    assert reason == "out_of_scope"


async def test_namespace_equality_outside_scope_is_a_security_event(
    router: ToolRouter, pg_pool: asyncpg.Pool
) -> None:
    ctx = new_ctx(VIEWER_A)
    outcome = await router.invoke("prometheus_query", {"query": 'up{namespace="team-b"}'}, ctx, "tu-3")
    assert outcome.is_error and "team-b" in outcome.content
    n = await pg_pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE session_id = $1 AND event_type = 'security'", ctx.session_id
    )
    assert n == 1


async def test_range_output_fits_the_router_budget_and_carries_the_graph(
    router: ToolRouter, prometheus_server: PrometheusServer
) -> None:
    ctx = new_ctx(make_scope("admin"))
    args = {"query": "many_series or up or container_memory_working_set_bytes",
            "start": prometheus_server.start, "end": prometheus_server.end, "step": "15s"}
    out, outcome = await call(router, "prometheus_range_query", args, ctx)
    assert out["truncated"] is True and len(out["series"]) == 20
    assert all(len(s["values"]) <= 100 for s in out["series"])
    assert len(outcome.content) < 60_000
    (art,) = outcome.artifacts
    assert art.content.startswith(b"\x89PNG")
