"""The Kubernetes API simulator answers like the API server, checked with the official client and
raw HTTP: envelopes, selectors, logs, Status errors, the bearer token, and no Secrets ever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from sim.kubernetes import (
    SCENARIO_DIR,
    KubernetesSimulator,
    Scenario,
    field_selector_matches,
    label_selector_matches,
)
from tests.fixtures.kubernetes import (
    ClusterFactory,
    k8s_cluster,  # noqa: F401
)


@pytest.fixture
async def sim() -> AsyncIterator[KubernetesSimulator]:
    async with KubernetesSimulator(scenario="crashloop") as s:
        yield s


async def _get(
    sim: KubernetesSimulator, path: str, *, token: str | None = None, method: str = "GET"
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token if token is not None else sim.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, sim.url + path, headers=headers) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = await resp.json() if "json" in ctype else await resp.text()
            return resp.status, body


async def test_list_envelope_is_what_the_api_server_sends(sim: KubernetesSimulator) -> None:
    status, body = await _get(sim, "/apis/apps/v1/namespaces/shop/deployments")
    assert status == 200
    assert body["kind"] == "DeploymentList" and body["apiVersion"] == "apps/v1"
    assert body["metadata"]["resourceVersion"]
    names = {i["metadata"]["name"] for i in body["items"]}
    assert names == {"checkout", "cart", "orders"}
    assert all("kind" not in i for i in body["items"])  # list items carry no kind, like the real server


async def test_all_namespaces_and_cluster_scoped_paths(sim: KubernetesSimulator) -> None:
    _, pods = await _get(sim, "/api/v1/pods")
    assert {i["metadata"]["namespace"] for i in pods["items"]} == {"shop", "payments", "monitoring"}
    _, nodes = await _get(sim, "/api/v1/nodes")
    assert nodes["kind"] == "NodeList" and len(nodes["items"]) == 2
    status, node = await _get(sim, "/api/v1/nodes/node-a")
    assert status == 200 and node["kind"] == "Node"


async def test_missing_resource_is_a_404_status_object(sim: KubernetesSimulator) -> None:
    status, body = await _get(sim, "/api/v1/namespaces/shop/pods/nope")
    assert status == 404
    assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404
    assert body["details"] == {"name": "nope", "kind": "pods"}


async def test_bearer_token_required(sim: KubernetesSimulator) -> None:
    status, body = await _get(sim, "/api/v1/pods", token="wrong")
    assert status == 401 and body["reason"] == "Unauthorized"
    status, _ = await _get(sim, "/api/v1/pods", token="")
    assert status == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/secrets",
        "/api/v1/namespaces/shop/secrets",
        "/api/v1/namespaces/shop/secrets/checkout-secrets",
        "/api/v1/namespaces/shop/configmaps",
    ],
)
async def test_secrets_and_configmaps_are_forbidden_like_the_read_only_clusterrole(
    sim: KubernetesSimulator, path: str
) -> None:
    status, body = await _get(sim, path)
    assert status == 403 and body["reason"] == "Forbidden"


async def test_writes_are_forbidden(sim: KubernetesSimulator) -> None:
    for method in ("DELETE", "POST", "PATCH", "PUT"):
        status, _ = await _get(sim, "/api/v1/namespaces/shop/pods/orders-6c9f7d5b8-r4d2k", method=method)
        assert status == 403


async def test_requests_are_recorded_with_query(sim: KubernetesSimulator) -> None:
    await _get(sim, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dorders")
    rec = sim.requests[-1]
    assert rec.path == "/api/v1/namespaces/shop/pods" and rec.query == {"labelSelector": "app=orders"}
    assert rec.status == 200


async def test_logs_tail_previous_and_container_rules(sim: KubernetesSimulator) -> None:
    base = "/api/v1/namespaces/shop/pods/orders-6c9f7d5b8-r4d2k/log"
    status, text = await _get(sim, base + "?previous=true&tailLines=2")
    assert status == 200 and text.splitlines() == [
        "2026-11-26T09:40:03Z ERROR dial tcp 10.96.30.4:5432: connect: connection refused",
        "2026-11-26T09:40:03Z FATAL cannot reach database orders-db:5432, exiting",
    ]
    status, body = await _get(sim, "/api/v1/namespaces/shop/pods/checkout-7d9f8b6c5-m8ztw/log")
    assert status == 400 and "choose one of: [app envoy]" in body["message"]
    status, body = await _get(sim, "/api/v1/namespaces/shop/pods/checkout-7d9f8b6c5-x2kqp/log?previous=true")
    assert status == 400 and "previous terminated container" in body["message"]
    status, text = await _get(sim, base + "?previous=true&limitBytes=10")
    assert status == 200 and text == "2026-11-26"  # the first N bytes, as the kubelet does


async def test_official_client_round_trip(k8s_cluster: ClusterFactory) -> None:  # noqa: F811
    """The real kubernetes client, configured from the kubeconfig the fixture writes."""
    cluster = await k8s_cluster("crashloop")
    # the simulator serves on this event loop: the blocking client must run in a thread
    await asyncio.to_thread(_round_trip, str(cluster.kubeconfig))


def _round_trip(kubeconfig: str) -> None:
    api = k8s_config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    try:
        core = k8s.CoreV1Api(api)
        pods: Any = core.list_namespaced_pod("shop", label_selector="app=orders")
        assert [p.metadata.name for p in pods.items] == ["orders-6c9f7d5b8-r4d2k"]
        status = pods.items[0].status.container_statuses[0]
        assert status.state.waiting.reason == "CrashLoopBackOff"
        assert status.last_state.terminated.exit_code == 1
        deploy: Any = k8s.AppsV1Api(api).read_namespaced_deployment("orders", "shop")
        assert deploy.status.unavailable_replicas == 1
        jobs: Any = k8s.BatchV1Api(api).list_namespaced_job("shop")
        assert jobs.items[0].status.succeeded == 1
        hpa: Any = k8s.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("checkout", "shop")
        assert hpa.spec.max_replicas == 6
        log = core.read_namespaced_pod_log("orders-6c9f7d5b8-r4d2k", "shop", previous=True, tail_lines=1)
        assert "cannot reach database" in log
        with pytest.raises(ApiException) as exc:
            core.list_namespaced_secret("shop")
        assert exc.value.status == 403
        with pytest.raises(ApiException) as exc:
            core.read_namespaced_pod("missing", "shop")
        assert exc.value.status == 404
    finally:
        api.close()


async def test_field_selectors_on_events(sim: KubernetesSimulator) -> None:
    status, body = await _get(
        sim, "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dorders-6c9f7d5b8-r4d2k"
    )
    assert status == 200 and [e["reason"] for e in body["items"]] == ["BackOff"]
    _, warn = await _get(sim, "/api/v1/events?fieldSelector=type%3DWarning")
    assert {e["reason"] for e in warn["items"]} == {"BackOff"}


def test_every_scenario_loads_and_includes_the_healthy_base() -> None:
    healthy = {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in Scenario.load("healthy").objects
    }
    for path in SCENARIO_DIR.glob("*.yaml"):
        scenario = Scenario.load(path)
        keys = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in scenario.objects}
        assert len(keys) >= len(healthy), path.name


# ---------------------------------------------------------------- selector semantics

LABELS = {"app": "checkout", "tier": "web", "version": "v2"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=checkout", True),
        ("app==checkout", True),
        ("app!=checkout", False),
        ("app!=cart", True),
        ("missing!=x", True),
        ("app in (cart,checkout)", True),
        ("app in (cart)", False),
        ("tier notin (db, cache)", True),
        ("tier notin (web)", False),
        ("version", True),
        ("!version", False),
        ("!missing", True),
        ("app=checkout,tier in (web),!missing", True),
        ("app=checkout,tier=db", False),
    ],
)
def test_label_selector_semantics(selector: str, expected: bool) -> None:
    assert label_selector_matches(selector, LABELS) is expected


label_key = st.sampled_from(["app", "tier", "team", "env"])
label_value = st.text(alphabet="abcxyz019.-_", min_size=1, max_size=6).filter(lambda v: v[0].isalnum())


@given(
    labels=st.dictionaries(label_key, label_value, max_size=4),
    key=label_key,
    values=st.lists(label_value, min_size=1, max_size=3),
)
def test_in_and_notin_are_complements(labels: dict[str, str], key: str, values: list[str]) -> None:
    inside = label_selector_matches(f"{key} in ({','.join(values)})", labels)
    outside = label_selector_matches(f"{key} notin ({','.join(values)})", labels)
    assert inside != outside
    assert inside == (labels.get(key) in values)


def test_field_selector_semantics() -> None:
    event = {"involvedObject": {"name": "p1", "kind": "Pod"}, "type": "Warning"}
    assert field_selector_matches("involvedObject.name=p1,involvedObject.kind=Pod", event)
    assert not field_selector_matches("involvedObject.name!=p1", event)
    assert field_selector_matches("metadata.name!=x", event)


_ALL_LISTS = [
    ("CoreV1Api", "list_pod_for_all_namespaces"),
    ("CoreV1Api", "list_service_for_all_namespaces"),
    ("CoreV1Api", "list_event_for_all_namespaces"),
    ("CoreV1Api", "list_persistent_volume_claim_for_all_namespaces"),
    ("CoreV1Api", "list_node"),
    ("AppsV1Api", "list_deployment_for_all_namespaces"),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces"),
    ("AppsV1Api", "list_daemon_set_for_all_namespaces"),
    ("AppsV1Api", "list_replica_set_for_all_namespaces"),
    ("AppsV1Api", "list_controller_revision_for_all_namespaces"),
    ("BatchV1Api", "list_job_for_all_namespaces"),
    ("BatchV1Api", "list_cron_job_for_all_namespaces"),
    ("AutoscalingV2Api", "list_horizontal_pod_autoscaler_for_all_namespaces"),
]


async def test_every_scenario_object_deserializes_with_the_official_models(
    k8s_cluster: ClusterFactory,  # noqa: F811
) -> None:
    """Scenarios are only useful if the real client accepts them as it would a real server's."""
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        cluster = await k8s_cluster(path.stem)
        counts = await asyncio.to_thread(_deserialize_all, str(cluster.kubeconfig))
        # Namespaces are not listed; ConfigMaps and Secrets are served as metadata only
        served = [
            o
            for o in Scenario.load(path.stem).objects
            if o["kind"] not in ("Namespace", "ConfigMap", "Secret")
        ]
        assert sum(counts) == len(served), path.name


