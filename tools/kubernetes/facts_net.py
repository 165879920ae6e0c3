"""Facts of the network kinds (EndpointSlices, Services, Ingresses, NetworkPolicies, admission
webhooks, Gateway API): see facts.py for the rules — no endpoint address ever leaves here."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.facts_base import base as _base
from tools.kubernetes.facts_base import label_selector
from tools.kubernetes.facts_base import meta_parts as _meta
from tools.kubernetes.fields import Obj, as_dict, as_list, conditions, opt_int, opt_str, str_map


def endpointslice(obj: Obj) -> Obj:
    """Counts and pod names only: endpoint addresses never leave this function."""
    meta = as_dict(obj.get("metadata"))
    ready, not_ready = 0, []
    for ep in as_list(obj.get("endpoints")):
        e = as_dict(ep)
        cond = as_dict(e.get("conditions"))
        # `ready` unset means ready (discovery/v1 semantics)
        if cond.get("ready") is False:
            target = as_dict(e.get("targetRef"))
            not_ready.append(str(target.get("name")) if target.get("name") else "(no pod reference)")
        else:
            ready += 1
    return {
        "kind": "endpointslice",
        "namespace": opt_str(meta.get("namespace")),
        "service": opt_str(str_map(meta.get("labels")).get("kubernetes.io/service-name")),
        "ready": ready,
        "not_ready_pods": not_ready,
    }


def service(obj: Obj) -> Obj:
    meta, spec, _ = _meta(obj)
    return {
        **_base("service", meta),
        "type": opt_str(spec.get("type")) or "ClusterIP",
        "selector": str_map(spec.get("selector")),
        "ports": [
            {"name": opt_str(as_dict(p).get("name")), "port": opt_int(as_dict(p).get("port"))}
            for p in as_list(spec.get("ports"))
        ],
    }


def _backend(value: Any) -> tuple[str, str] | None:
    svc = as_dict(as_dict(value).get("service"))
    if not svc.get("name"):
        return None  # a resource backend (or nothing): not a Service to check
    port = as_dict(svc.get("port"))
    return str(svc["name"]), str(port.get("number") or port.get("name") or "")


def ingress(obj: Obj) -> Obj:
    meta, spec, _ = _meta(obj)
    backends = [_backend(spec.get("defaultBackend"))]
    for rule in as_list(spec.get("rules")):
        for path in as_list(as_dict(as_dict(rule).get("http")).get("paths")):
            backends.append(_backend(as_dict(path).get("backend")))
    annotations = str_map(meta.get("annotations"))
    return {
        **_base("ingress", meta),
        "class": opt_str(spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")),
        "backends": sorted({b for b in backends if b}),
        "tls_secrets": sorted(
            {
                str(as_dict(t).get("secretName"))
                for t in as_list(spec.get("tls"))
                if as_dict(t).get("secretName")
            }
        ),
    }


def networkpolicy(obj: Obj) -> Obj:
    meta, spec, _ = _meta(obj)
    return {
        **_base("networkpolicy", meta),
        "pod_selector": label_selector(spec.get("podSelector")) or label_selector({}),
        "policy_types": [str(t) for t in as_list(spec.get("policyTypes"))],
    }


def webhooks(kind: str, obj: Obj) -> Obj:
    meta = as_dict(obj.get("metadata"))
    hooks = []
    for hook in as_list(obj.get("webhooks")):
        h = as_dict(hook)
        svc = as_dict(as_dict(h.get("clientConfig")).get("service"))
        hooks.append(
            {
                "name": str(h.get("name")),
                "service_namespace": opt_str(svc.get("namespace")),
                "service_name": opt_str(svc.get("name")),
                "failure_policy": opt_str(h.get("failurePolicy")) or "Fail",
            }
        )
    return {**_base(kind, meta), "webhooks": hooks}


def gateway(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    return {
        **_base("gateway", meta),
        "class": opt_str(spec.get("gatewayClassName")),
        "conditions": conditions(status),
        "allowed_from": sorted(
            {
                str(
                    as_dict(as_dict(as_dict(lst).get("allowedRoutes")).get("namespaces")).get("from")
                    or "Same"
                )
                for lst in as_list(spec.get("listeners"))
            }
        ),
    }


def httproute(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    ns = opt_str(meta.get("namespace"))
    parents = [
        (str(as_dict(p).get("namespace") or ns), str(as_dict(p).get("name")))
        for p in as_list(spec.get("parentRefs"))
    ]
    backends = [
        (str(as_dict(b).get("namespace") or ns), str(as_dict(b).get("name")), opt_int(as_dict(b).get("port")))
        for rule in as_list(spec.get("rules"))
        for b in as_list(as_dict(rule).get("backendRefs"))
        if str(as_dict(b).get("kind") or "Service") == "Service"
    ]
    route_conditions = [c for p in as_list(status.get("parents")) for c in conditions(as_dict(p))]
    return {
        **_base("httproute", meta),
        "parents": parents,
        "backends": backends,
        "conditions": route_conditions,
    }


def gatewayclass(obj: Obj) -> Obj:
    meta, spec, status = _meta(obj)
    return {
        **_base("gatewayclass", meta),
        "controller": opt_str(spec.get("controllerName")),
        "conditions": conditions(status),
    }
