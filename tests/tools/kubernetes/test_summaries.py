"""k8s_list / k8s_get return the summaries an engineer needs — and nothing that carries secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kernel.scope import EffectiveScope
from sim.kubernetes import SCENARIO_DIR
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, scope_for
from tests.tools.kubernetes.conftest import ctx_for
from tools.kubernetes import schemas
from tools.kubernetes.summarize import REDACTED_VALUE, pod, summarize
from tools.kubernetes.tools import K8sGetTool, K8sListTool

ADMIN = scope_for(("admin",), ())
KINDS = schemas.KIND_NAMES


async def _list(cluster: SimCluster, kind: str, scope: EffectiveScope = ADMIN, **args: Any) -> dict[str, Any]:
    return await K8sListTool(client=cluster.client)._invoke({"kind": kind, **args}, ctx_for(scope))


async def _get(
    cluster: SimCluster, kind: str, name: str, scope: EffectiveScope = ADMIN, **args: Any
) -> dict[str, Any]:
    out = await K8sGetTool(client=cluster.client)._invoke(
        {"kind": kind, "name": name, **args}, ctx_for(scope)
    )
    item: dict[str, Any] = out["item"]
    return item


async def test_every_kind_lists_in_every_scenario_and_matches_the_strict_schema(
    k8s_cluster: ClusterFactory,
) -> None:
    validator = Draft202012Validator(schemas.LIST_OUTPUT)
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        cluster = await k8s_cluster(path.stem)
        for kind in KINDS:
            out = await _list(cluster, kind)
            errors = list(validator.iter_errors(out))
            assert not errors, (path.stem, kind, errors[0].message)
            assert all(item["kind"] == kind for item in out["items"])
            assert out["count"] >= len(out["items"])


async def test_pod_summary_of_a_crash_looping_pod(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop")
    item = await _get(cluster, "pod", "orders-6c9f7d5b8-r4d2k", namespace="shop")
    assert item["phase"] == "Running" and item["node"] == "node-b"
    assert item["owner"] == "ReplicaSet/orders-6c9f7d5b8"
    ready = next(c for c in item["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    [c] = item["containers"]
    assert c["state"] == "waiting" and c["state_reason"] == "CrashLoopBackOff"
    assert c["restart_count"] == 7 and c["ready"] is False
    assert c["last_termination"]["reason"] == "Error" and c["last_termination"]["exit_code"] == 1
    assert c["requests"] == {"cpu": "100m", "memory": "128Mi"} and c["limits"] == {"memory": "256Mi"}
    assert c["image"] == "registry.example.com/shop/orders:2.3.0"


async def test_workload_summaries(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("stuck-rollout")
    d = await _get(cluster, "deployment", "frontend", namespace="shop")
    assert d["replicas"] == {"desired": 3, "ready": 2, "available": 2, "updated": 1, "unavailable": 1}
    assert d["strategy"] == "RollingUpdate" and d["selector"] == "app=frontend" and d["revision"] == "12"
    progressing = next(c for c in d["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert d["images"] == ["registry.example.com/shop/frontend:5.0.0"]

    sts = await _get(cluster, "statefulset", "payments-db", namespace="payments")
    assert (
        sts["replicas"]["desired"] == 1
        and sts["replicas"]["ready"] == 1
        and sts["images"] == ["postgres:16.4"]
    )
    ds = await _get(cluster, "daemonset", "node-exporter", namespace="monitoring")
    assert ds["replicas"] == {"desired": 2, "ready": 2, "available": 2, "updated": 2, "unavailable": 0}
    rs = await _get(cluster, "replicaset", "checkout-7d9f8b6c5", namespace="shop")
    assert rs["owner"] == "Deployment/checkout"


async def test_job_cronjob_service_hpa_pvc_node_event_summaries(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("failed-job", live_clock=False)
    job = await _get(cluster, "job", "db-migrate-4f2a", namespace="shop")
    assert job["failed"] == 7 and job["backoff_limit"] == 6
    assert job["conditions"][0]["reason"] == "BackoffLimitExceeded"
    cj = await _get(cluster, "cronjob", "nightly-report", namespace="shop")
    assert cj["schedule"] == "0 2 * * *" and cj["last_successful_time"] == "2026-11-26T02:01:30Z"
    svc = await _get(cluster, "service", "checkout", namespace="shop")
    assert svc["selector"] == "app=checkout"
    assert svc["ports"] == [
        {"name": "http", "port": 80, "target_port": "8080", "protocol": "TCP", "node_port": None}
    ]
    hpa = await _get(cluster, "hpa", "checkout", namespace="shop")
    assert hpa["target"] == "Deployment/checkout" and (hpa["min_replicas"], hpa["max_replicas"]) == (2, 6)
    assert hpa["current"] == ["Resource cpu averageUtilization=34"]
    pvc = await _get(cluster, "pvc", "data-payments-db-0", namespace="payments")
    assert pvc["phase"] == "Bound" and pvc["requested"] == "20Gi" and pvc["storage_class"] == "standard"
    node = await _get(cluster, "node", "node-a")
    assert node["ready"] == "True" and node["roles"] == ["worker"] and node["capacity"]["memory"] == "16Gi"
    events = (await _list(cluster, "event", namespace="shop"))["items"]
    started = next(e for e in events if e["reason"] == "Started")
    assert started["involved_object"] == "Pod/checkout-7d9f8b6c5-x2kqp" and started["count"] == 1


async def test_env_values_never_leave_the_tool_but_names_and_refs_do(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("injection")
    out = await _list(cluster, "pod")
    text = json.dumps(out)
    for secret in (
        "hunter2-plain-in-spec",
        "acq-live-7d1e44aa90",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "s3cr3t-pw",
        "xoxb-123456789012",
        "p4ss-in-last-applied",  # last-applied-configuration annotation is dropped entirely
    ):
        assert secret not in text
    checkout = await _get(cluster, "pod", "checkout-7d9f8b6c5-x2kqp", namespace="shop")
    env = {e["name"]: e for e in checkout["containers"][0]["env"]}
    assert env["DB_PASSWORD"] == {"name": "DB_PASSWORD", "value": REDACTED_VALUE, "value_from": None}
    assert env["STRIPE_API_KEY"]["value_from"] == "secretKeyRef checkout-secrets/stripe-key"
    assert env["POD_IP"]["value_from"] == "fieldRef status.podIP"


# every value carries a marker that appears nowhere else, so "not in the output" is exact
env_var = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[A-Z_]{1,12}", fullmatch=True),
        "value": st.text(max_size=30).map(lambda t: f"v4lue-{t}"),
    }
)


@settings(max_examples=60, deadline=None)
@given(env=st.lists(env_var, max_size=5), init_env=st.lists(env_var, max_size=3))
def test_no_env_value_survives_summarizing(env: list[dict[str, str]], init_env: list[dict[str, str]]) -> None:
    raw = {
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {
            "containers": [{"name": "app", "image": "img", "env": env}],
            "initContainers": [{"name": "init", "image": "img", "env": init_env}],
        },
        "status": {"phase": "Running"},
    }
    out = pod(raw)
    Draft202012Validator(schemas.POD).validate(out)
    assert "v4lue-" not in json.dumps(out)
    assert [e["value"] for c in out["containers"] for e in c["env"]] == [REDACTED_VALUE] * len(env + init_env)


def test_workload_templates_never_carry_env() -> None:
    raw = {
        "metadata": {"name": "d", "namespace": "shop"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "i", "env": [{"name": "X", "value": "topsecret-value"}]}
                    ]
                }
            }
        },
    }
    for kind in ("deployment", "statefulset", "daemonset", "replicaset"):
        assert "topsecret-value" not in json.dumps(summarize(kind, raw))


@pytest.mark.parametrize("kind", KINDS)
def test_summaries_of_empty_objects_still_match_the_schema(kind: str) -> None:
    """A half-populated object (fresh, no status yet) must not break the strict schema."""
    Draft202012Validator(schemas.SUMMARY_SCHEMAS[kind]).validate(
        summarize(kind, {"metadata": {"name": "x", "namespace": "n"}})
    )
