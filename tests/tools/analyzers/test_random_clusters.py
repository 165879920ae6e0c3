"""Property tests over generated clusters: a healthy cluster never yields a finding, and one planted
fault yields exactly one finding, from the right analyzer, naming the right object."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.analyzers.base import ClusterState, Finding
from tools.analyzers.registry import ANALYZERS
from tools.kubernetes.summarize import summarize

NS = st.sampled_from(["shop", "payments", "team-a", "team-b"])
NAME = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def container(draw: Any, idx: int) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"c{idx}"
    restarts = draw(st.integers(0, 4))
    last = draw(
        st.sampled_from([None, {"reason": "Completed", "exitCode": 0}, {"reason": "Error", "exitCode": 1}])
    )
    status: dict[str, Any] = {
        "name": name,
        "image": "img:1",
        "ready": True,
        "started": True,
        "restartCount": restarts if last else 0,
        "state": {"running": {"startedAt": "2026-11-26T08:00:00Z"}},
    }
    if last:
        status["lastState"] = {"terminated": last}
    spec = {"name": name, "image": "img:1", "resources": {"limits": {"memory": "256Mi"}}}
    return spec, status


@st.composite
def pod(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    pairs = [draw(container(i)) for i in range(n)]
    return {
        "kind": "Pod",
        "metadata": {"name": draw(NAME), "namespace": draw(NS)},
        "spec": {"nodeName": "node-a", "containers": [s for s, _ in pairs]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
            "containerStatuses": [s for _, s in pairs],
        },
    }


@st.composite
def workload(draw: Any, kind: str) -> dict[str, Any]:
    n = draw(st.integers(0, 5))
    status = {"replicas": n, "readyReplicas": n, "availableReplicas": n, "updatedReplicas": n}
    if kind == "DaemonSet":
        status = {
            "desiredNumberScheduled": n,
            "numberReady": n,
            "numberAvailable": n,
            "updatedNumberScheduled": n,
        }
    status["conditions"] = [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
    ]
    return {
        "kind": kind,
        "metadata": {"name": draw(NAME), "namespace": draw(NS)},
        "spec": {"replicas": n, "selector": {"matchLabels": {"app": "x"}}},
        "status": status,
    }


@st.composite
def job(draw: Any) -> dict[str, Any]:
    done = draw(st.booleans())
    status = (
        {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]} if done else {"active": 1}
    )
    return {
        "kind": "Job",
        "metadata": {"name": draw(NAME), "namespace": draw(NS)},
        "spec": {},
        "status": status,
    }


@st.composite
def pvc(draw: Any) -> dict[str, Any]:
    return {"metadata": {"name": draw(NAME), "namespace": draw(NS)}, "spec": {}, "status": {"phase": "Bound"}}


@st.composite
def node(draw: Any) -> dict[str, Any]:
    conds = [{"type": t, "status": "False"} for t in ("MemoryPressure", "DiskPressure", "PIDPressure")]
    return {
        "metadata": {"name": draw(NAME)},
        "spec": {},
        "status": {"conditions": [*conds, {"type": "Ready", "status": "True"}]},
    }


@st.composite
def warning_event(draw: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": draw(NAME), "namespace": draw(NS)},
        "involvedObject": {"kind": "Pod", "name": draw(NAME)},
        "type": "Warning",
        "reason": draw(st.sampled_from(["BackOff", "Unhealthy", "FailedScheduling", "FailedMount"])),
        "message": draw(st.text(max_size=40)),
    }


def unique(
    strategy: st.SearchStrategy[dict[str, Any]], max_size: int = 6
) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        strategy,
        max_size=max_size,
        unique_by=lambda o: (o["metadata"].get("namespace"), o["metadata"]["name"]),
    )


@st.composite
def healthy_cluster(draw: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        "pods": draw(unique(pod())),
        "deployments": draw(unique(workload("Deployment"))),
        "statefulsets": draw(unique(workload("StatefulSet"), 3)),
        "daemonsets": draw(unique(workload("DaemonSet"), 3)),
        "jobs": draw(unique(job(), 3)),
        "pvcs": draw(unique(pvc(), 3)),
        "nodes": draw(unique(node(), 3)),
        "events": draw(st.lists(warning_event(), max_size=5)),
    }


_KIND = {
    "pods": "pod",
    "deployments": "deployment",
    "statefulsets": "statefulset",
    "daemonsets": "daemonset",
    "jobs": "job",
    "pvcs": "pvc",
    "nodes": "node",
    "events": "event",
}


def state_of(raw: dict[str, list[dict[str, Any]]]) -> ClusterState:
    state = ClusterState()
    for attr, objs in raw.items():
        setattr(state, attr, [summarize(_KIND[attr], o) for o in objs])
    return state


def run_all(state: ClusterState) -> list[Finding]:
    return [f for run in ANALYZERS.values() for f in run(state)]


@SETTINGS
@given(raw=healthy_cluster())
def test_random_healthy_clusters_produce_no_findings(raw: dict[str, list[dict[str, Any]]]) -> None:
    assert run_all(state_of(raw)) == []


def _first_status(p: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = p["status"]["containerStatuses"][0]
    return status


def crashloop(p: dict[str, Any]) -> None:
    s = _first_status(p)
    s.update(ready=False, started=False, restartCount=9, state={"waiting": {"reason": "CrashLoopBackOff"}})
    s["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1}}


def oom(p: dict[str, Any]) -> None:
    _first_status(p)["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}


def image_pull(p: dict[str, Any]) -> None:
    _first_status(p).update(ready=False, started=False, state={"waiting": {"reason": "ErrImagePull"}})


def unschedulable(p: dict[str, Any]) -> None:
    p["spec"].pop("nodeName")
    p["status"] = {
        "phase": "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}
        ],
    }


def not_ready(p: dict[str, Any]) -> None:
    _first_status(p)["ready"] = False


def burst(p: dict[str, Any]) -> None:
    s = _first_status(p)
    s["restartCount"] = 12
    s["lastState"] = {"terminated": {"reason": "Error", "exitCode": 2}}


def config_error(p: dict[str, Any]) -> None:
    _first_status(p).update(
        ready=False, started=False, state={"waiting": {"reason": "CreateContainerConfigError"}}
    )


POD_FAULTS = {
    "container_config": config_error,
    "crashloop": crashloop,
    "oomkilled": oom,
    "image_pull": image_pull,
    "unschedulable": unschedulable,
    "readiness": not_ready,
    "restart_burst": burst,
}


@SETTINGS
@given(raw=healthy_cluster(), victim=pod(), fault=st.sampled_from(sorted(POD_FAULTS)))
def test_one_planted_pod_fault_yields_exactly_one_finding(
    raw: dict[str, list[dict[str, Any]]], victim: dict[str, Any], fault: str
) -> None:
    victim = copy.deepcopy(victim)
    victim["metadata"]["name"] = "victim-0"
    POD_FAULTS[fault](victim)
    raw["pods"] = [*raw["pods"], victim]
    findings = run_all(state_of(raw))
    assert [(f.analyzer, f.kind, f.name, f.namespace) for f in findings] == [
        (fault, "pod", "victim-0", victim["metadata"]["namespace"])
    ]


@SETTINGS
@given(
    raw=healthy_cluster(),
    kind=st.sampled_from(["deployments", "statefulsets", "daemonsets"]),
    missing=st.integers(1, 3),
)
def test_one_unavailable_workload_yields_exactly_one_finding(
    raw: dict[str, list[dict[str, Any]]], kind: str, missing: int
) -> None:
    w = copy.deepcopy(workload_template(kind))
    st_ = w["status"]
    for key in ("availableReplicas", "readyReplicas", "numberAvailable", "numberReady"):
        if key in st_:
            st_[key] = max(0, st_[key] - missing)
    raw[kind] = [*raw[kind], w]
    findings = run_all(state_of(raw))
    assert [(f.analyzer, f.name) for f in findings] == [("workload_unavailable", "victim-w")]


def workload_template(kind: str) -> dict[str, Any]:
    api_kind = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}[kind]
    status = (
        {"desiredNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3}
        if api_kind == "DaemonSet"
        else {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3}
    )
    return {
        "kind": api_kind,
        "metadata": {"name": "victim-w", "namespace": "shop"},
        "spec": {"replicas": 3},
        "status": status,
    }


@SETTINGS
@given(raw=healthy_cluster(), which=st.sampled_from(["job", "pvc", "node"]))
def test_failed_job_pending_pvc_and_bad_node_each_yield_one_finding(
    raw: dict[str, list[dict[str, Any]]], which: str
) -> None:
    if which == "job":
        raw["jobs"] = [
            *raw["jobs"],
            {
                "metadata": {"name": "victim-j", "namespace": "shop"},
                "spec": {},
                "status": {
                    "failed": 3,
                    "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
                },
            },
        ]
        expected = ("failed_job", "victim-j")
    elif which == "pvc":
        raw["pvcs"] = [
            *raw["pvcs"],
            {
                "metadata": {"name": "victim-p", "namespace": "shop"},
                "spec": {},
                "status": {"phase": "Pending"},
            },
        ]
        expected = ("pending_pvc", "victim-p")
    else:
        raw["nodes"] = [
            *raw["nodes"],
            {
                "metadata": {"name": "victim-n"},
                "spec": {},
                "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]},
            },
        ]
        expected = ("node_not_ready", "victim-n")
    assert [(f.analyzer, f.name) for f in run_all(state_of(raw))] == [expected]
