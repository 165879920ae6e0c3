"""Namespace scope, checked before the call and after it. The simulator's request log proves what
was (never) sent: a scoped user causes no cluster-wide list and no request for another namespace."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from kernel.scope import EffectiveScope
from tests.fixtures.kubernetes import ClusterFactory, scope_for
from tests.tools._router_kit import unwrap
from tests.tools.kubernetes.conftest import RouterFactory, ctx_for

SHOP = scope_for(("viewer",), ("shop",))
SHOP_PAYMENTS = scope_for(("analyst",), ("shop", "payments"))
ADMIN = scope_for(("admin",), ())
ADMIN_IN_SHOP_CHANNEL = scope_for(("admin",), (), channel_namespaces=("shop",))
NOBODY = scope_for(("guest",), ("shop",))


async def security_rows(pool: asyncpg.Pool, session_id: str | None) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT failure_reason, namespace FROM audit_events WHERE event_type='security' AND session_id=$1",
        session_id,
    )
    return rows


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("k8s_list", {"kind": "pod", "namespace": "payments"}),
        ("k8s_list", {"kind": "deployment", "namespace": "kube-system"}),
        ("k8s_get", {"kind": "pod", "name": "payments-db-0", "namespace": "payments"}),
        ("k8s_events", {"namespace": "payments"}),
        ("k8s_pod_logs", {"namespace": "payments", "pod": "payments-db-0"}),
        ("analyze", {"namespace": "payments"}),
    ],
)
async def test_other_namespace_is_refused_and_never_requested(
    k8s_cluster: ClusterFactory,
    make_router: RouterFactory,
    pg_pool: asyncpg.Pool,
    tool: str,
    args: dict[str, Any],
) -> None:
    cluster = await k8s_cluster("restart-burst")  # the planted fault lives in payments
    router = make_router(cluster)
    ctx = ctx_for(SHOP)
    outcome = await router.invoke(tool, args, ctx, "tu")
    assert outcome.is_error and "outside your scope" in outcome.content
    assert cluster.sim.requests == []  # nothing at all reached the API server
    rows = await security_rows(pg_pool, ctx.session_id)
    assert [(r["failure_reason"], r["namespace"]) for r in rows] == [("out_of_scope", args["namespace"])]


@pytest.mark.parametrize("kind", ["pod", "deployment", "event", "job", "pvc", "service", "hpa"])
async def test_without_namespace_a_scoped_user_gets_one_call_per_own_namespace(
    k8s_cluster: ClusterFactory, make_router: RouterFactory, kind: str
) -> None:
    cluster = await k8s_cluster("restart-burst")
    router = make_router(cluster)
    outcome = await router.invoke("k8s_list", {"kind": kind}, ctx_for(SHOP_PAYMENTS), "tu")
    assert not outcome.is_error, outcome.content
    assert cluster.cluster_wide_lists() == []
    assert cluster.namespaced_paths() == {"shop", "payments"}
    _, _, body = unwrap(outcome.content)
    assert body["namespaces"] == ["payments", "shop"]
    assert {i["namespace"] for i in body["items"]} <= {"shop", "payments"}


async def test_scoped_pod_list_shows_only_own_namespace(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    outcome = await make_router(cluster).invoke("k8s_list", {"kind": "pod"}, ctx_for(SHOP), "tu")
    _, _, body = unwrap(outcome.content)
    assert {i["name"] for i in body["items"]} == {
        "checkout-7d9f8b6c5-x2kqp",
        "checkout-7d9f8b6c5-m8ztw",
        "cart-5b7c9d4f8-qq7rn",
    }
    assert cluster.namespaced_paths() == {"shop"} and cluster.cluster_wide_lists() == []


async def test_admin_lists_all_namespaces_in_one_call(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    outcome = await make_router(cluster).invoke("k8s_list", {"kind": "pod"}, ctx_for(ADMIN), "tu")
    _, _, body = unwrap(outcome.content)
    assert body["namespaces"] == ["*"]
    assert {i["namespace"] for i in body["items"]} == {"shop", "payments", "monitoring"}
    assert cluster.sim.paths() == ["/api/v1/pods"]


@pytest.mark.parametrize("scope", [SHOP, SHOP_PAYMENTS, ADMIN_IN_SHOP_CHANNEL])
async def test_nodes_are_refused_without_cluster_wide_scope(
    k8s_cluster: ClusterFactory, make_router: RouterFactory, scope: EffectiveScope
) -> None:
    cluster = await k8s_cluster("node-notready")
    router = make_router(cluster)
    for tool, args in (("k8s_list", {"kind": "node"}), ("k8s_get", {"kind": "node", "name": "node-b"})):
        outcome = await router.invoke(tool, args, ctx_for(scope), "tu")
        assert outcome.is_error and "admin" in outcome.content
    assert cluster.sim.requests == []


async def test_admin_reads_nodes(k8s_cluster: ClusterFactory, make_router: RouterFactory) -> None:
    cluster = await k8s_cluster("node-notready")
    outcome = await make_router(cluster).invoke(
        "k8s_get", {"kind": "node", "name": "node-b"}, ctx_for(ADMIN), "tu"
    )
    _, _, body = unwrap(outcome.content)
    assert body["item"]["ready"] == "Unknown"


async def test_admin_in_a_scoped_channel_is_held_to_the_channel(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    router = make_router(cluster)
    outcome = await router.invoke("k8s_list", {"kind": "deployment"}, ctx_for(ADMIN_IN_SHOP_CHANNEL), "tu")
    _, _, body = unwrap(outcome.content)
    assert {i["namespace"] for i in body["items"]} == {"shop"}
    assert cluster.namespaced_paths() == {"shop"} and cluster.cluster_wide_lists() == []


async def test_no_role_reads_nothing(k8s_cluster: ClusterFactory, make_router: RouterFactory) -> None:
    cluster = await k8s_cluster("healthy")
    outcome = await make_router(cluster).invoke("k8s_list", {"kind": "pod"}, ctx_for(NOBODY), "tu")
    assert outcome.is_error
    assert cluster.sim.requests == []


async def test_get_without_namespace_uses_the_single_scoped_namespace(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    router = make_router(cluster)
    outcome = await router.invoke("k8s_get", {"kind": "deployment", "name": "checkout"}, ctx_for(SHOP), "tu")
    _, _, body = unwrap(outcome.content)
    assert body["item"]["namespace"] == "shop"
    outcome = await router.invoke(
        "k8s_get", {"kind": "deployment", "name": "checkout"}, ctx_for(SHOP_PAYMENTS), "tu"
    )
    assert outcome.is_error and "namespace" in outcome.content


async def test_events_for_one_object(k8s_cluster: ClusterFactory, make_router: RouterFactory) -> None:
    cluster = await k8s_cluster("pending-unschedulable")
    outcome = await make_router(cluster).invoke(
        "k8s_events", {"involved_object": "Pod/analytics-5f7c8d9b6-zz8pm"}, ctx_for(SHOP), "tu"
    )
    _, _, body = unwrap(outcome.content)
    [event] = body["items"]
    assert event["reason"] == "FailedScheduling" and "Insufficient memory" in event["message"]
    assert cluster.sim.requests[-1].query == {
        "fieldSelector": "involvedObject.name=analytics-5f7c8d9b6-zz8pm,involvedObject.kind=Pod"
    }


async def test_bad_label_selector_is_explained(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    outcome = await make_router(cluster).invoke(
        "k8s_list", {"kind": "pod", "namespace": "shop", "label_selector": "app in (a"}, ctx_for(SHOP), "tu"
    )
    assert outcome.is_error and "label_selector" in outcome.content


async def test_api_server_down_is_a_tool_error_without_details(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    cluster = await k8s_cluster("healthy")
    await cluster.sim.close()
    outcome = await make_router(cluster).invoke("k8s_list", {"kind": "pod"}, ctx_for(SHOP), "tu")
    assert outcome.is_error and "Kubernetes API" in outcome.content
    assert cluster.sim.token not in outcome.content


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("k8s_get", {"kind": "pod", "name": "../../payments/pods/payments-db-0", "namespace": "shop"}),
        ("k8s_get", {"kind": "pod", "name": "x%2F..%2Fpayments", "namespace": "shop"}),
        ("k8s_list", {"kind": "pod", "namespace": "shop/../payments"}),
        ("k8s_pod_logs", {"namespace": "shop", "pod": "a/../../payments/pods/payments-db-0"}),
        ("k8s_events", {"namespace": "SHOP"}),
        ("k8s_list", {"kind": "secret", "namespace": "shop"}),
        ("k8s_list", {"kind": "configmap", "namespace": "shop"}),
        ("analyze", {"namespace": "shop,payments"}),
    ],
)
async def test_path_bending_and_unknown_kinds_are_refused_before_any_request(
    k8s_cluster: ClusterFactory, make_router: RouterFactory, tool: str, args: dict[str, Any]
) -> None:
    cluster = await k8s_cluster("healthy")
    outcome = await make_router(cluster).invoke(tool, args, ctx_for(SHOP), "tu")
    assert outcome.is_error and "invalid arguments" in outcome.content
    assert cluster.sim.requests == []


async def test_fan_out_is_bounded(k8s_cluster: ClusterFactory, make_router: RouterFactory) -> None:
    many = scope_for(("viewer",), [f"team-{i:02d}" for i in range(30)])
    cluster = await k8s_cluster("healthy")
    router = make_router(cluster)
    outcome = await router.invoke("k8s_list", {"kind": "pod"}, ctx_for(many), "tu")
    assert outcome.is_error and "namespace" in outcome.content and "team-00" in outcome.content
    assert cluster.sim.requests == []
    outcome = await router.invoke("k8s_list", {"kind": "pod", "namespace": "team-07"}, ctx_for(many), "tu")
    assert not outcome.is_error
    assert cluster.sim.paths() == ["/api/v1/namespaces/team-07/pods"]
