"""What the EndpointSlice controller would have created: for every Service with a selector that the
scenario gives no EndpointSlice of its own, one slice with an endpoint per matching pod that has
an IP (not Pending, not terminated) — its `status.podIP` when the scenario gives one — `ready` from
the pod's Ready condition, `targetRef` the pod."""

from __future__ import annotations

import zlib
from typing import Any

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _pod_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    statuses = status.get("containerStatuses") or []
    return bool(statuses) and all(s.get("ready") for s in statuses)


def _uid(obj: dict[str, Any]) -> str:
    """The uid the simulator renders for that object (sim/kubernetes.py `_render`): its own, if the
    scenario gives one."""
    meta = obj["metadata"]
    key = (obj["kind"], meta.get("namespace"), meta["name"])
    return str(meta.get("uid") or f"00000000-0000-4000-8000-{zlib.crc32(repr(key).encode()):012d}")


def _pod_ip(pod: dict[str, Any]) -> str:
    """The pod's own `status.podIP`, or a stable one from its name when the scenario gives none."""
    ip = (pod.get("status") or {}).get("podIP")
    if ip:
        return str(ip)
    n = zlib.crc32(f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}".encode())
    return f"10.244.{(n >> 8) % 256}.{n % 254 + 1}"


def _target_port(target: Any, pods: list[dict[str, Any]]) -> Any:
    """A named `targetPort` resolves, as the controller does, to the container port of that name."""
    if not isinstance(target, str):
        return target
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for port in c.get("ports") or []:
                if port.get("name") == target:
                    return port.get("containerPort")
    return target


def synthesized_endpoint_slices(
    objects: list[dict[str, Any]], namespace: str | None = None
) -> list[dict[str, Any]]:
    """Slices for the Services of `namespace` (None: all namespaces)."""
    have = {
        (o["metadata"].get("namespace"), (o["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL))
        for o in objects
        if o.get("kind") == "EndpointSlice"
    }
    pods_by_ns: dict[str | None, list[dict[str, Any]]] = {}
    for o in objects:
        if o.get("kind") == "Pod":
            pods_by_ns.setdefault(o["metadata"].get("namespace"), []).append(o)
    out = []
    for svc in objects:
        selector = (svc.get("spec") or {}).get("selector") if svc.get("kind") == "Service" else None
        ns, name = svc["metadata"].get("namespace"), svc["metadata"]["name"]
        if not selector or (ns, name) in have or (namespace is not None and ns != namespace):
            continue
        endpoints, selected = [], []
        for pod in pods_by_ns.get(ns, []):
            meta = pod["metadata"]
            labels = meta.get("labels") or {}
            phase = (pod.get("status") or {}).get("phase")
            if meta.get("namespace") != ns or phase not in ("Running", None) or not pod.get("status"):
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            selected.append(pod)
            endpoints.append(
                {
                    "addresses": [_pod_ip(pod)],
                    "conditions": {
                        "ready": _pod_ready(pod),
                        "serving": _pod_ready(pod),
                        "terminating": False,
                    },
                    "nodeName": (pod.get("spec") or {}).get("nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": meta["name"]},
                }
            )
        ports = [
            {
                "name": p.get("name", ""),
                "port": _target_port(p.get("targetPort", p.get("port")), selected),
                "protocol": p.get("protocol", "TCP"),
            }
            for p in (svc.get("spec") or {}).get("ports") or []
        ]
        out.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-{zlib.crc32(name.encode()) % 100000:05d}",
                    "namespace": ns,
                    "labels": {
                        SERVICE_NAME_LABEL: name,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "kind": "Service",
                            "name": name,
                            "uid": _uid(svc),
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
        )
    return out
