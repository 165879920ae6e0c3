"""Builders for realistic Kubernetes objects as the API server returns them (camelCase JSON),
used by the per-failure-kind fixtures in kinds_catalog.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
T0 = "2026-11-26T09:00:00Z"
T1 = "2026-11-26T09:50:00Z"
IMAGE = "registry.example.com/team/app:1.4.2"
REQUESTS = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


@dataclass(frozen=True)
class Case:
    id: str
    expect: tuple[str, str, str]
    """(analyzer, kind, name) of the finding the fault must raise."""
    needle: str
    """Text the finding's summary or evidence must contain (the cause, in the cluster's words)."""
    fault: list[Obj]
    healthy: list[Obj]
    logs: dict[tuple[str, str, str, bool], list[str]] = field(default_factory=dict)
    cluster_scoped: bool = False


def meta(ns: str | None, name: str, **extra: Any) -> Obj:
    out: Obj = {"name": name, **extra}
    if ns is not None:
        out["namespace"] = ns
    return out


def container(name: str = "app", **extra: Any) -> Obj:
    return {"name": name, "image": IMAGE, "resources": REQUESTS, **extra}


def running(name: str = "app", *, ready: bool = True, restarts: int = 0, last: Obj | None = None) -> Obj:
    status: Obj = {
        "name": name,
        "image": IMAGE,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": T0}},
    }
    if last:
        status["lastState"] = {"terminated": last}
    return status


def pod(
    ns: str,
    name: str,
    *,
    labels: dict[str, str] | None = None,
    phase: str = "Running",
    statuses: list[Obj] | None = None,
    spec: Obj | None = None,
    status: Obj | None = None,
    owner: tuple[str, str] | None = None,
) -> Obj:
    ready = all(s.get("ready") for s in statuses or [running()])
    md = meta(ns, name, labels=labels or {"app": name})
    if owner:
        md["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": f"u-{owner[1]}",
                "controller": True,
            }
        ]
    st: Obj = {
        "phase": phase,
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "True" if ready else "False"},
        ],
        "containerStatuses": statuses if statuses is not None else [running()],
        "startTime": T0,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": {"nodeName": "node-a", "containers": [container()], **(spec or {})},
        "status": {**st, **(status or {})},
    }


def event(ns: str | None, kind: str, name: str, reason: str, message: str, *, last: str = T1) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(ns or "default", f"{name}.{reason.lower()}.{last[-9:-1].replace(':', '')}"),
        "involvedObject": {"kind": kind, "name": name, **({"namespace": ns} if ns else {})},
        "type": "Warning",
        "reason": reason,
        "message": message,
        "count": 4,
        "lastTimestamp": last,
        "source": {"component": "kubelet"},
    }


def template(labels: dict[str, str], **spec: Any) -> Obj:
    return {"metadata": {"labels": labels}, "spec": {"containers": [container()], **spec}}


def deployment(ns: str, name: str, *, replicas: int = 2, available: int | None = None, **tpl: Any) -> Obj:
    avail = replicas if available is None else available
    conditions = [{"type": "Available", "status": "True" if avail == replicas else "False"}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(ns, name, labels={"app": name}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template({"app": name}, **tpl),
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": avail,
            "availableReplicas": avail,
            "updatedReplicas": replicas,
            "conditions": conditions,
        },
    }


def service(ns: str, name: str, *, selector: dict[str, str] | None = None, port: int = 80) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(ns, name),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.40.10",
            "selector": selector if selector is not None else {"app": name},
            "ports": [{"name": "http", "port": port, "targetPort": 8080, "protocol": "TCP"}],
        },
    }


def simple(api_version: str, kind: str, ns: str | None, name: str, **body: Any) -> Obj:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta(ns, name, **body.pop("md", {})), **body}


def configmap(ns: str, name: str, **md: Any) -> Obj:
    return simple("v1", "ConfigMap", ns, name, md=md, data={"app.yaml": "log_level: info\n"})


def secret(ns: str, name: str) -> Obj:
    # data a real cluster would hold: the simulator must never serve it, the analyzers never read it
    return simple(
        "v1", "Secret", ns, name, type="kubernetes.io/tls", data={"tls.key": "U0VDUkVULUtFWS1EQVRB"}
    )


def job(ns: str, name: str, *, spec: Obj | None = None, status: Obj | None = None) -> Obj:
    return simple(
        "batch/v1",
        "Job",
        ns,
        name,
        spec={
            "backoffLimit": 3,
            "template": template({"job-name": name}, restartPolicy="Never"),
            **(spec or {}),
        },
        status=status or {},
    )


def cronjob(ns: str, name: str, schedule: str, **spec: Any) -> Obj:
    tpl = {"spec": {"template": template({"app": name}, restartPolicy="OnFailure")}}
    return simple("batch/v1", "CronJob", ns, name, spec={"schedule": schedule, "jobTemplate": tpl, **spec})


def hpa(ns: str, name: str, target_kind: str, target: str, *, conditions: list[Obj] | None = None) -> Obj:
    return simple(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        ns,
        name,
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        status={"currentReplicas": 2, "desiredReplicas": 2, "conditions": conditions or []},
    )


def node(name: str, conditions: list[Obj]) -> Obj:
    return simple(
        "v1",
        "Node",
        None,
        name,
        spec={},
        status={
            "conditions": conditions,
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
        },
    )


def healthy_node_conditions() -> list[Obj]:
    return [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
        {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
        {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        },
    ]
