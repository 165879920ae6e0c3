"""Regression tests for the bugs issue 13 found in the first analyzers: each failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest

from tools.analyzers import nodes, pods, storage, workloads
from tools.analyzers.base import ClusterState
from tools.kubernetes.summarize import summarize


def _event(
    kind: str, name: str, reason: str, message: str | None, last: str, ns: str = "shop"
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": f"{name}.{reason}.{last}", "namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "type": "Warning",
        "reason": reason,
        "lastTimestamp": last,
        "count": 1,
    }
    if message is not None:
        obj["message"] = message
    return summarize("event", obj)


def _workload(kind: str, name: str, *, desired: int, available: int, conditions: list[Any]) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": conditions}
    if kind == "daemonset":
        status |= {"desiredNumberScheduled": desired, "numberReady": available, "numberAvailable": available}
    else:
        status |= {"readyReplicas": available, "availableReplicas": available}
    return summarize(
        kind,
        {
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": desired, "selector": {"matchLabels": {"app": name}}},
            "status": status,
        },
    )


@pytest.mark.parametrize(("kind", "api_kind"), [("statefulset", "StatefulSet"), ("daemonset", "DaemonSet")])
def test_statefulset_and_daemonset_events_reach_the_finding(kind: str, api_kind: str) -> None:
    """`kind.capitalize()` gave "Statefulset"/"Daemonset", which never matched the event's kind."""
    state = ClusterState(
        events=[
            _event(
                api_kind,
                "db",
                "FailedCreate",
                "create Pod db-0 failed: quota exceeded",
                "2026-11-26T09:00:00Z",
            )
        ]
    )
    setattr(state, kind + "s", [_workload(kind, "db", desired=3, available=0, conditions=[])])
    [finding] = workloads.workload_unavailable(state)
    assert any("quota exceeded" in e for e in finding.evidence)
    assert finding.summary.startswith(f"{api_kind} db")


def test_deployment_replica_failure_is_evidence_and_cause() -> None:
    failure = {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": 'pods "web-5d8-x" is forbidden: exceeded quota: compute, requested: cpu=2',
    }
    state = ClusterState(
        deployments=[_workload("deployment", "web", desired=3, available=1, conditions=[failure])]
    )
    [finding] = workloads.workload_unavailable(state)
    assert any("ReplicaFailure=True FailedCreate" in e and "exceeded quota" in e for e in finding.evidence)
    assert "exceeded quota" in finding.summary


def _pvc() -> dict[str, Any]:
    return summarize(
        "pvc",
        {
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}},
            "status": {"phase": "Pending"},
        },
    )


def test_pending_pvc_quotes_the_newest_event() -> None:
    state = ClusterState(
        pvcs=[_pvc()],
        events=[
            _event(
                "PersistentVolumeClaim", "data", "ProvisioningFailed", "old: waiting", "2026-11-26T08:00:00Z"
            ),
            _event(
                "PersistentVolumeClaim", "data", "ProvisioningFailed", "new: quota", "2026-11-26T09:00:00Z"
            ),
        ],
    )
    [finding] = storage.pending_pvc(state)
    assert "new: quota" in finding.summary and "old: waiting" not in finding.summary
    assert "new: quota" in finding.evidence[1]  # newest event first


def test_pending_pvc_event_without_message_never_prints_none() -> None:
    state = ClusterState(
        pvcs=[_pvc()],
        events=[_event("PersistentVolumeClaim", "data", "ProvisioningFailed", None, "2026-11-26T09:00:00Z")],
    )
    [finding] = storage.pending_pvc(state)
    assert "None" not in finding.summary + " ".join(finding.evidence)
    assert "ProvisioningFailed" in finding.summary


def test_crashloop_without_last_state_never_says_exit_code_none() -> None:
    pod = summarize(
        "pod",
        {
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": "x"}]},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "app", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ],
            },
        },
    )
    [finding] = pods.crashloop(ClusterState(pods=[pod]))
    assert "None" not in finding.summary


def test_node_condition_without_reason_or_message_never_says_none_none() -> None:
    node = summarize(
        "node",
        {"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}},
    )
    [finding] = nodes.node_health(ClusterState(nodes=[node]))
    assert "None" not in finding.summary + " ".join(finding.evidence)
