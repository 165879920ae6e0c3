"""Raw objects → the compact facts the analyzers need beyond the k8s_* tool summaries.

Same rules as summarize.py: tolerant of any shape (a missing or odd field gives a neutral value,
never an exception), and nothing that can carry a secret or an address: no env values, no
ConfigMap/Secret data (only their metadata is ever read), no endpoint IPs (only counts and the
names of the pods behind them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.kubernetes.facts_base import base as _base
from tools.kubernetes.facts_base import label_selector, selects
from tools.kubernetes.facts_base import meta_parts as _meta
from tools.kubernetes.facts_net import (
    endpointslice,
    gateway,
    gatewayclass,
    httproute,
    ingress,
    networkpolicy,
    service,
    webhooks,
)
from tools.kubernetes.facts_olm import OLM_FACTS
from tools.kubernetes.fields import Obj, as_dict, as_list, conditions, opt_int, opt_str, owner, str_map

__all__ = ["FACTS", "label_selector", "pod_facts", "selects", "workload_facts"]


# ---------------------------------------------------------------- pod specs (pods and templates)


def pod_spec_refs(spec: Obj) -> Obj:
    """What a pod spec references by name (ConfigMaps, Secrets, SA, claims) and runs privileged."""
    configmaps: dict[str, bool] = {}  # name → optional
    secrets: dict[str, bool] = {}
    claims: list[str] = []

    def ref(target: dict[str, bool], src: Any) -> None:
        d = as_dict(src)
        if d.get("name"):
            name = str(d["name"])
            target[name] = target.get(name, True) and bool(d.get("optional", False))

    containers = [as_dict(c) for key in ("initContainers", "containers") for c in as_list(spec.get(key))]
    for c in containers:
        for env in as_list(c.get("env")):
            value_from = as_dict(as_dict(env).get("valueFrom"))
            ref(configmaps, value_from.get("configMapKeyRef"))
            ref(secrets, value_from.get("secretKeyRef"))
        for src in as_list(c.get("envFrom")):
            ref(configmaps, as_dict(src).get("configMapRef"))
            ref(secrets, as_dict(src).get("secretRef"))
    for vol in as_list(spec.get("volumes")):
        v = as_dict(vol)
        ref(configmaps, v.get("configMap"))
        secret = as_dict(v.get("secret"))
        if secret.get("secretName"):
            ref(secrets, {"name": secret["secretName"], "optional": secret.get("optional")})
        for source in as_list(as_dict(v.get("projected")).get("sources")):
            ref(configmaps, as_dict(source).get("configMap"))
            ref(secrets, as_dict(source).get("secret"))
        claim = as_dict(v.get("persistentVolumeClaim")).get("claimName")
        if claim:
            claims.append(str(claim))
    return {
        "configmaps": configmaps,
        "secrets": secrets,
        "pull_secrets": [
            str(as_dict(s).get("name"))
            for s in as_list(spec.get("imagePullSecrets"))
            if as_dict(s).get("name")
        ],
        "service_account": opt_str(spec.get("serviceAccountName") or spec.get("serviceAccount")),
        "automount_token": _opt_bool(spec.get("automountServiceAccountToken")),
        "claims": claims,
        "privileged": [
            str(c.get("name"))
            for c in containers
            if as_dict(c.get("securityContext")).get("privileged") is True
        ],
        "without_requests": [
            str(c.get("name"))
            for c in as_list(spec.get("containers"))
            if not as_dict(as_dict(as_dict(c).get("resources")).get("requests"))
        ],
        "scheduling_gates": [str(as_dict(g).get("name")) for g in as_list(spec.get("schedulingGates"))],
        "restart_policy": opt_str(spec.get("restartPolicy")),
        "container_count": len(as_list(spec.get("containers"))),
    }


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def pod_facts(obj: Obj) -> Obj:
    meta, spec, _ = _meta(obj)
    return {**_base("pod", meta), **pod_spec_refs(spec)}


def workload_facts(kind: str, obj: Obj) -> Obj:
    """Deployments/StatefulSets/DaemonSets/ReplicaSets/Jobs: their pod template's references."""
    meta, spec, _ = _meta(obj)
    template = as_dict(as_dict(spec.get("template")).get("spec"))
    return {
        **_base(kind, meta),
        **pod_spec_refs(template),
        "owner": owner(meta),
        "suspend": spec.get("suspend") is True,
        "service_name": opt_str(spec.get("serviceName")),
        "claim_storage_classes": [
            str(sc)
            for t in as_list(spec.get("volumeClaimTemplates"))
            if (sc := as_dict(as_dict(t).get("spec")).get("storageClassName"))
        ],
    }


# ---------------------------------------------------------------- policy, rbac, storage, scaling


