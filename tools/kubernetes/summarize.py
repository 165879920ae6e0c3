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

REDACTED_VALUE = "[redacted]"
MAX_ANNOTATION_CHARS = 256
MAX_ANNOTATIONS = 20
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

Obj = dict[str, Any]


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _i(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _d(value).items()}


def _annotations(meta: Obj) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _d(meta.get("annotations")).items():
        if key in _DROPPED_ANNOTATIONS or len(out) >= MAX_ANNOTATIONS:
            continue
        out[str(key)] = str(value)[:MAX_ANNOTATION_CHARS]
    return out


def _owner(meta: Obj) -> str | None:
    refs = _l(meta.get("ownerReferences"))
    ref = next((r for r in refs if _d(r).get("controller")), refs[0] if refs else None)
    return f"{_d(ref).get('kind')}/{_d(ref).get('name')}" if ref else None


def conditions(status: Obj) -> list[Obj]:
    return [
        {
            "type": str(_d(c).get("type")),
            "status": str(_d(c).get("status")),
            "reason": _s(_d(c).get("reason")),
            "message": _s(_d(c).get("message")),
            "last_transition": _s(_d(c).get("lastTransitionTime") or _d(c).get("lastUpdateTime")),
        }
        for c in _l(status.get("conditions"))
    ]


def selector_string(selector: Any) -> str | None:
    """A label selector object (or a Service's plain map) as the string `label_selector` takes."""
    sel = _d(selector)
    match = _d(sel.get("matchLabels")) if "matchLabels" in sel or "matchExpressions" in sel else sel
    parts = [f"{k}={v}" for k, v in match.items()]
    for expr in _l(sel.get("matchExpressions")):
        e = _d(expr)
        op, key, values = str(e.get("operator", "")), e.get("key"), ",".join(map(str, _l(e.get("values"))))
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}"}.get(
                op, f"!{key}"
            )
        )
    return ",".join(parts) or None


# ---------------------------------------------------------------- pods


def _env(container: Obj) -> list[Obj]:
    out = []
    for var in _l(container.get("env")):
        v = _d(var)
        ref = _d(v.get("valueFrom"))
        if ref:
            out.append({"name": str(v.get("name")), "value": None, "value_from": _value_from(ref)})
        else:
            # the value itself never leaves this function: pod specs hold passwords in clear
            out.append({"name": str(v.get("name")), "value": REDACTED_VALUE, "value_from": None})
    return out


def _value_from(ref: Obj) -> str:
    if "secretKeyRef" in ref:
        r = _d(ref["secretKeyRef"])
        return f"secretKeyRef {r.get('name')}/{r.get('key')}"
    if "configMapKeyRef" in ref:
        r = _d(ref["configMapKeyRef"])
        return f"configMapKeyRef {r.get('name')}/{r.get('key')}"
    if "fieldRef" in ref:
        return f"fieldRef {_d(ref['fieldRef']).get('fieldPath')}"
    if "resourceFieldRef" in ref:
        return f"resourceFieldRef {_d(ref['resourceFieldRef']).get('resource')}"
    return "ref"


def _env_from(container: Obj) -> list[str]:
    out = []
    for src in _l(container.get("envFrom")):
        s = _d(src)
        if "secretRef" in s:
            out.append(f"secretRef {_d(s['secretRef']).get('name')}")
        elif "configMapRef" in s:
            out.append(f"configMapRef {_d(s['configMapRef']).get('name')}")
    return out


def _state(state: Obj) -> tuple[str, str | None, str | None, int | None]:
    for name in ("waiting", "terminated", "running"):
        if name in state:
            s = _d(state[name])
            return name, _s(s.get("reason")), _s(s.get("message")), _i(s.get("exitCode"))
    return "unknown", None, None, None


def _container(spec: Obj, status: Obj, *, init: bool) -> Obj:
    state, reason, message, exit_code = _state(_d(status.get("state")))
    last = _d(_d(status.get("lastState")).get("terminated"))
    resources = _d(spec.get("resources"))
    return {
        "name": str(spec.get("name")),
        "init": init,
        "image": _s(spec.get("image") or status.get("image")),
        "ready": bool(status.get("ready", False)),
        "started": status.get("started") if isinstance(status.get("started"), bool) else None,
        "restart_count": _i(status.get("restartCount")) or 0,
        "state": state,
        "state_reason": reason,
        "state_message": message,
        "exit_code": exit_code,
        "last_termination": (
            {
                "reason": _s(last.get("reason")),
                "exit_code": _i(last.get("exitCode")),
                "finished_at": _s(last.get("finishedAt")),
            }
            if last
            else None
        ),
        "requests": _str_map(resources.get("requests")),
        "limits": _str_map(resources.get("limits")),
        "env": _env(spec),
        "env_from": _env_from(spec),
        "probes": [p for p in ("livenessProbe", "readinessProbe", "startupProbe") if p in spec],
    }


