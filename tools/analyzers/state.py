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
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.scoping import list_scoped
from tools.kubernetes.summarize import summarize
from tools.kubernetes.tools import bound_log

AlertSource = Callable[[], Awaitable[list[dict[str, Any]]]]
MAX_LOG_FETCHES = 5
"""Previous-instance logs fetched per analyze call (crash-looping containers only)."""
LOG_TAIL = 10

_KINDS = {
    "pods": "pod",
    "deployments": "deployment",
    "statefulsets": "statefulset",
    "daemonsets": "daemonset",
    "jobs": "job",
    "pvcs": "pvc",
}


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

    async def grab(kind: str, **kw: Any) -> list[dict[str, Any]]:
        _, raw = await list_scoped(client, kind, scope, namespace, tool=tool, **kw)
        return [summarize(kind, o) for o in raw]

    names = list(_KINDS)
    results = await asyncio.gather(
        *(grab(_KINDS[n]) for n in names),
        grab("event", field_selector="type=Warning"),
    )
    for attr, items in zip(names, results, strict=False):
        setattr(state, attr, items)
    state.events = results[-1]
    if namespace is None and scope.cluster_wide:
        _, raw_nodes = await list_scoped(client, "node", scope, None, tool=tool)
        state.nodes = [summarize("node", o) for o in raw_nodes]
    if alerts is not None:
        state.alerts, note = await _scoped_alerts(alerts, scope, namespace)
        if note:
            notes.append(note)
    notes += await _previous_logs(client, state)
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


async def _previous_logs(client: KubernetesClient, state: ClusterState) -> list[str]:
    wanted = [
        (pod["namespace"], pod["name"], c["name"])
        for pod in state.pods
        for c in pod["containers"]
        if c["state"] == "waiting" and c["state_reason"] == "CrashLoopBackOff"
    ]
    notes = []
    if len(wanted) > MAX_LOG_FETCHES:
        notes.append(f"Logs fetched for {MAX_LOG_FETCHES} of {len(wanted)} crash-looping containers.")

    async def one(ns: str, pod: str, container: str) -> None:
        try:
            text = await client.pod_logs(ns, pod, container=container, tail_lines=LOG_TAIL, previous=True)
        except ToolError:
            text = None
        if text:
            state.previous_logs[(ns, pod, container)] = bound_log(text, tail_lines=LOG_TAIL)[0]

    await asyncio.gather(*(one(*key) for key in wanted[:MAX_LOG_FETCHES]))
    return notes
