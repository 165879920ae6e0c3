"""Configuration hygiene that k8sgpt reports, in the form that is a fault rather than noise: the
`default` ServiceAccount when it holds permissions (a RoleBinding names it) and workloads run as it
with its token mounted; ConfigMaps with no data (told by managedFields: their content is never
read); volumes under 1 GiB."""

from __future__ import annotations

import re

from tools.analyzers.base import ClusterState, Finding, tool_call
from tools.analyzers.refs import SYSTEM_CONFIGMAPS, workload_owners

MAX_LISTED = 10
GIB = 2**30
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([KMGTPE]i|[kKMGTPE]|m|[eE][0-9]+)?\s*$")
_FACTOR: dict[str, float] = {
    **{s + "i": 1024 ** (n + 1) for n, s in enumerate("KMGTPE")},
    **{s: 1000 ** (n + 1) for n, s in enumerate("kMGTPE")},
    "K": 1000,
    "m": 0.001,
}


def quantity_bytes(value: str | None) -> float | None:
    """A resource.Quantity (`500Mi`, `1G`, `1e9`, `1.5Gi`) in bytes; None when it is not one."""
    match = _QUANTITY.match(value or "")
    if not match:
        return None
    number, suffix = float(match.group(1)), match.group(2) or ""
    if suffix[:1] in ("e", "E"):
        exponent = int(suffix[1:])
        return number * 10.0**exponent if exponent < 300 else None  # beyond a float: not a size
    return number * _FACTOR.get(suffix, 1)


def default_service_account(state: ClusterState) -> list[Finding]:
    if "rolebinding" not in state.facts:
        return []
    grants: dict[str, list[str]] = {}
    for rb in state.of("rolebinding"):
        ns = rb["namespace"] or ""
        if (ns, "default") in rb["service_accounts"]:
            grants.setdefault(ns, []).append(
                f"RoleBinding {rb['name']} grants {rb['role_kind']} {rb['role_name']}"
            )
    if not grants:
        return []
    unmounted = {
        sa["namespace"]
        for sa in state.of("serviceaccount")
        if sa["name"] == "default" and sa["automount_token"] is False
    }
    users: dict[str, list[str]] = {}
    for kind, ns, name, refs in sorted(workload_owners(state), key=lambda o: o[:3]):
        if ns not in grants or refs["service_account"] not in (None, "default"):
            continue  # the API server fills an absent serviceAccountName with "default"
        mounted = refs["automount_token"] if refs["automount_token"] is not None else ns not in unmounted
        if mounted:
            users.setdefault(ns, []).append(f"{kind}/{ns}/{name}")
    out = []
    for ns, who in sorted(users.items()):
        out.append(
            Finding(
                analyzer="default_serviceaccount",
                severity="warning",
                namespace=ns,
                kind="serviceaccount",
                name="default",
                summary=(
                    f"The default ServiceAccount of namespace {ns} holds permissions and {len(who)} "
                    f"workload(s) run as it with its token mounted: every one of them gets those "
                    "permissions. Give the workload that needs them its own ServiceAccount."
                ),
                evidence=(
                    *grants[ns],
                    *(f"runs as default with its token mounted: {w}" for w in who[:MAX_LISTED]),
                    *([f"… and {len(who) - MAX_LISTED} more"] if len(who) > MAX_LISTED else []),
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns),
                related=tuple(who[:MAX_LISTED]),
            )
        )
    return out


def empty_configmaps(state: ClusterState) -> list[Finding]:
    if "configmap" not in state.facts:
        return []
    users: dict[tuple[str, str], str] = {}
    for kind, ns, name, refs in workload_owners(state):
        for cm in refs["configmaps"]:
            users.setdefault((ns, cm), f"{kind}/{ns}/{name}")
    out = []
    for cm in state.of("configmap"):
        ns, name = cm["namespace"] or "", cm["name"]
        if cm.get("data_keys") != 0 or name in SYSTEM_CONFIGMAPS:
            continue  # None: managedFields cannot tell, so say nothing
        user = users.get((ns, name))
        out.append(
            Finding(
                analyzer="configmap_empty",
                severity="warning" if user else "info",
                namespace=ns,
                kind="configmap",
                name=name,
                summary=(
                    f"ConfigMap {name} holds no data"
                    + (f", yet {user} reads it: it gets no settings from it." if user else ".")
                ),
                evidence=(
                    "managedFields name no data or binaryData key (read as metadata only)",
                    *([f"referenced by {user}"] if user else []),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"ConfigMap/{name}"),
                related=(user,) if user else (),
            )
        )
    return out


def small_volumes(state: ClusterState) -> list[Finding]:
    out = []
    claims = [
        (p["namespace"], "pvc", "PersistentVolumeClaim", p["name"], "requests", p["requested"])
        for p in state.pvcs
        if p["phase"] not in ("Pending", "Lost")  # pending_pvc names those
    ]
    volumes = [
        (None, "pv", "PersistentVolume", v["name"], "has a capacity of", v["capacity"])
        for v in state.of("pv")
    ]
    for ns, kind, title, name, verb, size in [*claims, *volumes]:
        size_bytes = quantity_bytes(size)
        if size_bytes is None or size_bytes >= GIB:
            continue
        out.append(
            Finding(
                analyzer="small_volume",
                severity="info",
                namespace=ns,
                kind=kind,
                name=name,
                summary=(
                    f"{title} {name} {verb} only {size} (under 1 GiB): cloud block-storage provisioners "
                    "commonly round such volumes up to their minimum or refuse them; "
                    "check the size is intended."
                ),
                evidence=(
                    f"{'spec.resources.requests' if kind == 'pvc' else 'spec.capacity'}.storage {size}",
                ),
                next_query=tool_call("k8s_get", kind="pvc", name=name, namespace=ns)
                if ns
                else tool_call("k8s_events", involved_object=f"PersistentVolume/{name}"),
            )
        )
    return out
