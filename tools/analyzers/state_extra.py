"""The kinds beyond pods and workloads: one list call per kind and namespace, summarized to
tools/kubernetes/facts.py records at once (raw objects are never kept).

Cluster-scoped kinds (StorageClasses, PVs, IngressClasses, GatewayClasses, webhooks) are listed
only for a cluster-wide scope. For a scoped user we only `get` the cluster-scoped objects their
own objects name (the StorageClass of their PVC, the class of their Ingress), and keep nothing
but "exists" — so a missing one is still found and nothing else about the cluster is revealed.
ConfigMaps and Secrets are read as metadata only (client.list_metadata).
"""

from __future__ import annotations

import asyncio

from kernel.errors import ToolError
from kernel.scope import EffectiveScope
from tools.analyzers.base import ClusterState
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.facts import FACTS
from tools.kubernetes.scoping import list_metadata_scoped, list_scoped, target_namespaces

NAMESPACED = (
    "service",
    "endpointslice",
    "ingress",
    "networkpolicy",
    "pdb",
    "hpa",
    "cronjob",
    "serviceaccount",
    "rolebinding",
    "role",
    "gateway",
    "httproute",
    "subscription",
    "catalogsource",
    "csv",
    "installplan",
    "operatorgroup",
)
METADATA = ("configmap", "secret")
CLUSTER = (
    "storageclass",
    "pv",
    "ingressclass",
    "gatewayclass",
    "mutatingwebhook",
    "validatingwebhook",
    "clustercatalog",
    "clusterextension",
)
MAX_NAMED_CHECKS = 20
"""Existence `get`s of cluster-scoped objects named by a scoped user's objects, per kind."""


async def collect_extra(
    client: KubernetesClient,
    scope: EffectiveScope,
    namespace: str | None,
    state: ClusterState,
    *,
    tool: str,
) -> list[str]:
    """Fill state.facts (+ cluster_names for cluster-wide scopes); returns notes on what failed."""
    notes: list[str] = []
    cluster_wide = namespace is None and scope.cluster_wide

    async def one(kind: str) -> None:
        try:
            if kind in METADATA:
                found = await list_metadata_scoped(client, kind, scope, namespace, tool=tool)
                facts = [FACTS[kind](o) for o in found]
            else:
                _, facts = await list_scoped(client, kind, scope, namespace, tool=tool, each=FACTS[kind])
        except ToolError as exc:  # forbidden by the operator's RBAC, or down: skip the checks
            if kind == "secret":  # not granted by default (docs/analyzers.md): say so plainly
                notes.append("Secret names are not readable here; checks for missing Secrets were skipped.")
            else:
                notes.append(
                    f"{kind} objects could not be read ({_short(exc)}); checks that need them skipped."
                )
            return
        state.facts[kind] = facts
        if kind in CLUSTER:
            state.cluster_names[kind] = {o["name"] for o in state.facts[kind]}

    kinds = [*NAMESPACED, *METADATA, *(CLUSTER if cluster_wide else ())]
    await asyncio.gather(*(one(k) for k in kinds))
    await _parent_gateways(client, scope, namespace, state, tool=tool)
    return notes


async def _parent_gateways(
    client: KubernetesClient, scope: EffectiveScope, namespace: str | None, state: ClusterState, *, tool: str
) -> None:
    """Gateways in other namespaces of the scope that the HTTPRoutes read name (bounded gets), so a
    route's parent is judged even when only the route's namespace was listed."""
    listed = target_namespaces(scope, namespace, tool=tool)
    if listed is None or "gateway" not in state.facts:
        return
    wanted = sorted(
        {p for r in state.of("httproute") for p in r["parents"] if p[0] not in listed and scope.allows(p[0])}
    )[:MAX_NAMED_CHECKS]

    async def get(ns: str, name: str) -> None:
        try:
            obj = await client.get("gateway", name, ns)
        except ToolError:
            return
        if obj is not None:
            state.facts["gateway"].append(FACTS["gateway"](obj))
        else:
            state.missing_parents.add((ns, name))

    await asyncio.gather(*(get(ns, name) for ns, name in wanted))


def named_cluster_objects(state: ClusterState) -> dict[str, set[str]]:
    """Cluster-scoped names the scoped user's own objects mention, per kind."""
    classes = {p["storage_class"] for p in state.pvcs if p["storage_class"]}
    classes |= {sc for t in state.template_refs.values() for sc in t["claim_storage_classes"]}
    return {
        "storageclass": classes,
        "ingressclass": {i["class"] for i in state.of("ingress") if i["class"]},
        "gatewayclass": {g["class"] for g in state.of("gateway") if g["class"]},
    }


async def check_named(client: KubernetesClient, state: ClusterState) -> list[str]:
    """For a scoped user: which of the cluster-scoped objects their objects name exist (bounded)."""
    notes: list[str] = []

    async def exists(kind: str, name: str) -> bool | None:
        try:
            return await client.get(kind, name, None) is not None
        except ToolError:
            return None

    for kind, names in named_cluster_objects(state).items():
        wanted = sorted(names)[:MAX_NAMED_CHECKS]
        if not wanted:
            continue
        found = await asyncio.gather(*(exists(kind, n) for n in wanted))
        if any(f is None for f in found):
            notes.append(f"Could not check which {kind} objects exist; that check is skipped.")
            continue
        # names beyond the cap count as existing: an unchecked name must not become a false "missing"
        state.cluster_names[kind] = {n for n, f in zip(wanted, found, strict=True) if f} | (
            names - set(wanted)
        )
    return notes


def _short(exc: Exception) -> str:
    return str(exc).split(":", 1)[0][:80]
