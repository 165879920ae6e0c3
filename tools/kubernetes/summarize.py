"""Raw Kubernetes objects (dicts from the API) → the summaries the model sees.

Summaries, never raw objects: what an on-call engineer reads in `kubectl describe`, minus
anything that can carry a secret. Env var values become `[redacted]` (names kept, `valueFrom`
shown as a reference), pod templates' env is dropped entirely, ConfigMap/Secret data is never
read, `last-applied-configuration` (a full copy of the spec, env values included) is dropped.
Every field is always present (null when unknown) so the output schemas can be strict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.kubernetes.fields import (
    Obj,
    as_dict,
    as_list,
    conditions,
    opt_int,
    opt_str,
    owner,
    selector_string,
    str_map,
)
from tools.kubernetes.pod_summary import REDACTED_VALUE, pod

__all__ = ["REDACTED_VALUE", "SUMMARIZERS", "pod", "summarize"]


# ---------------------------------------------------------------- workloads


def _template_images(spec: Obj) -> list[str]:
    pod_spec = as_dict(as_dict(spec.get("template")).get("spec"))
    return [str(as_dict(c).get("image")) for c in as_list(pod_spec.get("containers"))]


def _workload(kind: str, obj: Obj, replicas: Obj, strategy: Any) -> Obj:
    meta, spec, status = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    return {
        "kind": kind,
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": str_map(meta.get("labels")),
        "owner": owner(meta),
        "created": opt_str(meta.get("creationTimestamp")),
        "replicas": replicas,
        "conditions": conditions(status),
        "images": _template_images(spec),
        "strategy": opt_str(as_dict(strategy).get("type")),
        "selector": selector_string(spec.get("selector")),
        "paused": bool(spec.get("paused", False)),
        "revision": opt_str(as_dict(meta.get("annotations")).get("deployment.kubernetes.io/revision")),
    }


def _replicas(desired: Any, ready: Any, available: Any, updated: Any, unavailable: Any = None) -> Obj:
    d, a = opt_int(desired), opt_int(available) or 0
    u = opt_int(unavailable)
    if u is None and d is not None:
        u = max(d - a, 0)
    return {
        "desired": d,
        "ready": opt_int(ready) or 0,
        "available": a,
        "updated": opt_int(updated) or 0,
        "unavailable": u or 0,
    }


def deployment(obj: Obj) -> Obj:
    spec, st = as_dict(obj.get("spec")), as_dict(obj.get("status"))
    desired = spec.get("replicas", 1)
    reps = _replicas(
        desired,
        st.get("readyReplicas"),
        st.get("availableReplicas"),
        st.get("updatedReplicas"),
        st.get("unavailableReplicas"),
    )
    return _workload("deployment", obj, reps, spec.get("strategy"))


def statefulset(obj: Obj) -> Obj:
    spec, st = as_dict(obj.get("spec")), as_dict(obj.get("status"))
    reps = _replicas(
        spec.get("replicas", 1),
        st.get("readyReplicas"),
        st.get("availableReplicas"),
        st.get("updatedReplicas"),
    )
    return _workload("statefulset", obj, reps, spec.get("updateStrategy"))


def daemonset(obj: Obj) -> Obj:
    spec, st = as_dict(obj.get("spec")), as_dict(obj.get("status"))
    reps = _replicas(
        st.get("desiredNumberScheduled"),
        st.get("numberReady"),
        st.get("numberAvailable"),
        st.get("updatedNumberScheduled"),
        st.get("numberUnavailable"),
    )
    return _workload("daemonset", obj, reps, spec.get("updateStrategy"))


def replicaset(obj: Obj) -> Obj:
    spec, st = as_dict(obj.get("spec")), as_dict(obj.get("status"))
    reps = _replicas(
        spec.get("replicas", 1),
        st.get("readyReplicas"),
        st.get("availableReplicas"),
        st.get("fullyLabeledReplicas"),
    )
    return _workload("replicaset", obj, reps, None)


def job(obj: Obj) -> Obj:
    meta, spec, st = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    return {
        "kind": "job",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": str_map(meta.get("labels")),
        "owner": owner(meta),
        "active": opt_int(st.get("active")) or 0,
        "succeeded": opt_int(st.get("succeeded")) or 0,
        "failed": opt_int(st.get("failed")) or 0,
        "completions": opt_int(spec.get("completions")),
        "parallelism": opt_int(spec.get("parallelism")),
        "backoff_limit": opt_int(spec.get("backoffLimit")),
        "start_time": opt_str(st.get("startTime")),
        "completion_time": opt_str(st.get("completionTime")),
        "conditions": conditions(st),
        "images": _template_images(spec),
    }


def cronjob(obj: Obj) -> Obj:
    meta, spec, st = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    job_spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    return {
        "kind": "cronjob",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": str_map(meta.get("labels")),
        "schedule": opt_str(spec.get("schedule")),
        "suspend": bool(spec.get("suspend", False)),
        "last_schedule_time": opt_str(st.get("lastScheduleTime")),
        "last_successful_time": opt_str(st.get("lastSuccessfulTime")),
        "active_jobs": [str(as_dict(r).get("name")) for r in as_list(st.get("active"))],
        "images": _template_images(job_spec),
    }


# ---------------------------------------------------------------- the rest


def service(obj: Obj) -> Obj:
    meta, spec = as_dict(obj.get("metadata")), as_dict(obj.get("spec"))
    return {
        "kind": "service",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": str_map(meta.get("labels")),
        "type": opt_str(spec.get("type")) or "ClusterIP",
        "selector": selector_string(spec.get("selector")),
        "ports": [
            {
                "name": opt_str(as_dict(p).get("name")),
                "port": opt_int(as_dict(p).get("port")),
                "target_port": opt_str(as_dict(p).get("targetPort")),
                "protocol": opt_str(as_dict(p).get("protocol")) or "TCP",
                "node_port": opt_int(as_dict(p).get("nodePort")),
            }
            for p in as_list(spec.get("ports"))
        ],
    }


def _hpa_metric(metric: Obj) -> str:
    kind = str(metric.get("type"))
    body = as_dict(metric.get(kind[:1].lower() + kind[1:]))
    name = body.get("name") or as_dict(body.get("metric")).get("name")
    target = as_dict(body.get("target")) or as_dict(body.get("current"))
    value = next((f"{k}={v}" for k, v in target.items() if k != "type"), "")
    return f"{kind} {name} {value}".strip()


def hpa(obj: Obj) -> Obj:
    meta, spec, st = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    ref = as_dict(spec.get("scaleTargetRef"))
    return {
        "kind": "hpa",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "target": f"{ref.get('kind')}/{ref.get('name')}",
        "min_replicas": opt_int(spec.get("minReplicas")),
        "max_replicas": opt_int(spec.get("maxReplicas")),
        "current_replicas": opt_int(st.get("currentReplicas")),
        "desired_replicas": opt_int(st.get("desiredReplicas")),
        "targets": [_hpa_metric(as_dict(m)) for m in as_list(spec.get("metrics"))],
        "current": [_hpa_metric(as_dict(m)) for m in as_list(st.get("currentMetrics"))],
        "conditions": conditions(st),
    }


def event(obj: Obj) -> Obj:
    meta, inv = as_dict(obj.get("metadata")), as_dict(obj.get("involvedObject"))
    return {
        "kind": "event",
        "namespace": str(meta.get("namespace") or inv.get("namespace")),
        "type": opt_str(obj.get("type")),
        "reason": opt_str(obj.get("reason")),
        "message": opt_str(obj.get("message")),
        "involved_object": f"{inv.get('kind')}/{inv.get('name')}",
        "count": opt_int(obj.get("count")) or opt_int(as_dict(obj.get("series")).get("count")) or 1,
        "first_timestamp": opt_str(obj.get("firstTimestamp") or obj.get("eventTime")),
        "last_timestamp": opt_str(
            obj.get("lastTimestamp") or obj.get("eventTime") or meta.get("creationTimestamp")
        ),
        "source": opt_str(as_dict(obj.get("source")).get("component") or obj.get("reportingComponent")),
    }


def _taint(t: Obj) -> str:
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key')}{value}:{t.get('effect')}"


def node(obj: Obj) -> Obj:
    meta, spec, st = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    conds = conditions(st)
    ready = next((c["status"] for c in conds if c["type"] == "Ready"), "Unknown")
    labels = str_map(meta.get("labels"))
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    keep = ("cpu", "memory", "pods", "ephemeral-storage")
    return {
        "kind": "node",
        "name": str(meta.get("name")),
        "ready": ready,
        "unschedulable": bool(spec.get("unschedulable", False)),
        "roles": roles,
        "kubelet_version": opt_str(as_dict(st.get("nodeInfo")).get("kubeletVersion")),
        "capacity": {k: v for k, v in str_map(st.get("capacity")).items() if k in keep},
        "allocatable": {k: v for k, v in str_map(st.get("allocatable")).items() if k in keep},
        "taints": [_taint(as_dict(t)) for t in as_list(spec.get("taints"))],
        "conditions": conds,
    }


def pvc(obj: Obj) -> Obj:
    meta, spec, st = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    return {
        "kind": "pvc",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "phase": opt_str(st.get("phase")),
        "storage_class": opt_str(spec.get("storageClassName")),
        "requested": opt_str(as_dict(as_dict(spec.get("resources")).get("requests")).get("storage")),
        "capacity": opt_str(as_dict(st.get("capacity")).get("storage")),
        "access_modes": [str(m) for m in as_list(spec.get("accessModes"))],
        "volume": opt_str(spec.get("volumeName")),
    }


SUMMARIZERS: dict[str, Callable[[Obj], Obj]] = {
    "pod": pod,
    "deployment": deployment,
    "statefulset": statefulset,
    "daemonset": daemonset,
    "replicaset": replicaset,
    "job": job,
    "cronjob": cronjob,
    "service": service,
    "hpa": hpa,
    "event": event,
    "node": node,
    "pvc": pvc,
}


def summarize(kind: str, obj: Obj) -> Obj:
    return SUMMARIZERS[kind](obj)
