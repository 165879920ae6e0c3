"""Analyzers read only the scoped state (namespaced calls for scoped users, nodes for cluster-wide
scopes only) and report firing alerts of the scope."""

from __future__ import annotations

from typing import Any

from kernel.errors import BackendError
from tests.fixtures.kubernetes import ClusterFactory, scope_for
from tools.analyzers.tool import analyze

SHOP = scope_for(("viewer",), ("shop",))
PAYMENTS = scope_for(("viewer",), ("payments",))
ADMIN = scope_for(("admin",), ())
ADMIN_IN_SHOP_CHANNEL = scope_for(("admin",), (), channel_namespaces=("shop",))


async def test_fault_outside_the_scope_is_invisible_and_never_requested(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("restart-burst")  # fault in payments
    findings, _ = await analyze(cluster.client, SHOP)
    assert findings == []
    assert cluster.namespaced_paths() == {"shop"}
    assert cluster.cluster_wide_lists() == []
    assert not any("/nodes" in p for p in cluster.sim.paths())


async def test_fault_inside_the_scope_is_found(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("restart-burst")
    findings, _ = await analyze(cluster.client, PAYMENTS)
    assert [(f.analyzer, f.name) for f in findings] == [("restart_burst", "fraud-scorer-7c6b5d4f9-w8n3j")]
    assert cluster.namespaced_paths() == {"payments"}


async def test_node_findings_only_for_cluster_wide_scopes(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("node-notready")
    assert (await analyze(cluster.client, ADMIN_IN_SHOP_CHANNEL))[0] == []
    assert not any("/nodes" in p for p in cluster.sim.paths())
    assert {f.name for f in (await analyze(cluster.client, ADMIN))[0]} == {"node-b", "node-c"}


async def test_namespace_argument_narrows_an_admin(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop")
    findings, _ = await analyze(cluster.client, ADMIN, "payments")
    assert findings == []
    assert cluster.namespaced_paths() == {"payments"} and cluster.cluster_wide_lists() == []


def alert(
    name: str, severity: str, namespace: str | None = None, state: str = "firing", **labels: str
) -> dict[str, Any]:
    lbl = {"alertname": name, "severity": severity, **labels}
    if namespace:
        lbl["namespace"] = namespace
    return {
        "labels": lbl,
        "annotations": {"summary": f"{name} summary", "runbook_url": "https://runbooks.example/x"},
        "state": state,
        "activeAt": "2026-11-26T09:00:00Z",
        "value": "1e+00",
    }


ALERTS: list[dict[str, Any]] = [
    alert("CheckoutHighErrorRate", "critical", "shop", deployment="checkout"),
    alert("PaymentsLatency", "warning", "payments"),
    alert("NodeDiskFilling", "warning", instance="node-a:9100"),
    alert("CartSlow", "warning", "shop", state="pending"),
    # Alertmanager shape
    {
        "labels": {"alertname": "PodRestarting", "namespace": "shop", "pod": "cart-5b7c9d4f8-qq7rn"},
        "annotations": {"description": "restarting"},
        "status": {"state": "active"},
        "startsAt": "2026-11-26T09:30:00Z",
    },
]


async def source() -> list[dict[str, Any]]:
    return ALERTS


async def test_firing_alerts_of_the_scope_become_findings(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("healthy")
    findings, notes = await analyze(cluster.client, SHOP, alerts=source)
    got = {(f.analyzer, f.severity, f.namespace, f.kind, f.name) for f in findings}
    assert got == {
        ("firing_alert", "critical", "shop", "deployment", "checkout"),
        ("firing_alert", "info", "shop", "pod", "cart-5b7c9d4f8-qq7rn"),
    }
    top = findings[0]
    assert top.summary.startswith("Alert CheckoutHighErrorRate is firing since 2026-11-26T09:00:00Z")
    assert "runbook: https://runbooks.example/x" in top.evidence
    assert top.next_query == 'k8s_get {"kind": "deployment", "name": "checkout", "namespace": "shop"}'
    assert notes == []


async def test_alerts_without_namespace_only_for_cluster_wide(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("healthy")
    names = {f.summary.split()[1] for f in (await analyze(cluster.client, ADMIN, alerts=source))[0]}
    assert names == {"CheckoutHighErrorRate", "PaymentsLatency", "NodeDiskFilling", "PodRestarting"}
    names = {
        f.summary.split()[1] for f in (await analyze(cluster.client, ADMIN_IN_SHOP_CHANNEL, alerts=source))[0]
    }
    assert names == {"CheckoutHighErrorRate", "PodRestarting"}


async def test_alert_source_down_is_a_note_not_a_failure(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop")

    async def down() -> list[dict[str, Any]]:
        raise BackendError("Prometheus unreachable")

    findings, notes = await analyze(cluster.client, SHOP, alerts=down)
    assert {f.analyzer for f in findings} == {"crashloop", "workload_unavailable"}
    assert notes and "Firing alerts could not be read" in notes[0]
