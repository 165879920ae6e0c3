"""k8s_pod_logs: bounded (≤ 500 lines, ≤ 64 KB and inside the router's budget), trimmed from the
oldest end on whole lines, `previous` and default-container handling."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from kernel.errors import ToolError
from kernel.scope import EffectiveScope
from sim.kubernetes import Scenario
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, scope_for
from tests.tools._router_kit import unwrap
from tests.tools.kubernetes.conftest import RouterFactory, ctx_for
from tools.kubernetes.tools import MAX_LOG_BYTES, K8sPodLogsTool, encoded_size

SHOP = scope_for(("viewer",), ("shop",))


def _scenario_with_log(lines: list[str], *, pod: str = "chatty-0") -> Scenario:
    scenario = Scenario.load("healthy")
    base = next(o for o in scenario.objects if o["metadata"]["name"] == "cart-5b7c9d4f8-qq7rn")
    chatty = copy.deepcopy(base)
    chatty["metadata"]["name"] = pod
    scenario.add(chatty)
    scenario.logs[("shop", pod, "cart", False)] = lines
    return scenario


async def _logs(cluster: SimCluster, scope: EffectiveScope = SHOP, **args: Any) -> dict[str, Any]:
    return await K8sPodLogsTool(client=cluster.client)._invoke({"namespace": "shop", **args}, ctx_for(scope))


async def test_default_tail_is_200_newest_lines(k8s_cluster: ClusterFactory) -> None:
    lines = [f"line {i:05d}" for i in range(1000)]
    cluster = await k8s_cluster(_scenario_with_log(lines))
    out = await _logs(cluster, pod="chatty-0")
    assert out["lines"].split("\n") == lines[-200:]
    assert cluster.sim.requests[-1].query["tailLines"] == "200"


async def test_tail_lines_is_capped_at_500(k8s_cluster: ClusterFactory) -> None:
    lines = [f"l{i}" for i in range(2000)]
    cluster = await k8s_cluster(_scenario_with_log(lines))
    out = await _logs(cluster, pod="chatty-0", tail_lines=5000)  # the router's schema refuses this too
    assert out["lines"].split("\n") == lines[-500:]
    assert cluster.sim.requests[-1].query["tailLines"] == "500"


async def test_big_logs_are_trimmed_from_the_oldest_end_on_line_boundaries(
    k8s_cluster: ClusterFactory,
) -> None:
    lines = [f"{i:05d} " + "x" * 994 for i in range(500)]  # 500 KB
    cluster = await k8s_cluster(_scenario_with_log(lines))
    out = await _logs(cluster, pod="chatty-0", tail_lines=500)
    kept = out["lines"].split("\n")
    assert out["line_count"] == len(kept)
    assert kept and kept[-1] == lines[-1]  # the newest line is always there
    assert kept == lines[-len(kept) :]  # a contiguous suffix of whole lines
    assert sum(len(line.encode()) + 1 for line in kept) <= MAX_LOG_BYTES
    assert encoded_size(out) < 60_000  # inside the router's result cap
    assert out["truncated"] is True and "Trimmed" in out["note"]


async def test_one_enormous_line_is_cut_not_dropped(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster(_scenario_with_log(["start", "y" * 200_000]))
    out = await _logs(cluster, pod="chatty-0")
    assert out["lines"].split("\n")[0] == "start"
    assert out["lines"].split("\n")[1].startswith("yyyy") and out["lines"].split("\n")[1].endswith(
        "[line cut]"
    )
    assert out["truncated"] is True


async def test_previous_instance_logs(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop")
    out = await _logs(cluster, pod="orders-6c9f7d5b8-r4d2k", previous=True, tail_lines=2)
    assert out["previous"] is True and out["container"] == "app"
    assert out["lines"].split("\n")[-1].endswith("FATAL cannot reach database orders-db:5432, exiting")
    assert cluster.sim.requests[-1].query["previous"] == "true"


async def test_previous_without_a_crash_is_a_clear_error(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("healthy")
    with pytest.raises(ToolError, match="previous terminated container"):
        await _logs(cluster, pod="cart-5b7c9d4f8-qq7rn", previous=True)


async def test_multi_container_pod_defaults_to_the_first_container_and_says_so(
    k8s_cluster: ClusterFactory,
) -> None:
    cluster = await k8s_cluster("healthy", live_clock=False)
    out = await _logs(cluster, pod="checkout-7d9f8b6c5-m8ztw")
    assert out["container"] == "app" and "envoy" in out["note"]
    assert out["lines"].split("\n") == ["2026-11-26T08:04:41Z INFO starting checkout service version=1.4.2"]


async def test_missing_pod_names_how_to_find_it(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("healthy")
    with pytest.raises(ToolError, match=re.escape('k8s_list {"kind": "pod", "namespace": "shop"}')):
        await _logs(cluster, pod="nope")


async def test_log_lines_pass_the_router_schema_and_reach_the_model(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("crashloop")
    router = make_router(cluster)
    outcome = await router.invoke(
        "k8s_pod_logs",
        {"namespace": "shop", "pod": "orders-6c9f7d5b8-r4d2k", "previous": True},
        ctx_for(SHOP),
        "tu-1",
    )
    assert not outcome.is_error, outcome.content
    _, _, body = unwrap(outcome.content)
    assert "FATAL cannot reach database" in body["lines"].split("\n")[-1]
    refused = await router.invoke(
        "k8s_pod_logs", {"namespace": "shop", "pod": "x", "tail_lines": 501}, ctx_for(SHOP), "tu-2"
    )
    assert refused.is_error and "tail_lines" in refused.content
