"""`analyze {namespace?}` — run every registered analyzer over the scoped cluster state and the
firing alerts; findings sorted by severity. Deterministic: no LLM involved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from kernel.scope import EffectiveScope
from tools.analyzers.base import SEVERITY_RANK, Analyzer, Finding
from tools.analyzers.registry import ANALYZERS
from tools.analyzers.state import AlertSource, collect_state
from tools.base import JSON, Tool, ToolContext
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.schemas import DNS_LABEL
from tools.kubernetes.scoping import ALL, check_namespace, target_namespaces
from tools.kubernetes.tools import within_budget

MAX_FINDINGS = 100

_STR: dict[str, Any] = {"type": "string"}
_FINDING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "analyzer": _STR,
        "severity": {"enum": ["critical", "warning", "info"]},
        "namespace": {"type": ["string", "null"]},
        "kind": _STR,
        "name": _STR,
        "summary": _STR,
        "evidence": {"type": "array", "items": _STR},
        "next_query": _STR,
        "related": {"type": "array", "items": _STR},
    },
    "required": [
        "analyzer",
        "severity",
        "namespace",
        "kind",
        "name",
        "summary",
        "evidence",
        "next_query",
        "related",
    ],
    "additionalProperties": False,
}


async def analyze(
    client: KubernetesClient,
    scope: EffectiveScope,
    namespace: str | None = None,
    *,
    alerts: AlertSource | None = None,
    analyzers: dict[str, Analyzer] | None = None,
    now: datetime | None = None,
) -> tuple[list[Finding], list[str]]:
    """(findings sorted by severity, notes). `now` anchors time windows (None: no windows).

    Findings carry untrusted cluster text: show them to a model or user only through the router
    (or the same sanitizer), never raw."""
    if namespace:
        check_namespace(scope, namespace)
    state, notes = await collect_state(client, scope, namespace, alerts=alerts, now=now)
    findings = [f for run in (analyzers or ANALYZERS).values() for f in run(state)]
    # a finding can only name what the state held, but never let one escape the scope
    findings = [f for f in findings if scope.allows(f.namespace)]
    # stable sort: within a severity and namespace, registry order (root causes like crashloop first)
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.namespace or "")), notes


class AnalyzeTool(Tool):
    name = "analyze"
    description = (
        "Run deterministic checks over the Kubernetes state you may read (and firing alerts): "
        "pods (crash loops, OOM kills, image pulls, config errors, sandbox failures, hook errors, failed "
        "or evicted pods, unschedulable or gated pods, failing readiness, restart bursts, error lines in "
        "logs, privileged containers), workloads (unavailable, stuck or quota-blocked rollouts, failed, "
        "failing or suspended Jobs, CronJobs), Services without ready endpoints, Ingresses, Gateway API "
        "routes, NetworkPolicies, HPAs, PDBs, missing or empty ConfigMaps, missing Secrets/ServiceAccounts, "
        "RoleBindings, a default ServiceAccount holding permissions, storage (pending PVCs, PVs, "
        "StorageClasses, small volumes), operators installed by OLM (Subscriptions, CatalogSources, CSVs, "
        "InstallPlans, OperatorGroups), nodes, admission webhooks and OLM v1 catalogs/extensions "
        "(cluster admins). "
        "Each finding has severity, evidence, related objects and a `next_query` to run next. "
        "Start triage here."
    )
    input_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "namespace": {
                "type": "string",
                "minLength": 1,
                "maxLength": 63,
                "pattern": DNS_LABEL,
                "description": "Only this namespace. Omit to check every namespace you may read.",
            }
        },
        "additionalProperties": False,
    }
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "namespaces": {"type": "array", "items": _STR},
            "count": {"type": "integer"},
            "by_severity": {
                "type": "object",
                "properties": {s: {"type": "integer"} for s in ("critical", "warning", "info")},
                "required": ["critical", "warning", "info"],
                "additionalProperties": False,
            },
            "findings": {"type": "array", "items": _FINDING},
            "analyzers": {"type": "array", "items": _STR},
            "notes": {"type": "array", "items": _STR},
        },
        "required": ["namespaces", "count", "by_severity", "findings", "analyzers", "notes"],
        "additionalProperties": False,
    }
    long_text_fields: ClassVar[frozenset[str]] = frozenset({"summary", "evidence", "notes"})
    timeout_s: ClassVar[float] = 30.0

    def __init__(
        self,
        *,
        client: KubernetesClient,
        alerts: AlertSource | None = None,
        analyzers: dict[str, Analyzer] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.alerts = alerts
        self.analyzers = analyzers or ANALYZERS
        self.clock = clock or (lambda: datetime.now(UTC))

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        namespace = args.get("namespace")
        covered = target_namespaces(ctx.scope, namespace, tool=self.name)
        findings, notes = await analyze(
            self.client, ctx.scope, namespace, alerts=self.alerts, analyzers=self.analyzers, now=self.clock()
        )
        if not findings:
            notes.append("No known failure pattern found. Ask about a specific workload or check metrics.")
        shown = within_budget([f.to_json() for f in findings], max_items=MAX_FINDINGS)
        if len(shown) < len(findings):
            notes.append(
                f"Showing the {len(shown)} most severe of {len(findings)} findings; "
                "call analyze with `namespace` to see the rest."
            )
        return {
            "namespaces": covered if covered is not None else [ALL],
            "count": len(findings),
            "by_severity": {
                s: sum(f.severity == s for f in findings) for s in ("critical", "warning", "info")
            },
            "findings": shown,
            "analyzers": list(self.analyzers),
            "notes": notes,
        }
