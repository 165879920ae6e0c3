"""Pod summaries: phase, conditions, and per container ready/restarts/state/last termination,
image, requests/limits and env — with every env value replaced by `[redacted]` (names kept,
`valueFrom` shown as a reference): pod specs hold passwords in clear."""

from __future__ import annotations

from tools.kubernetes.fields import (
    Obj,
    annotation_map,
    as_dict,
    as_list,
    conditions,
    opt_int,
    opt_str,
    owner,
    str_map,
)

REDACTED_VALUE = "[redacted]"


def _env(container: Obj) -> list[Obj]:
    out = []
    for var in as_list(container.get("env")):
        v = as_dict(var)
        ref = as_dict(v.get("valueFrom"))
        if ref:
            out.append({"name": str(v.get("name")), "value": None, "value_from": _value_from(ref)})
        else:
            # the value itself never leaves this function: pod specs hold passwords in clear
            out.append({"name": str(v.get("name")), "value": REDACTED_VALUE, "value_from": None})
    return out


def _value_from(ref: Obj) -> str:
    if "secretKeyRef" in ref:
        r = as_dict(ref["secretKeyRef"])
        return f"secretKeyRef {r.get('name')}/{r.get('key')}"
    if "configMapKeyRef" in ref:
        r = as_dict(ref["configMapKeyRef"])
        return f"configMapKeyRef {r.get('name')}/{r.get('key')}"
    if "fieldRef" in ref:
        return f"fieldRef {as_dict(ref['fieldRef']).get('fieldPath')}"
    if "resourceFieldRef" in ref:
        return f"resourceFieldRef {as_dict(ref['resourceFieldRef']).get('resource')}"
    return "ref"


def _env_from(container: Obj) -> list[str]:
    out = []
    for src in as_list(container.get("envFrom")):
        s = as_dict(src)
        if "secretRef" in s:
            out.append(f"secretRef {as_dict(s['secretRef']).get('name')}")
        elif "configMapRef" in s:
            out.append(f"configMapRef {as_dict(s['configMapRef']).get('name')}")
    return out


def _state(state: Obj) -> tuple[str, str | None, str | None, int | None]:
    for name in ("waiting", "terminated", "running"):
        if name in state:
            s = as_dict(state[name])
            return name, opt_str(s.get("reason")), opt_str(s.get("message")), opt_int(s.get("exitCode"))
    return "unknown", None, None, None


def _container(spec: Obj, status: Obj, *, init: bool) -> Obj:
    state, reason, message, exit_code = _state(as_dict(status.get("state")))
    last = as_dict(as_dict(status.get("lastState")).get("terminated"))
    resources = as_dict(spec.get("resources"))
    return {
        "name": str(spec.get("name")),
        "init": init,
        "image": opt_str(spec.get("image") or status.get("image")),
        "ready": bool(status.get("ready", False)),
        "started": status.get("started") if isinstance(status.get("started"), bool) else None,
        "restart_count": opt_int(status.get("restartCount")) or 0,
        "state": state,
        "state_reason": reason,
        "state_message": message,
        "exit_code": exit_code,
        "last_termination": (
            {
                "reason": opt_str(last.get("reason")),
                "exit_code": opt_int(last.get("exitCode")),
                "finished_at": opt_str(last.get("finishedAt")),
            }
            if last
            else None
        ),
        "requests": str_map(resources.get("requests")),
        "limits": str_map(resources.get("limits")),
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
        statuses = {as_dict(s).get("name"): as_dict(s) for s in as_list(pod_status.get(status_key))}
        for c in as_list(pod_spec.get(key)):
            out.append(_container(as_dict(c), statuses.get(as_dict(c).get("name"), {}), init=init))
    return out


def pod(obj: Obj) -> Obj:
    meta, spec, status = as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))
    return {
        "kind": "pod",
        "name": str(meta.get("name")),
        "namespace": str(meta.get("namespace")),
        "phase": opt_str(status.get("phase")),
        "reason": opt_str(status.get("reason")),
        "message": opt_str(status.get("message")),
        "node": opt_str(spec.get("nodeName")),
        "owner": owner(meta),
        "labels": str_map(meta.get("labels")),
        "annotations": annotation_map(meta),
        "created": opt_str(meta.get("creationTimestamp")),
        "started": opt_str(status.get("startTime")),
        "deleting": meta.get("deletionTimestamp") is not None,
        "conditions": conditions(status),
        "containers": _containers(spec, status),
    }
