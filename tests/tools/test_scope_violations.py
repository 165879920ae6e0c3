"""`aiops_scope_violations_total{tool,layer}`: what the scope-bypass alert (deploy/base/
prometheusrule.yaml, `increase(...[5m]) > 0`) pages on. Only the router's second layer feeds it
(out-of-scope data that came back from a backend); an ordinary refusal never does. Every tool's
series exists at 0 from the start, so the first catch is an increase Prometheus can see."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from tests.tools._router_kit import AdminTool, ListTool, scope, unwrap
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.router import ToolRouter

VIOLATIONS = "aiops_scope_violations_total"


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def tool() -> ListTool:
    return ListTool()


@pytest.fixture
def router(
    tool: ListTool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
    pg_pool: asyncpg.Pool,
    redis_prefix: str,
) -> ToolRouter:
    blocklist = Blocklist(pool=pg_pool, prefix=redis_prefix)
    return ToolRouter(tools=[tool, AdminTool()], audit=audit_log, metrics=metrics, blocklist=blocklist)


def violations(metrics: Metrics, tool: str) -> float | None:
    return metrics.registry.get_sample_value(VIOLATIONS, {"tool": tool, "layer": "result_filter"})


def ctx() -> ToolContext:
    return ToolContext(scope=scope({"viewer"}, {"shop"}), job_id="j", session_id=f"s-{uuid.uuid4().hex}")


def test_every_tools_series_is_exported_at_zero_before_anything_happens(
    router: ToolRouter, metrics: Metrics
) -> None:
    assert violations(metrics, "fake_list") == 0.0
    assert violations(metrics, "fake_nodes") == 0.0
    text = metrics.render().decode()
    assert 'aiops_scope_violations_total{layer="result_filter",tool="fake_list"} 0.0' in text


async def test_an_ordinary_refusal_is_a_denial_never_a_violation(
    router: ToolRouter, tool: ListTool, metrics: Metrics
) -> None:
    out = await router.invoke("fake_list", {"namespace": "kube-system"}, ctx())
    assert out.is_error and tool.calls == []  # refused before the backend was asked
    assert metrics.registry.get_sample_value("aiops_scope_denials_total", {"tool": "fake_list"}) == 1.0
    assert violations(metrics, "fake_list") == 0.0


async def test_out_of_scope_items_from_the_backend_count_one_violation_per_call(
    router: ToolRouter, tool: ListTool, metrics: Metrics
) -> None:
    tool.output = {"items": [{"name": "a", "namespace": "shop"}, {"name": "b", "namespace": "kube-system"},
                             {"name": "c", "namespace": "payments"}]}
    out = await router.invoke("fake_list", {}, ctx())
    assert [i["name"] for i in unwrap(out.content)[2]["items"]] == ["a"]
    assert violations(metrics, "fake_list") == 1.0
    tool.output = {"items": [{"name": "a", "namespace": "shop"}]}
    await router.invoke("fake_list", {}, ctx())  # clean data: no further count
    assert violations(metrics, "fake_list") == 1.0


async def test_an_out_of_scope_object_withheld_whole_is_a_violation_too(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, redis_prefix: str, metrics: Metrics
) -> None:
    tool = ListTool({"items": [], "namespace": "kube-system"})  # type: ignore[dict-item]
    tool.output_schema = {"type": "object"}  # type: ignore[misc]
    r = ToolRouter(tools=[tool], audit=audit_log, metrics=metrics,
                   blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix))
    out = await r.invoke("fake_list", {}, ctx())
    assert out.is_error
    assert violations(metrics, "fake_list") == 1.0
