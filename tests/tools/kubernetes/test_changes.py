"""k8s_changes over HTTP against the Kubernetes simulator with the real client, through the real
router: what changed, newest first, with image diffs; scoped users never see another namespace's
changes or node information (nor cause a request for them); ConfigMaps by metadata only, Secrets
never; recorded history merges in without duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from sim.kubernetes import Scenario
from tests.fixtures.injections import NAME_PAYLOADS, PAYLOADS
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, scope_for
from tests.tools._router_kit import unwrap
from tests.tools.kubernetes.conftest import ctx_for
from tests.tools.kubernetes.test_injection import assert_contained
from tools.blocklist import Blocklist
from tools.kubernetes.changes import ChangeHistory, K8sChangesTool, merge, parse_since
from tools.kubernetes.changes_extract import item, parse_time, stamp
from tools.kubernetes.client import METADATA_ACCEPT
from tools.router import ToolRouter

CHECKOUT = scope_for(("viewer",), ("checkout",))
BOTH = scope_for(("analyst",), ("checkout", "payments"))
ADMIN = scope_for(("admin",), ())
ADMIN_IN_CHECKOUT_CHANNEL = scope_for(("admin",), (), channel_namespaces=("checkout",))
LEAKS = ("must-never-leak", "c2VjcmV0")


class Recorded:
    """A ChangeHistory over fixed records, noting what it was asked (the real one is in app/changes)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.asked: list[tuple[Sequence[str] | None, bool]] = []

    async def recorded(
        self, *, namespaces: Sequence[str] | None, cluster: bool, since: datetime, limit: int
    ) -> list[dict[str, Any]]:
        self.asked.append((namespaces, cluster))
        return list(self.records)


@pytest.fixture
def router_for(audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, redis_prefix: str) -> Any:
    def build(cluster: SimCluster, history: ChangeHistory | None = None) -> ToolRouter:
        return ToolRouter(
            tools=[K8sChangesTool(client=cluster.client, history=history)],
            audit=audit_log,
            metrics=Metrics(),
            blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix, ttl_s=60),
        )

    return build


async def changes(router: ToolRouter, scope: Any, **args: Any) -> dict[str, Any]:
    outcome = await router.invoke("k8s_changes", args, ctx_for(scope), "tu")
    assert not outcome.is_error, outcome.content
    return dict(unwrap(outcome.content)[2])


def keys(result: dict[str, Any]) -> list[tuple[str, str | None, str, str]]:
    return [(i["kind"], i["namespace"], i["name"], i["change"]) for i in result["items"]]


async def test_rollouts_scaling_writes_and_failures_newest_first(
    k8s_cluster: ClusterFactory, router_for: Any
) -> None:
    cluster = await k8s_cluster("changes")
    result = await changes(router_for(cluster), BOTH, since="6h")
    assert keys(result) == [
        ("deployment", "payments", "payments-api", "rollout"),  # 09:55
        ("deployment", "checkout", "checkout", "rollout"),  # 09:50, the kubectl-set write folded in
        ("hpa", "checkout", "checkout", "scaled"),  # 09:30
        ("statefulset", "checkout", "checkout-cache", "rollout"),  # 09:00 (ControllerRevision)
        ("configmap", "checkout", "checkout-flags", "updated"),  # 08:10 (managedFields)
        ("job", "checkout", "db-migrate-42", "failed"),  # 07:00
    ]
    rollout = result["items"][1]
    assert rollout["revision"] == 3 and rollout["by"] == "kubectl-set"
    assert rollout["image_changes"] == [
        {
            "container": "api",
            "from": "registry.example.com/checkout:1.7.3",
            "to": "registry.example.com/checkout:1.8.0",
        }
    ]
    assert rollout["detail"] == "revision 3: 1 image changed"  # our words; the images have their own field
    cache = result["items"][3]
    assert cache["image_changes"] == [{"container": "redis", "from": "redis:7.2.4", "to": "redis:7.2.5"}]
    assert result["items"][2]["replicas"] == {"from": 3, "to": 4}
    assert result["namespaces"] == ["checkout", "payments"] and result["nodes_included"] is False
    # a shorter window keeps only what happened inside it
    recent = await changes(router_for(cluster), BOTH, since="20m")
    assert [k[2] for k in keys(recent)] == ["payments-api", "checkout"]


async def test_configmaps_by_metadata_only_and_secrets_never(
    k8s_cluster: ClusterFactory, router_for: Any
) -> None:
    cluster = await k8s_cluster("changes")
    outcome = await router_for(cluster).invoke("k8s_changes", {}, ctx_for(ADMIN), "tu")
    assert not any(leak in outcome.content for leak in LEAKS)  # no env value, data or secret
    configmap_requests = [r for r in cluster.sim.requests if "configmaps" in r.path]
    assert configmap_requests and all(r.accept == METADATA_ACCEPT for r in configmap_requests)
    assert not any("secrets" in r.path for r in cluster.sim.requests)
    assert all(r.method == "GET" and r.status == 200 for r in cluster.sim.requests)


