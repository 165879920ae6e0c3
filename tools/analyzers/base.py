"""The analyzer contract: a pure function from the scoped cluster state to findings.

`ClusterState` holds *summaries* (tools/kubernetes/summarize.py), already restricted to the job's
scope, so an analyzer can neither see nor report anything outside it. Adding an analyzer = one
function + one line in `registry.ANALYZERS` + a scenario in sim/scenarios/ and a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
Obj = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    analyzer: str
    severity: Severity
    namespace: str | None
    """None for cluster-scoped resources (nodes) and cluster-wide alerts."""
    kind: str
    name: str
    summary: str
    evidence: tuple[str, ...]
    next_query: str
    """A tool call (`k8s_pod_logs {...}`) or PromQL the agent or the user can run next."""
    related: tuple[str, ...] = ()
    """`kind/namespace/name` of objects behind this one (a Service's unready pods): their own
    findings, if any, carry the deeper cause."""

    def to_json(self) -> Obj:
        return {
            "analyzer": self.analyzer,
            "severity": self.severity,
            "namespace": self.namespace,
            "kind": self.kind,
            "name": self.name,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "next_query": self.next_query,
            "related": list(self.related),
        }

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (SEVERITY_RANK[self.severity], self.namespace or "", self.kind, self.name, self.analyzer)


@dataclass
class ClusterState:
    pods: list[Obj] = field(default_factory=list)
    deployments: list[Obj] = field(default_factory=list)
    statefulsets: list[Obj] = field(default_factory=list)
    daemonsets: list[Obj] = field(default_factory=list)
    jobs: list[Obj] = field(default_factory=list)
    pvcs: list[Obj] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)
    """Warning events only."""
    nodes: list[Obj] = field(default_factory=list)
    """Empty unless the scope is cluster-wide."""
    alerts: list[Obj] = field(default_factory=list)
    """Firing alerts, already restricted to the scope."""
    previous_logs: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(namespace, pod, container) → last lines of the crashed instance, for crash-looping containers."""
    current_logs: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(namespace, pod, container) → last lines of the running/terminated instance (failing ones only)."""
    replicasets: list[Obj] = field(default_factory=list)
    facts: dict[str, list[Obj]] = field(default_factory=dict)
    """kind → tools/kubernetes/facts.py records (ingress, endpointslice, pdb, …; configmap/secret:
    metadata only). A kind that is absent was not read (forbidden, or cluster-scoped and the scope
    is not cluster-wide): analyzers skip checks that need it rather than report a false fault."""
    pod_refs: dict[tuple[str, str], Obj] = field(default_factory=dict)
    """(namespace, pod) → facts.pod_facts: what the pod references by name, privileged containers."""
    template_refs: dict[tuple[str, str, str], Obj] = field(default_factory=dict)
    """(kind, namespace, name) → facts.workload_facts of deployments, statefulsets, daemonsets, jobs, …"""
    cluster_names: dict[str, set[str]] = field(default_factory=dict)
    """Cluster-scoped kind → names known to exist (all of them for a cluster-wide scope; for a scoped
    user only those of the names their own objects mention). Absent kind: not checked."""
    listed_namespaces: frozenset[str] | None = None
    """The namespaces whose namespaced kinds were listed (None: all of them)."""
    missing_parents: set[tuple[str, str]] = field(default_factory=set)
    """(namespace, name) of Gateways in other namespaces that routes name and a `get` did not find."""
    now: datetime | None = None
    """When the state was read; time-windowed checks (restart bursts) skip the window when None."""

    _event_index: tuple[int, int, dict[str, list[Obj]]] | None = field(
        default=None, repr=False, compare=False
    )

    def events_for(self, namespace: str | None, kind: str, name: str) -> list[Obj]:
        stamp = (id(self.events), len(self.events))
        if self._event_index is None or self._event_index[:2] != stamp:
            index: dict[str, list[Obj]] = {}
            for e in self.events:  # one pass, not one scan per object (5,000 pods times events)
                index.setdefault(e["involved_object"], []).append(e)
            self._event_index = (*stamp, index)
        return [
            e
            for e in self._event_index[2].get(f"{kind}/{name}", [])
            if namespace is None or e["namespace"] == namespace
        ]

    _pod_index: tuple[int, int, dict[str, list[Obj]]] | None = field(default=None, repr=False, compare=False)

    def pods_in(self, namespace: str) -> list[Obj]:
        """The pods of one namespace (indexed once: analyzers look them up per Service, PDB, policy)."""
        stamp = (id(self.pods), len(self.pods))
        if self._pod_index is None or self._pod_index[:2] != stamp:
            index: dict[str, list[Obj]] = {}
            for p in self.pods:
                index.setdefault(p["namespace"], []).append(p)
            self._pod_index = (*stamp, index)
        return self._pod_index[2].get(namespace, [])

    def of(self, kind: str) -> list[Obj]:
        return self.facts.get(kind, [])

    def names_by_ns(self, kind: str) -> dict[str, set[str]] | None:
        """namespace → names of the `kind` objects in it; None when the kind was not read."""
        if kind not in self.facts:
            return None
        out: dict[str, set[str]] = {}
        for o in self.facts[kind]:
            out.setdefault(o["namespace"] or "", set()).add(o["name"])
        return out


Analyzer = Callable[[ClusterState], list[Finding]]

KIND_TITLES = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "replicaset": "ReplicaSet",
    "job": "Job",
    "cronjob": "CronJob",
    "pod": "Pod",
    "pvc": "PersistentVolumeClaim",
    "service": "Service",
    "ingress": "Ingress",
    "hpa": "HorizontalPodAutoscaler",
    "pdb": "PodDisruptionBudget",
    "networkpolicy": "NetworkPolicy",
    "gateway": "Gateway",
    "httproute": "HTTPRoute",
}
"""Our kind names → the API's `Kind` (what events' involvedObject.kind holds): never `.capitalize()`."""


def cause(reason: str | None, message: str | None, default: str = "no reason given") -> str:
    """`reason: message`, either alone, or `default` — never `None: None`."""
    parts = [p for p in (reason, message) if p]
    return ": ".join(parts) or default


def exit_text(code: int | None) -> str:
    return f"exit code {code}" if code is not None else "exit code unknown"


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp from the API (`2026-11-26T09:40:03Z`), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def within(state: ClusterState, timestamp: str | None, window: timedelta) -> bool:
    """Did `timestamp` happen in the last `window`? True when either time is unknown (fail loud)."""
    at = parse_time(timestamp)
    if state.now is None or at is None:
        return True
    return state.now - at <= window


def tool_call(tool: str, **args: Any) -> str:
    """`k8s_pod_logs {"namespace": "shop", ...}` — how a next query is written."""
    return f"{tool} {json.dumps(args, ensure_ascii=False)}"


def promql_str(value: str) -> str:
    """A PromQL double-quoted string literal (Go escapes; JSON's are a compatible subset)."""
    return json.dumps(value, ensure_ascii=False)


def newest_first(events: list[Obj]) -> list[Obj]:
    return sorted(events, key=lambda e: e["last_timestamp"] or "", reverse=True)


def event_lines(events: list[Obj], limit: int = 3) -> list[str]:
    """Newest first: `Warning FailedScheduling (x9, 2026-…): message`."""
    newest = newest_first(events)[:limit]
    return [
        f"event {e['type']} {e['reason']} (x{e['count']}, last {e['last_timestamp'] or '?'}): "
        f"{e['message'] or '(no message)'}"
        for e in newest
    ]
