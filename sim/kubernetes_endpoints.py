"""What the EndpointSlice controller would have created: for every Service with a selector that the
scenario gives no EndpointSlice of its own, one slice with an endpoint per matching pod that has
an IP (not Pending, not terminated), `ready` from the pod's Ready condition, `targetRef` the pod."""

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


def _uid(kind: str, ns: str | None, name: str) -> str:
    """The uid the simulator renders for that object (sim/kubernetes.py `_render`)."""
    return f"00000000-0000-4000-8000-{zlib.crc32(repr((kind, ns, name)).encode()):012d}"


def _pod_ip(ns: str, name: str) -> str:
    n = zlib.crc32(f"{ns}/{name}".encode())
    return f"10.244.{(n >> 8) % 256}.{n % 254 + 1}"


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
        endpoints = []
        for pod in pods_by_ns.get(ns, []):
            meta = pod["metadata"]
            labels = meta.get("labels") or {}
            phase = (pod.get("status") or {}).get("phase")
            if meta.get("namespace") != ns or phase not in ("Running", None) or not pod.get("status"):
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            endpoints.append(
                {
                    "addresses": [_pod_ip(ns, meta["name"])],
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
                "port": p.get("targetPort", p.get("port")),
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
                            "uid": _uid("Service", ns, name),
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