def pdb(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    return {
        **_base("pdb", meta),
        "selector": label_selector(spec.get("selector")),
        "min_available": opt_str(spec.get("minAvailable")),
        "max_unavailable": opt_str(spec.get("maxUnavailable")),
        "current_healthy": opt_int(status.get("currentHealthy")),
        "desired_healthy": opt_int(status.get("desiredHealthy")),
        "disruptions_allowed": opt_int(status.get("disruptionsAllowed")),
        "conditions": conditions(status),
    }


def rolebinding(obj: Obj) -> Obj:
    meta = as_dict(obj.get("metadata"))
    ref = as_dict(obj.get("roleRef"))
    return {
        **_base("rolebinding", meta),
        "role_kind": opt_str(ref.get("kind")),
        "role_name": opt_str(ref.get("name")),
        "service_accounts": [
            (str(as_dict(s).get("namespace") or meta.get("namespace")), str(as_dict(s).get("name")))
            for s in as_list(obj.get("subjects"))
            if as_dict(s).get("kind") == "ServiceAccount"
        ],
    }


def role(obj: Obj) -> Obj:
    meta = as_dict(obj.get("metadata"))
    wildcard = any(
        "*" in as_list(as_dict(r).get(key))
        for r in as_list(obj.get("rules"))
        for key in ("verbs", "resources")
    )
    return {**_base("role", meta), "wildcard": wildcard}


def storageclass(obj: Obj) -> Obj:
    meta = as_dict(obj.get("metadata"))
    annotations = str_map(meta.get("annotations"))
    return {
        **_base("storageclass", meta),
        "provisioner": opt_str(obj.get("provisioner")),
        "default": "true"
        in (
            annotations.get("storageclass.kubernetes.io/is-default-class"),
            annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
        ),
    }


def pv(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    claim = as_dict(spec.get("claimRef"))
    return {
        **_base("pv", meta),
        "phase": opt_str(status.get("phase")),
        "message": opt_str(status.get("message")),
        "reason": opt_str(status.get("reason")),
        "storage_class": opt_str(spec.get("storageClassName")),
        "capacity": opt_str(as_dict(spec.get("capacity")).get("storage")),
        "claim": f"{claim.get('namespace')}/{claim.get('name')}" if claim.get("name") else None,
        "reclaim_policy": opt_str(spec.get("persistentVolumeReclaimPolicy")),
    }


def cronjob(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    return {
        **_base("cronjob", meta),
        "schedule": opt_str(spec.get("schedule")),
        "suspend": spec.get("suspend") is True,
        "starting_deadline": opt_int(spec.get("startingDeadlineSeconds")),
        "last_schedule_time": opt_str(status.get("lastScheduleTime")),
    }


def hpa(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    ref = as_dict(spec.get("scaleTargetRef"))
    return {
        **_base("hpa", meta),
        "target_kind": opt_str(ref.get("kind")),
        "target_name": opt_str(ref.get("name")),
        "min_replicas": opt_int(spec.get("minReplicas")) or 1,
        "max_replicas": opt_int(spec.get("maxReplicas")),
        "current_replicas": opt_int(status.get("currentReplicas")),
        "resource_metrics": any(
            str(as_dict(m).get("type")) in ("Resource", "ContainerResource")
            for m in as_list(spec.get("metrics"))
        )
        or not as_list(spec.get("metrics")),  # no metrics → the default CPU utilization target
        "conditions": conditions(status),
    }


KEPT_ANNOTATION_VALUES = frozenset({"aiops.io/ignore-unused"})


def data_keys(meta: Obj) -> int | None:
    """How many `data`/`binaryData` keys the object holds, told by its managedFields (which name
    the fields every writer set, never their values); None when that cannot be told (no
    managedFields, or an entry without its field set)."""
    entries = as_list(meta.get("managedFields"))
    if not entries:
        return None
    keys: set[str] = set()
    for entry in entries:
        fields = as_dict(entry).get("fieldsV1")
        if not isinstance(fields, dict):
            return None
        for section in ("f:data", "f:binaryData"):
            keys |= {f"{section}/{k}" for k in as_dict(fields.get(section)) if k.startswith("f:")}
    return len(keys)


def metadata_only(obj: Obj) -> Obj:
    """ConfigMaps and Secrets: name and labels from a PartialObjectMetadataList item. Annotation
    values are dropped (kubectl's last-applied-configuration of a Secret holds its data), keys kept."""
    meta = as_dict(obj.get("metadata"))
    out = _base("metadata", meta)
    annotations = out["annotations"]
    out["annotations"] = {k: (v if k in KEPT_ANNOTATION_VALUES else "") for k, v in annotations.items()}
    out["data_keys"] = data_keys(meta)
    return out


def serviceaccount(obj: Obj) -> Obj:
    return {
        **_base("serviceaccount", as_dict(obj.get("metadata"))),
        "automount_token": _opt_bool(obj.get("automountServiceAccountToken")),
    }


FACTS: dict[str, Callable[[Obj], Obj]] = {
    "endpointslice": endpointslice,
    "ingress": ingress,
    "networkpolicy": networkpolicy,
    "mutatingwebhook": lambda o: webhooks("mutatingwebhook", o),
    "validatingwebhook": lambda o: webhooks("validatingwebhook", o),
    "gateway": gateway,
    "httproute": httproute,
    "gatewayclass": gatewayclass,
    "pdb": pdb,
    "rolebinding": rolebinding,
    "role": role,
    "storageclass": storageclass,
    "pv": pv,
    "ingressclass": lambda o: _base("ingressclass", as_dict(o.get("metadata"))),
    "serviceaccount": serviceaccount,
    "configmap": metadata_only,
    "secret": metadata_only,
    "service": service,
    "cronjob": cronjob,
    "hpa": hpa,
    **OLM_FACTS,
}