def _deserialize_all(kubeconfig: str) -> list[int]:
    api = k8s_config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    try:
        return [len(getattr(getattr(k8s, cls)(api), method)().items) for cls, method in _ALL_LISTS]
    finally:
        api.close()


METADATA_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def _with_config_and_secret() -> Scenario:
    scenario = Scenario.load("healthy")
    scenario.add(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "shop"},
         "type": "kubernetes.io/tls", "data": {"tls.key": "U0VDUkVU"}}
    )  # fmt: skip
    scenario.add(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "shop"},
            "data": {"k": "v"},
        }
    )
    return scenario


@pytest.mark.parametrize("plural", ["secrets", "configmaps"])
async def test_secrets_and_configmaps_only_as_partial_object_metadata(plural: str) -> None:
    async with KubernetesSimulator(scenario=_with_config_and_secret()) as sim:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {sim.token}", "Accept": METADATA_ACCEPT}
            async with http.get(f"{sim.url}/api/v1/namespaces/shop/{plural}", headers=headers) as resp:
                body = await resp.json()
            async with http.get(f"{sim.url}/api/v1/namespaces/shop/{plural}/x", headers=headers) as resp:
                single = resp.status
    assert body["kind"] == "PartialObjectMetadataList" and body["apiVersion"] == "meta.k8s.io/v1"
    [item] = body["items"]
    assert item["kind"] == "PartialObjectMetadata" and set(item) == {"kind", "apiVersion", "metadata"}
    assert "U0VDUkVU" not in str(body) and "data" not in item
    assert single == 403  # get is not granted, metadata or not


