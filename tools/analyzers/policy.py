"""Scaling and disruption detectors: HorizontalPodAutoscalers (unsupported or missing scale target,
target without resource requests, conditions that stop scaling) and PodDisruptionBudgets that
allow no disruption or select no pods."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, Obj, Severity, cause, tool_call
from tools.kubernetes.facts import selects

SCALABLE = {"Deployment": "deployment", "StatefulSet": "statefulset", "ReplicaSet": "replicaset"}
OTHER_SCALABLE = frozenset({"ReplicationController"})
"""Scalable kinds we do not read: their existence cannot be checked, so they are not reported."""


def _targets(state: ClusterState) -> dict[tuple[str, str, str], Obj]:
    out: dict[tuple[str, str, str], Obj] = {}
    for w in [*state.deployments, *state.statefulsets, *state.replicasets]:
        out[(w["kind"], w["namespace"], w["name"])] = w
    return out


def _hpa_problems(
    state: ClusterState, hpa: Obj, targets: dict[tuple[str, str, str], Obj]
) -> list[tuple[Severity, str]]:
    ns = hpa["namespace"] or ""
    kind, name = hpa["target_kind"] or "?", hpa["target_name"] or "?"
    problems: list[tuple[Severity, str]] = []
    if kind not in SCALABLE and kind not in OTHER_SCALABLE:
        problems.append(("critical", f"its scale target kind {kind} cannot be scaled by an HPA"))
    elif kind in SCALABLE and (SCALABLE[kind], ns, name) not in targets:
        problems.append(("critical", f"its scale target {kind}/{name} does not exist"))
    elif kind in SCALABLE and hpa["resource_metrics"]:
        refs = state.template_refs.get((SCALABLE[kind], ns, name)) or {}
        if refs.get("without_requests"):
            problems.append(
                (
                    "warning",
                    f"{kind} {name} has no resource requests on container(s) "
                    f"{', '.join(refs['without_requests'])}, so utilization cannot be computed",
                )
            )
    for c in hpa["conditions"]:
        why = cause(c["reason"], c["message"])
        if c["type"] in ("AbleToScale", "ScalingActive") and c["status"] == "False":
            problems.append(("warning", f"{c['type']}=False ({why})"))
        elif c["type"] == "ScalingLimited" and c["status"] == "True":
            current = hpa["current_replicas"]
            at_min = c["reason"] == "TooFewReplicas" and (current is None or current <= hpa["min_replicas"])
            if not at_min:  # pinned at minReplicas with little load is the normal idle state
                problems.append(("warning", f"scaling is limited ({why})"))
    return problems


def hpas(state: ClusterState) -> list[Finding]:
    targets = _targets(state)
    out = []
    for hpa in state.of("hpa"):
        problems = _hpa_problems(state, hpa, targets)
        if not problems:
            continue
        ns, name = hpa["namespace"] or "", hpa["name"]
        kind = hpa["target_kind"] or "?"
        out.append(
            Finding(
                analyzer="hpa",
                severity="critical" if any(p[0] == "critical" for p in problems) else "warning",
                namespace=ns,
                kind="hpa",
                name=name,
                summary=f"HorizontalPodAutoscaler {name}: " + "; ".join(p[1] for p in problems) + ".",
                evidence=(
                    f"scaleTargetRef {kind}/{hpa['target_name']}, replicas {hpa['current_replicas'] or '?'} "
                    f"(min {hpa['min_replicas']}, max {hpa['max_replicas']})",
                    *(
                        f"condition {c['type']}={c['status']} {cause(c['reason'], c['message'], '')}".rstrip()
                        for c in hpa["conditions"]
                    ),
                ),
                next_query=tool_call("k8s_get", kind="hpa", name=name, namespace=ns),
                related=(f"{SCALABLE.get(kind, kind.lower())}/{ns}/{hpa['target_name']}",),
            )
        )
    return out


def pdbs(state: ClusterState) -> list[Finding]:
    out = []
    for pdb in state.of("pdb"):
        ns, name = pdb["namespace"] or "", pdb["name"]
        sel = pdb["selector"]
        labels = ", ".join(f"{k}={v}" for k, v in (sel or {}).get("match_labels", {}).items()) or "(none)"
        blocked = next(
            (c for c in pdb["conditions"] if c["type"] == "DisruptionAllowed" and c["status"] == "False"),
            None,
        )
        if blocked is None and any(selects(sel, p["labels"]) for p in state.pods_in(ns)):
            continue  # the common case, decided without building the list
        matching = [p for p in state.pods_in(ns) if selects(sel, p["labels"])]
        if not matching:
            summary = (
                f"PodDisruptionBudget {name} selects no pod (expected labels {labels}): it protects nothing."
            )
        elif blocked is not None:
            summary = (
                f"PodDisruptionBudget {name} allows no disruption "
                f"({cause(blocked['reason'], blocked['message'])}): "
                "node drains and evictions of its pods block."
            )
        else:
            continue
        out.append(
            Finding(
                analyzer="pdb",
                severity="warning",
                namespace=ns,
                kind="pdb",
                name=name,
                summary=summary,
                evidence=(
                    f"selector {labels}; matching pods {len(matching)}; healthy {pdb['current_healthy']} of "
                    f"desired {pdb['desired_healthy']}; disruptionsAllowed {pdb['disruptions_allowed']}; "
                    f"minAvailable {pdb['min_available'] or '-'}, "
                    f"maxUnavailable {pdb['max_unavailable'] or '-'}",
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns, label_selector=labels)
                if sel and sel["match_labels"]
                else tool_call("k8s_list", kind="pod", namespace=ns),
                related=tuple(f"pod/{ns}/{p['name']}" for p in matching if p["phase"] != "Running")[:3],
            )
        )
    return out