def _containers(pod_spec: Obj, pod_status: Obj) -> list[Obj]:
    out = []
    for key, status_key, init in (
        ("initContainers", "initContainerStatuses", True),
        ("containers", "containerStatuses", False),
    ):
        statuses = {_d(s).get("name"): _d(s) for s in _l(pod_status.get(status_key))}
        for c in _l(pod_spec.get(key)):
            out.append(_container(_d(c), statuses.get(_d(c).get("name"), {}), init=init))
    return out


def pod(obj: Obj) -> Obj:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    return {
        "kind": "pod",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "phase": _s(status.get("phase")),
        "reason": _s(status.get("reason")),
        "message": _s(status.get("message")),
        "node": _s(spec.get("nodeName")),
        "owner": _owner(meta),
        "labels": _str_map(meta.get("labels")),
        "annotations": _annotations(meta),
        "created": _s(meta.get("creationTimestamp")),
        "started": _s(status.get("startTime")),
        "deleting": meta.get("deletionTimestamp") is not None,
        "conditions": conditions(status),
        "containers": _containers(spec, status),
    }


# ---------------------------------------------------------------- workloads


def _template_images(spec: Obj) -> list[str]:
    pod_spec = _d(_d(spec.get("template")).get("spec"))
    return [str(_d(c).get("image")) for c in _l(pod_spec.get("containers"))]


def _workload(kind: str, obj: Obj, replicas: Obj, strategy: Any) -> Obj:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    return {
        "kind": kind,
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": _str_map(meta.get("labels")),
        "owner": _owner(meta),
        "created": _s(meta.get("creationTimestamp")),
        "replicas": replicas,
        "conditions": conditions(status),
        "images": _template_images(spec),
        "strategy": _s(_d(strategy).get("type")),
        "selector": selector_string(spec.get("selector")),
        "paused": bool(spec.get("paused", False)),
        "revision": _s(_d(meta.get("annotations")).get("deployment.kubernetes.io/revision")),
    }


def _replicas(desired: Any, ready: Any, available: Any, updated: Any, unavailable: Any = None) -> Obj:
    d, a = _i(desired), _i(available) or 0
    u = _i(unavailable)
    if u is None and d is not None:
        u = max(d - a, 0)
    return {
        "desired": d,
        "ready": _i(ready) or 0,
        "available": a,
        "updated": _i(updated) or 0,
        "unavailable": u or 0,
    }


def deployment(obj: Obj) -> Obj:
    spec, st = _d(obj.get("spec")), _d(obj.get("status"))
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
    spec, st = _d(obj.get("spec")), _d(obj.get("status"))
    reps = _replicas(
        spec.get("replicas", 1),
        st.get("readyReplicas"),
        st.get("availableReplicas"),
        st.get("updatedReplicas"),
    )
    return _workload("statefulset", obj, reps, spec.get("updateStrategy"))


def daemonset(obj: Obj) -> Obj:
    spec, st = _d(obj.get("spec")), _d(obj.get("status"))
    reps = _replicas(
        st.get("desiredNumberScheduled"),
        st.get("numberReady"),
        st.get("numberAvailable"),
        st.get("updatedNumberScheduled"),
        st.get("numberUnavailable"),
    )
    return _workload("daemonset", obj, reps, spec.get("updateStrategy"))


def replicaset(obj: Obj) -> Obj:
    spec, st = _d(obj.get("spec")), _d(obj.get("status"))
    reps = _replicas(
        spec.get("replicas", 1),
        st.get("readyReplicas"),
        st.get("availableReplicas"),
        st.get("fullyLabeledReplicas"),
    )
    return _workload("replicaset", obj, reps, None)


def job(obj: Obj) -> Obj:
    meta, spec, st = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    return {
        "kind": "job",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": _str_map(meta.get("labels")),
        "owner": _owner(meta),
        "active": _i(st.get("active")) or 0,
        "succeeded": _i(st.get("succeeded")) or 0,
        "failed": _i(st.get("failed")) or 0,
        "completions": _i(spec.get("completions")),
        "parallelism": _i(spec.get("parallelism")),
        "backoff_limit": _i(spec.get("backoffLimit")),
        "start_time": _s(st.get("startTime")),
        "completion_time": _s(st.get("completionTime")),
        "conditions": conditions(st),
        "images": _template_images(spec),
    }


