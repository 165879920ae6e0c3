"""REST paths of the kinds the client reads, so a read is one plain GET through the client's
`ApiClient` (same configuration, auth and TLS) instead of the generated `*Api` classes: importing
those builds hundreds of pydantic models (about a second of CPU on the first call of a process)
and validates every call's arguments, for responses we take raw anyway."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote


class KindSpec(Protocol):
    """What a path needs of client.KindSpec (a protocol: client.py imports this module)."""

    @property
    def api(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def namespaced(self) -> bool: ...
    @property
    def custom(self) -> tuple[str, str, str] | None: ...


API_ROOTS: dict[str, str] = {
    "CoreV1Api": "/api/v1",
    "AppsV1Api": "/apis/apps/v1",
    "BatchV1Api": "/apis/batch/v1",
    "AutoscalingV2Api": "/apis/autoscaling/v2",
    "DiscoveryV1Api": "/apis/discovery.k8s.io/v1",
    "NetworkingV1Api": "/apis/networking.k8s.io/v1",
    "PolicyV1Api": "/apis/policy/v1",
    "RbacAuthorizationV1Api": "/apis/rbac.authorization.k8s.io/v1",
    "StorageV1Api": "/apis/storage.k8s.io/v1",
    "AdmissionregistrationV1Api": "/apis/admissionregistration.k8s.io/v1",
    "EventsV1Api": "/apis/events.k8s.io/v1",
    "CoordinationV1Api": "/apis/coordination.k8s.io/v1",
}
"""Generated API class → its group/version root. A class not listed here is read through its
generated method (client.py falls back), so adding a kind never depends on this table."""


def plural(resource: str) -> str:
    """`persistent_volume_claim` → `persistentvolumeclaims`, `network_policy` → `networkpolicies`."""
    word = resource.replace("_", "")
    if word.endswith("s"):
        return word + "es"
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + "s"


def segment(value: str) -> str:
    return quote(value, safe="")


def collection(spec: KindSpec, namespace: str | None) -> str | None:
    """The list path of `spec` in `namespace` (None: all namespaces, or a cluster-scoped kind);
    None when the kind's API class is not in API_ROOTS."""
    if spec.custom is not None:
        group, version, name = spec.custom
        root = f"/apis/{group}/{version}"
    elif spec.api in API_ROOTS:
        root, name = API_ROOTS[spec.api], plural(spec.resource)
    else:
        return None
    if spec.namespaced and namespace is not None:
        return f"{root}/namespaces/{segment(namespace)}/{name}"
    return f"{root}/{name}"


def core_collection(resource: str, namespace: str | None) -> str:
    """A core/v1 list path by generated-method suffix (`config_map`), in a namespace or all."""
    where = f"/namespaces/{segment(namespace)}" if namespace else ""
    return f"{API_ROOTS['CoreV1Api']}{where}/{plural(resource)}"
