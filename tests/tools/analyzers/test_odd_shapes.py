"""Robust to any shape: partial and odd objects (k8sgpt's minimal fixtures — pods without
spec.containers, condition status "", events without involvedObject — arbitrary values where a
dict or list belongs, older API versions, unknown fields) never make an analyzer raise, and never
hide the fault planted next to them."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tools.analyzers.kinds_catalog import CASES, Case
from tools.analyzers.base import ClusterState
from tools.analyzers.registry import ANALYZERS
from tools.analyzers.state_extra import CLUSTER
from tools.kubernetes.facts import FACTS, pod_facts, workload_facts
from tools.kubernetes.summarize import summarize

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CORE = {
    "Pod": ("pods", "pod"),
    "Deployment": ("deployments", "deployment"),
    "StatefulSet": ("statefulsets", "statefulset"),
    "DaemonSet": ("daemonsets", "daemonset"),
    "ReplicaSet": ("replicasets", "replicaset"),
    "Job": ("jobs", "job"),
    "PersistentVolumeClaim": ("pvcs", "pvc"),
    "Event": ("events", "event"),
    "Node": ("nodes", "node"),
}
OTHER = {
    "Service": "service", "EndpointSlice": "endpointslice", "Ingress": "ingress",
    "IngressClass": "ingressclass",
    "NetworkPolicy": "networkpolicy", "PodDisruptionBudget": "pdb", "HorizontalPodAutoscaler": "hpa",
    "CronJob": "cronjob", "ServiceAccount": "serviceaccount", "RoleBinding": "rolebinding", "Role": "role",
    "StorageClass": "storageclass", "PersistentVolume": "pv", "ConfigMap": "configmap", "Secret": "secret",
    "MutatingWebhookConfiguration": "mutatingwebhook", "ValidatingWebhookConfiguration": "validatingwebhook",
    "Gateway": "gateway", "HTTPRoute": "httproute", "GatewayClass": "gatewayclass",
    "Subscription": "subscription", "CatalogSource": "catalogsource", "ClusterServiceVersion": "csv",
    "InstallPlan": "installplan", "OperatorGroup": "operatorgroup", "ClusterCatalog": "clustercatalog",
    "ClusterExtension": "clusterextension",
}  # fmt: skip
OLDER_API = {
    "Ingress": "extensions/v1beta1",
    "PodDisruptionBudget": "policy/v1beta1",
    "HorizontalPodAutoscaler": "autoscaling/v1",
    "CronJob": "batch/v1beta1",
    "Gateway": "gateway.networking.k8s.io/v1beta1",
    "HTTPRoute": "gateway.networking.k8s.io/v1beta1",
    "OperatorGroup": "operators.coreos.com/v1alpha2",
}


Logs = dict[tuple[str, str, str, bool], list[str]]


def state_of(objects: list[dict[str, Any]], logs: Logs) -> ClusterState:
    """The state collect_state builds from these objects (same summarizers, no API server)."""
    state = ClusterState()
    for kind in OTHER.values():
        state.facts.setdefault(kind, [])
    for obj in objects:
        api_kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
        if api_kind in CORE:
            attr, kind = CORE[api_kind]
            item = summarize(kind, obj)
            if kind == "event" and item["type"] != "Warning":
                continue
            getattr(state, attr).append(item)
            if kind == "pod":
                state.pod_refs[(item["namespace"], item["name"])] = pod_facts(obj)
            elif kind not in ("pvc", "event", "node"):
                state.template_refs[(kind, item["namespace"], item["name"])] = workload_facts(kind, obj)
        elif api_kind in OTHER:
            state.facts[OTHER[api_kind]].append(FACTS[OTHER[api_kind]](obj))
    for kind in CLUSTER:
        state.cluster_names[kind] = {o["name"] for o in state.facts[kind]}
    for (ns, pod, container, previous), lines in logs.items():
        (state.previous_logs if previous else state.current_logs)[(ns, pod, container)] = lines
    return state


def run_all(state: ClusterState) -> set[tuple[str, str, str]]:
    return {(f.analyzer, f.kind, f.name) for run in ANALYZERS.values() for f in run(state)}


ODD_VALUE = st.one_of(
    st.none(),
    st.just(""),
    st.integers(-3, 3),
    st.text(max_size=5),
    st.lists(st.none(), max_size=2),
    st.just({}),
    st.just({"status": ""}),
)
FIELDS = ("spec", "status", "metadata", "involvedObject", "conditions", "containers", "containerStatuses",
          "selector", "rules", "webhooks", "endpoints", "labels", "ownerReferences", "subjects",
          "roleRef", "connectionState", "managedFields", "fieldsV1", "f:data", "source", "catalog",
          "automountServiceAccountToken", "capacity", "resources", "requests")  # fmt: skip


@st.composite
def odd_object(draw: Any) -> dict[str, Any]:
    """A partial object of any kind: any subset of fields, each an odd value or a partial dict."""
    kind = draw(st.sampled_from([*CORE, *OTHER]))
    ns = draw(st.sampled_from(["apps", None]))
    obj: dict[str, Any] = {"kind": kind, "metadata": {"name": "odd", "namespace": ns}}
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=5)):
        inner = {k: draw(ODD_VALUE) for k in draw(st.lists(st.sampled_from(FIELDS), max_size=3))}
        obj[key] = draw(st.one_of(ODD_VALUE, st.just(inner)))
    return obj


MINIMAL = [  # k8sgpt's minimal fixtures
    {"kind": "Pod", "metadata": {"name": "bare", "namespace": "apps"}, "status": {"phase": "Pending"}},
    {"kind": "Pod", "metadata": {"name": "cond", "namespace": "apps"},
     "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ""}]}},
    {"kind": "Event", "metadata": {"name": "e", "namespace": "apps"}, "type": "Warning", "reason": "X"},
    {"kind": "Node", "metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": ""}]}},
]  # fmt: skip


@SETTINGS
@given(st.lists(odd_object(), max_size=8))
def test_odd_objects_never_raise(objects: list[dict[str, Any]]) -> None:
    run_all(state_of([*MINIMAL, *objects], {}))


@st.composite
def disguised(draw: Any, case: Case) -> list[dict[str, Any]]:
    """The case's objects with unknown fields, older API versions and odd neighbours added, and the
    healthy control's objects partly stripped."""
    objects = []
    for obj in copy.deepcopy(case.fault):
        if draw(st.booleans()):
            obj["apiVersion"] = OLDER_API.get(obj["kind"], obj.get("apiVersion"))
        if draw(st.booleans()):
            obj["metadata"].setdefault("managedFields", []).append(
                {"manager": "kubectl-label", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}}
            )  # fmt: skip
            obj["x-unknown"] = draw(ODD_VALUE)
        objects.append(obj)
    for obj in copy.deepcopy(case.healthy):
        for key in draw(st.lists(st.sampled_from(["spec", "status"]), max_size=1)):
            obj.pop(key, None)
        objects.append(obj)
    return objects + MINIMAL + draw(st.lists(odd_object(), max_size=4))


@SETTINGS
@given(st.data())
def test_the_planted_fault_survives_odd_neighbours_and_versions(data: Any) -> None:
    case = data.draw(st.sampled_from(CASES), label="case")
    objects = data.draw(disguised(case), label="objects")
    assert case.expect in run_all(state_of(objects, case.logs))