async def test_endpoint_slices_follow_pod_readiness_like_the_controller() -> None:
    async with KubernetesSimulator(scenario="readiness-failing") as sim:
        status, body = await _get(sim, "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices")
    assert status == 200 and body["kind"] == "EndpointSliceList"
    by_service = {s["metadata"]["labels"]["kubernetes.io/service-name"]: s for s in body["items"]}
    checkout = by_service["checkout"]
    assert checkout["addressType"] == "IPv4" and checkout["endpoints"]
    assert all(e["conditions"]["ready"] and e["targetRef"]["kind"] == "Pod" for e in checkout["endpoints"])


async def test_endpoint_slices_carry_the_pods_ips_and_resolve_named_ports() -> None:
    """A pod's own IP, its Service's uid, a named targetPort resolved to the container port — as
    the EndpointSlice controller writes them (the `changes` scenario gives all three)."""
    async with KubernetesSimulator(scenario="changes") as sim:
        _, body = await _get(sim, "/apis/discovery.k8s.io/v1/namespaces/checkout/endpointslices")
        _, pods = await _get(sim, "/api/v1/namespaces/checkout/pods?labelSelector=app%3Dcheckout")
        _, svc = await _get(sim, "/api/v1/namespaces/checkout/services/checkout")
    by_service = {s["metadata"]["labels"]["kubernetes.io/service-name"]: s for s in body["items"]}
    checkout = by_service["checkout"]
    ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods["items"]}
    assert len(ips) == 4
    assert {e["targetRef"]["name"]: e["addresses"][0] for e in checkout["endpoints"]} == ips
    assert [e["conditions"]["ready"] for e in checkout["endpoints"]].count(True) == 2  # two crash-looping
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    assert checkout["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert checkout["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]


async def test_new_api_groups_through_the_official_client(k8s_cluster: ClusterFactory) -> None:  # noqa: F811
    scenario = Scenario.load("healthy")
    scenario.add(
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
         "metadata": {"name": "gw", "namespace": "shop"},
         "spec": {"gatewayClassName": "envoy", "listeners": []}}
    )  # fmt: skip
    cluster = await k8s_cluster(scenario)
    await asyncio.to_thread(_new_groups, str(cluster.kubeconfig))


def _new_groups(kubeconfig: str) -> None:
    api = k8s_config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    try:
        slices: Any = k8s.DiscoveryV1Api(api).list_namespaced_endpoint_slice("shop")
        assert {s.metadata.labels["kubernetes.io/service-name"] for s in slices.items} >= {"checkout", "cart"}
        assert k8s.NetworkingV1Api(api).list_namespaced_ingress("shop").items == []  # type: ignore[union-attr]
        assert k8s.PolicyV1Api(api).list_namespaced_pod_disruption_budget("shop").items == []  # type: ignore[union-attr]
        gws: Any = k8s.CustomObjectsApi(api).list_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", "shop", "gateways"
        )
        assert [g["metadata"]["name"] for g in gws["items"]] == ["gw"]
        assert k8s.StorageV1Api(api).list_storage_class().items == []  # type: ignore[union-attr]
    finally:
        api.close()
