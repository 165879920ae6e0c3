"""Collect the scoped cluster state the analyzers read, through the same client and scoping rules
as the k8s_* tools: a scoped user's state is built from namespaced calls only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from kernel.errors import ToolError
from kernel.scope import EffectiveScope
from tools.analyzers.alerts import alert_namespace, is_firing
from tools.analyzers.base import ClusterState
from tools.analyzers.logs import collect_logs
from tools.analyzers.state_extra import check_named, collect_extra
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.facts import pod_facts, workload_facts
from tools.kubernetes.scoping import list_scoped, target_namespaces
from tools.kubernetes.summarize import summarize

AlertSource = Callable[[], Awaitable[list[dict[str, Any]]]]

_KINDS = {
    "pods": "pod",
    "deployments": "deployment",
    "statefulsets": "statefulset",
    "daemonsets": "daemonset",
    "replicasets": "replicaset",
    "jobs": "job",
    "pvcs": "pvc",
}
_TEMPLATED = frozenset({"deployment", "statefulset", "daemonset", "replicaset", "job"})


async def collect_state(
    client: KubernetesClient,
    scope: EffectiveScope,
    namespace: str | None,
    *,
    alerts: AlertSource | None = None,
    tool: str = "analyze",
    now: datetime | None = None,
) -> tuple[ClusterState, list[str]]:
    """(state, notes) — notes say what could not be read (alerts down, logs missing)."""
    notes: list[str] = []
    state = ClusterState(now=now)
    listed = target_namespaces(scope, namespace, tool=tool)
    state.listed_namespaces = frozenset(listed) if listed is not None else None

    async def grab(kind: str, **kw: Any) -> list[dict[str, Any]]:
        def reduce(o: dict[str, Any]) -> dict[str, Any]:
            item = summarize(kind, o)
            if kind == "pod":
                state.pod_refs[(item["namespace"], item["name"])] = pod_facts(o)
            elif kind in _TEMPLATED:
                state.template_refs[(kind, item["namespace"], item["name"])] = workload_facts(kind, o)
            return item

        # raw objects are reduced to summaries and facts as the response is parsed, then dropped
        _, items = await list_scoped(client, kind, scope, namespace, tool=tool, each=reduce, **kw)
        return items

    names = list(_KINDS)
    extra = asyncio.ensure_future(collect_extra(client, scope, namespace, state, tool=tool))
    try:
        results = await asyncio.gather(
            *(grab(_KINDS[n]) for n in names),
            grab("event", field_selector="type=Warning"),
        )
    finally:
        notes += await extra
    for attr, items in zip(names, results, strict=False):
        setattr(state, attr, items)
    state.events = results[-1]
    if namespace is None and scope.cluster_wide:
        _, state.nodes = await list_scoped(
            client, "node", scope, None, tool=tool, each=lambda o: summarize("node", o)
        )
    else:
        notes += await check_named(client, state)
    if alerts is not None:
        state.alerts, note = await _scoped_alerts(alerts, scope, namespace)
        if note:
            notes.append(note)
    notes += await collect_logs(client, state)
    return state, notes


async def _scoped_alerts(
    alerts: AlertSource, scope: EffectiveScope, namespace: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    try:
        items = await alerts()
    except (ToolError, OSError, TimeoutError) as exc:
        return (
            [],
            f"Firing alerts could not be read ({type(exc).__name__}); findings cover cluster state only.",
        )
    out = []
    for alert in items:
        if not isinstance(alert, dict) or not is_firing(alert):
            continue
        ns = alert_namespace(alert)
        if namespace is not None and ns != namespace:
            continue
        if scope.allows(ns):  # None (no namespace label) → cluster-wide scopes only
            out.append(alert)
    return out, None