async def test_a_namespaced_user_sees_only_their_namespace_and_no_nodes(
    k8s_cluster: ClusterFactory, router_for: Any
) -> None:
    cluster = await k8s_cluster("changes")
    history = Recorded(
        [
            item(
                "deployment",
                "payments",
                "payments-api",
                "scaled",
                datetime.now().astimezone(),
                "recorded",
                source="recorded",
            ),
            item(
                "node", None, "node-c", "cordoned", datetime.now().astimezone(), "recorded", source="recorded"
            ),
        ]
    )
    result = await changes(router_for(cluster, history), CHECKOUT)
    assert {i["namespace"] for i in result["items"]} == {"checkout"}
    assert (
        result["nodes_included"] is False and "_withheld" not in result
    )  # the tool filtered, not the router
    assert history.asked == [(["checkout"], False)]
    assert cluster.namespaced_paths() == {"checkout"}
    assert cluster.cluster_wide_lists() == []
    assert not any("/nodes" in p for p in cluster.sim.paths())
    # naming another namespace is refused before any request
    before = len(cluster.sim.requests)
    outcome = await router_for(cluster).invoke(
        "k8s_changes", {"namespace": "payments"}, ctx_for(CHECKOUT), "tu"
    )
    assert outcome.is_error and "outside your scope" in outcome.content
    assert len(cluster.sim.requests) == before
    # an admin inside a checkout-scoped channel is namespaced too: no nodes
    scoped_admin = await changes(router_for(cluster), ADMIN_IN_CHECKOUT_CHANNEL)
    assert scoped_admin["nodes_included"] is False
    assert {i["namespace"] for i in scoped_admin["items"]} == {"checkout"}


async def test_cluster_wide_scopes_see_cordons_and_pressure(
    k8s_cluster: ClusterFactory, router_for: Any
) -> None:
    cluster = await k8s_cluster("changes")
    result = await changes(router_for(cluster), ADMIN, since="3h")
    assert result["nodes_included"] is True and result["namespaces"] == ["*"]
    nodes = [(i["name"], i["change"], i["detail"]) for i in result["items"] if i["kind"] == "node"]
    assert nodes == [
        ("node-b", "pressure", "MemoryPressure=True"),
        ("node-a", "cordoned", "cordoned (unschedulable)"),
    ]
    assert all(i["namespace"] is None for i in result["items"] if i["kind"] == "node")


async def test_recorded_history_merges_without_duplicates(
    k8s_cluster: ClusterFactory, router_for: Any
) -> None:
    cluster = await k8s_cluster("changes")
    live = await changes(router_for(cluster), CHECKOUT, since="1h")
    rollout = live["items"][0]
    window_start = parse_time(live["since"])
    assert window_start is not None
    history = Recorded(
        [
            # the same rollout, recorded by the watcher at its next poll: shown once
            {**rollout, "time": stamp(later(rollout["time"], 50)), "source": "recorded"},
            # an earlier scaling that Kubernetes no longer shows
            item(
                "deployment",
                "checkout",
                "checkout",
                "scaled",
                window_start + timedelta(minutes=5),
                "replicas 2 → 4",
                replicas={"from": 2, "to": 4},
                source="recorded",
            ),
        ]
    )
    merged = await changes(router_for(cluster, history), CHECKOUT, since="1h")
    assert merged["items"][0]["change"] == "rollout" and merged["items"][0]["source"] == "cluster"
    assert sum(i["change"] == "rollout" and i["name"] == "checkout" for i in merged["items"]) == 1
    assert merged["items"][-1]["change"] == "scaled" and merged["items"][-1]["source"] == "recorded"
    assert merged["recorded_history"] is True


def later(when: str, seconds: int) -> datetime:
    at = parse_time(when)
    assert at is not None
    return at + timedelta(seconds=seconds)


@pytest.mark.parametrize("since", ["91d", "yesterday", "5s", "2026-13-45T00:00:00Z"])
async def test_bad_since_is_refused_with_a_hint(
    k8s_cluster: ClusterFactory, router_for: Any, since: str
) -> None:
    cluster = await k8s_cluster("changes")
    outcome = await router_for(cluster).invoke("k8s_changes", {"since": since}, ctx_for(CHECKOUT), "tu")
    assert outcome.is_error and ("90" in outcome.content or "duration" in outcome.content)
    assert cluster.sim.requests == []


def test_since_accepts_durations_and_times() -> None:
    now = datetime.fromisoformat("2026-11-26T10:00:00+00:00")
    assert parse_since("30m", now).isoformat() == "2026-11-26T09:30:00+00:00"
    assert parse_since("2026-11-26T04:00:00Z", now).isoformat() == "2026-11-26T04:00:00+00:00"
    assert parse_since(None, now).isoformat() == "2026-11-25T10:00:00+00:00"
    assert merge([], []) == []


async def test_injections_in_names_managers_and_reasons_are_withheld_and_flagged(
    k8s_cluster: ClusterFactory, router_for: Any, pg_pool: Any
) -> None:
    """Field managers, Job failure reasons and object names are written by whoever can write to
    the cluster: the corpus planted there never reaches the model, and the call is flagged."""
    scenario = Scenario.load("changes")
    recent = "2026-11-26T09:20:00Z"  # after the HPA's scaling, before the rollout
    for i, payload in enumerate(PAYLOADS):
        scenario.add(
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": f"cm-{i}", "namespace": "checkout", "resourceVersion": str(9000 + i),
                          "managedFields": [{"manager": payload, "operation": "Update", "time": recent}]}}
        )  # fmt: skip
    for i, name in enumerate(NAME_PAYLOADS):
        scenario.add(
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "checkout"},
             "status": {"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": recent,
                                        "reason": PAYLOADS[i % len(PAYLOADS)]}]}}
        )  # fmt: skip
    cluster = await k8s_cluster(scenario)
    ctx = ctx_for(CHECKOUT)
    outcome = await router_for(cluster).invoke("k8s_changes", {"since": "1h"}, ctx, "tu")
    assert not outcome.is_error
    body = unwrap(outcome.content)[2]
    assert_contained(body)
    assert body["items"][0]["name"] == "checkout" and body["items"][0]["change"] == "rollout"  # still useful
    flagged = await pg_pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type='security' AND failure_reason='prompt_injection'"
        " AND session_id=$1",
        ctx.session_id,
    )
    assert flagged >= 1
