"""Operator Lifecycle Manager detectors. OLM v0 (`operators.coreos.com`): Subscriptions that cannot
resolve, install or reach their catalog (or wait for a manual approval), CatalogSources whose
registry is unreachable, ClusterServiceVersions that failed or whose requirements are not met,
failed InstallPlans, namespaces with more than one OperatorGroup. OLM v1
(`olm.operatorframework.io`, cluster-scoped: cluster-wide scopes only): ClusterCatalogs not
serving, ClusterExtensions not installed or retrying. Reads nothing when OLM is not installed
(its lists answer 404 → empty)."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, Obj, Severity, cause, tool_call

SUBSCRIPTION_FAILURES = (
    "ResolutionFailed",
    "CatalogSourcesUnhealthy",
    "InstallPlanFailed",
    "InstallPlanMissing",
    "BundleUnpackFailed",
)
"""Subscription condition types that mean "stuck" when True (OLM's SubscriptionConditionType)."""
CATALOG_DOWN = ("TRANSIENT_FAILURE", "SHUTDOWN")
COPIED_LABEL = "olm.copiedFrom"
"""OLM copies a CSV into every namespace its OperatorGroup targets: report the original only."""


def _events(ns: str | None, kind: str, name: str) -> str:
    return tool_call("k8s_events", **({"namespace": ns} if ns else {}), involved_object=f"{kind}/{name}")


def _conditions_true(sub: Obj, types: tuple[str, ...]) -> list[Obj]:
    return [c for c in sub["conditions"] if c["type"] in types and c["status"] == "True"]


def subscriptions(state: ClusterState) -> list[Finding]:
    out = []
    for sub in state.of("subscription"):
        ns, name = sub["namespace"] or "", sub["name"]
        failing = _conditions_true(sub, SUBSCRIPTION_FAILURES)
        pending = [
            c for c in _conditions_true(sub, ("InstallPlanPending",)) if c["reason"] == "RequiresApproval"
        ]
        if not failing and not pending:
            continue
        what = f"package {sub['package'] or '?'} from catalog {sub['source'] or '?'}"
        if failing:
            summary = (
                f"Subscription {name} ({what}) is stuck in state {sub['state'] or 'none'}: "
                f"{cause(failing[0]['reason'], failing[0]['message']).rstrip('.')}. "
                "The operator is not installed or upgraded until this clears."
            )
        else:
            summary = (
                f"Subscription {name} ({what}) waits for a manual approval of its InstallPlan: "
                "the operator is not installed or upgraded until someone approves it."
            )
        out.append(
            Finding(
                analyzer="olm_subscription",
                severity="warning" if failing else "info",
                namespace=ns,
                kind="subscription",
                name=name,
                summary=summary,
                evidence=(
                    f"state {sub['state'] or '-'}, installedCSV {sub['installed_csv'] or '-'}, "
                    f"currentCSV {sub['current_csv'] or '-'}",
                    *(
                        f"condition {c['type']}=True {cause(c['reason'], c['message'], '')}".rstrip()
                        for c in failing or pending
                    ),
                ),
                next_query=_events(ns, "Subscription", name),
                related=(f"catalogsource/{sub['source_namespace'] or ns}/{sub['source']}",)
                if sub["source"]
                else (),
            )
        )
    return out


def catalog_sources(state: ClusterState) -> list[Finding]:
    out = []
    for cat in state.of("catalogsource"):
        ns, name, observed = cat["namespace"] or "", cat["name"], cat["state"]
        if not observed or observed == "READY":
            continue  # no status yet: OLM has not looked at it
        users = sorted(
            f"subscription/{s['namespace']}/{s['name']}"
            for s in state.of("subscription")
            if s["source"] == name and (s["source_namespace"] or s["namespace"]) == ns
        )
        down = observed in CATALOG_DOWN
        out.append(
            Finding(
                analyzer="olm_catalogsource",
                severity="warning" if down else "info",
                namespace=ns,
                kind="catalogsource",
                name=name,
                summary=(
                    f"CatalogSource {name} cannot be reached (connection {observed}): "
                    if down
                    else f"CatalogSource {name} is not connected yet (connection {observed}): "
                )
                + f"Subscriptions to it cannot resolve or upgrade ({len(users)} in the namespaces read).",
                evidence=(
                    f"connectionState.lastObservedState {observed}, "
                    f"last connect {cat['last_connect'] or '?'}",
                    f"sourceType {cat['source_type'] or '?'}, image {cat['image'] or '-'}",
                    *(
                        [f"status: {cause(cat['reason'], cat['message'])}"]
                        if cat["reason"] or cat["message"]
                        else []
                    ),
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns),
                related=tuple(users),
            )
        )
    return out


def _history_lines(conditions: list[Obj], limit: int = 3) -> list[str]:
    lines = [
        f"condition {c['type'] or c['phase'] or '?'} {c['status'] or ''} "
        f"{cause(c['reason'], c['message'], '')}".replace("  ", " ").rstrip()
        for c in conditions
        if c["reason"] or c["message"]
    ]
    return lines[::-1][:limit]  # OLM appends: newest last


def csvs(state: ClusterState) -> list[Finding]:
    out = []
    for csv in state.of("csv"):
        if COPIED_LABEL in csv["labels"] or csv["reason"] == "Copied":
            continue
        failed = csv["phase"] == "Failed"
        unmet = csv["phase"] == "Pending" and csv["reason"] == "RequirementsNotMet"
        if not failed and not unmet:
            continue
        ns, name = csv["namespace"] or "", csv["name"]
        last = next((c for c in reversed(csv["conditions"]) if c["message"]), None)
        detail = cause(csv["reason"], csv["message"] or (last["message"] if last else None))
        out.append(
            Finding(
                analyzer="olm_csv",
                severity="critical" if failed else "warning",
                namespace=ns,
                kind="csv",
                name=name,
                summary=(
                    f"ClusterServiceVersion {name} ({csv['display_name'] or 'operator'}) "
                    + ("failed to install" if failed else "cannot install: its requirements are not met")
                    + f": {detail.rstrip('.')}."
                ),
                evidence=(
                    f"phase {csv['phase']}, reason {csv['reason'] or '-'}",
                    *([f"message: {csv['message']}"] if csv["message"] else []),
                    *_history_lines(csv["conditions"]),
                ),
                next_query=_events(ns, "ClusterServiceVersion", name),
            )
        )
    return out


def install_plans(state: ClusterState) -> list[Finding]:
    out = []
    for plan in state.of("installplan"):
        if plan["phase"] != "Failed":
            continue
        ns, name = plan["namespace"] or "", plan["name"]
        bad: Obj = next((c for c in reversed(plan["conditions"]) if c["reason"] or c["message"]), {})
        out.append(
            Finding(
                analyzer="olm_installplan",
                severity="warning",
                namespace=ns,
                kind="installplan",
                name=name,
                summary=(
                    f"InstallPlan {name} failed"
                    + (f" ({', '.join(plan['csv_names'])})" if plan["csv_names"] else "")
                    + f": {cause(bad.get('reason'), bad.get('message')).rstrip('.')}."
                ),
                evidence=(
                    f"phase Failed, approval {plan['approval'] or '-'}",
                    *_history_lines(plan["conditions"]),
                ),
                next_query=_events(ns, "InstallPlan", name),
            )
        )
    return out


def operator_groups(state: ClusterState) -> list[Finding]:
    by_ns: dict[str, list[str]] = {}
    for group in state.of("operatorgroup"):
        by_ns.setdefault(group["namespace"] or "", []).append(group["name"])
    out = []
    for ns, names in sorted(by_ns.items()):
        if len(names) < 2:
            continue
        names.sort()
        out.append(
            Finding(
                analyzer="olm_operatorgroup",
                severity="warning",
                namespace=ns,
                kind="operatorgroup",
                name=names[0],
                summary=(
                    f"Namespace {ns} has {len(names)} OperatorGroups ({', '.join(names)}): OLM installs no "
                    "operator there (CSVs fail with TooManyOperatorGroups) until only one is left."
                ),
                evidence=tuple(f"OperatorGroup {n} in namespace {ns}" for n in names),
                next_query=tool_call("k8s_events", namespace=ns),
            )
        )
    return out


def _olm1(state: ClusterState, kind: str, title: str, must_be_true: str) -> list[Finding]:
    out = []
    for obj in state.of(kind):
        if obj.get("availability") == "Unavailable":
            continue  # an admin switched the catalog off on purpose
        problems: list[tuple[Severity, str]] = [
            (
                "warning",
                f"condition {c['type']}={c['status']} {cause(c['reason'], c['message'], '')}".rstrip(),
            )
            for c in obj["conditions"]
            if c["type"] == must_be_true and c["status"] != "True"
        ]
        problems += [
            ("warning", f"condition Progressing=True {cause(c['reason'], c['message'])}")
            for c in obj["conditions"]
            if c["type"] == "Progressing" and c["status"] == "True" and c["reason"] in ("Retrying", "Blocked")
        ]
        if not problems:
            continue
        out.append(
            Finding(
                analyzer=f"olm_{kind}",
                severity="warning",
                namespace=None,
                kind=kind,
                name=obj["name"],
                summary=f"{title} {obj['name']} is not {must_be_true.lower()}: {problems[0][1]}.",
                evidence=tuple(p[1] for p in problems),
                next_query=_events(None, title, obj["name"]),
            )
        )
    return out


def cluster_catalogs(state: ClusterState) -> list[Finding]:
    return _olm1(state, "clustercatalog", "ClusterCatalog", "Serving")


def cluster_extensions(state: ClusterState) -> list[Finding]:
    return _olm1(state, "clusterextension", "ClusterExtension", "Installed")