def cronjob(obj: Obj) -> Obj:
    meta, spec, st = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    job_spec = _d(_d(spec.get("jobTemplate")).get("spec"))
    return {
        "kind": "cronjob",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": _str_map(meta.get("labels")),
        "schedule": _s(spec.get("schedule")),
        "suspend": bool(spec.get("suspend", False)),
        "last_schedule_time": _s(st.get("lastScheduleTime")),
        "last_successful_time": _s(st.get("lastSuccessfulTime")),
        "active_jobs": [str(_d(r).get("name")) for r in _l(st.get("active"))],
        "images": _template_images(job_spec),
    }


# ---------------------------------------------------------------- the rest


def service(obj: Obj) -> Obj:
    meta, spec = _d(obj.get("metadata")), _d(obj.get("spec"))
    return {
        "kind": "service",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "labels": _str_map(meta.get("labels")),
        "type": _s(spec.get("type")) or "ClusterIP",
        "selector": selector_string(spec.get("selector")),
        "ports": [
            {
                "name": _s(_d(p).get("name")),
                "port": _i(_d(p).get("port")),
                "target_port": _s(_d(p).get("targetPort")),
                "protocol": _s(_d(p).get("protocol")) or "TCP",
                "node_port": _i(_d(p).get("nodePort")),
            }
            for p in _l(spec.get("ports"))
        ],
    }


def _hpa_metric(metric: Obj) -> str:
    kind = str(metric.get("type"))
    body = _d(metric.get(kind[:1].lower() + kind[1:]))
    name = body.get("name") or _d(body.get("metric")).get("name")
    target = _d(body.get("target")) or _d(body.get("current"))
    value = next((f"{k}={v}" for k, v in target.items() if k != "type"), "")
    return f"{kind} {name} {value}".strip()


def hpa(obj: Obj) -> Obj:
    meta, spec, st = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    ref = _d(spec.get("scaleTargetRef"))
    return {
        "kind": "hpa",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "target": f"{ref.get('kind')}/{ref.get('name')}",
        "min_replicas": _i(spec.get("minReplicas")),
        "max_replicas": _i(spec.get("maxReplicas")),
        "current_replicas": _i(st.get("currentReplicas")),
        "desired_replicas": _i(st.get("desiredReplicas")),
        "targets": [_hpa_metric(_d(m)) for m in _l(spec.get("metrics"))],
        "current": [_hpa_metric(_d(m)) for m in _l(st.get("currentMetrics"))],
        "conditions": conditions(st),
    }


def event(obj: Obj) -> Obj:
    meta, inv = _d(obj.get("metadata")), _d(obj.get("involvedObject"))
    return {
        "kind": "event",
        "namespace": str(meta.get("namespace") or inv.get("namespace")),
        "type": _s(obj.get("type")),
        "reason": _s(obj.get("reason")),
        "message": _s(obj.get("message")),
        "involved_object": f"{inv.get('kind')}/{inv.get('name')}",
        "count": _i(obj.get("count")) or _i(_d(obj.get("series")).get("count")) or 1,
        "first_timestamp": _s(obj.get("firstTimestamp") or obj.get("eventTime")),
        "last_timestamp": _s(
            obj.get("lastTimestamp") or obj.get("eventTime") or meta.get("creationTimestamp")
        ),
        "source": _s(_d(obj.get("source")).get("component") or obj.get("reportingComponent")),
    }


def _taint(t: Obj) -> str:
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key')}{value}:{t.get('effect')}"


def node(obj: Obj) -> Obj:
    meta, spec, st = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    conds = conditions(st)
    ready = next((c["status"] for c in conds if c["type"] == "Ready"), "Unknown")
    labels = _str_map(meta.get("labels"))
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    keep = ("cpu", "memory", "pods", "ephemeral-storage")
    return {
        "kind": "node",
        "name": str(meta.get("name")),
        "ready": ready,
        "unschedulable": bool(spec.get("unschedulable", False)),
        "roles": roles,
        "kubelet_version": _s(_d(st.get("nodeInfo")).get("kubeletVersion")),
        "capacity": {k: v for k, v in _str_map(st.get("capacity")).items() if k in keep},
        "allocatable": {k: v for k, v in _str_map(st.get("allocatable")).items() if k in keep},
        "taints": [_taint(_d(t)) for t in _l(spec.get("taints"))],
        "conditions": conds,
    }


def pvc(obj: Obj) -> Obj:
    meta, spec, st = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    return {
        "kind": "pvc",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "phase": _s(st.get("phase")),
        "storage_class": _s(spec.get("storageClassName")),
        "requested": _s(_d(_d(spec.get("resources")).get("requests")).get("storage")),
        "capacity": _s(_d(st.get("capacity")).get("storage")),
        "access_modes": [str(m) for m in _l(spec.get("accessModes"))],
        "volume": _s(spec.get("volumeName")),
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
