"""Workload detectors: Deployments/StatefulSets/DaemonSets with unavailable replicas or a stuck
rollout (ProgressDeadlineExceeded), and failed Jobs."""

from __future__ import annotations

from tools.analyzers.base import KIND_TITLES, ClusterState, Finding, Obj, cause, event_lines, tool_call

MAX_POD_EVIDENCE = 3


def _pod_problems(state: ClusterState, workload: Obj) -> list[str]:
    """Unready pods that belong to the workload (owner is it, or its ReplicaSet `<name>-<hash>`)."""
    ns, name, kind = workload["namespace"], workload["name"], workload["kind"]
    owners = {"deployment": "ReplicaSet/", "statefulset": "StatefulSet/", "daemonset": "DaemonSet/"}
    out = []
    for pod in state.pods:
        owner = pod["owner"] or ""
        if pod["namespace"] != ns or not owner.startswith(owners[kind]):
            continue
        owner_name = owner.split("/", 1)[1]
        if owner_name != name and not (kind == "deployment" and owner_name.rsplit("-", 1)[0] == name):
            continue
        bad = [c for c in pod["containers"] if not c["ready"] and not c["init"]]
        if pod["phase"] == "Running" and not bad:
            continue
        states = ", ".join(f"{c['name']} {c['state_reason'] or c['state']}" for c in bad) or pod["phase"]
        out.append(f"pod {pod['name']}: {pod['phase']}, {states}")
    return out[:MAX_POD_EVIDENCE]


def workload_unavailable(state: ClusterState) -> list[Finding]:
    out = []
    for w in [*state.deployments, *state.statefulsets, *state.daemonsets]:
        reps = w["replicas"]
        desired = reps["desired"]
        progressing = next((c for c in w["conditions"] if c["type"] == "Progressing"), None)
        stuck = progressing is not None and progressing["reason"] == "ProgressDeadlineExceeded"
        failure = next(
            (c for c in w["conditions"] if c["type"] == "ReplicaFailure" and c["status"] == "True"), None
        )
        missing = (
            desired is not None and desired > 0 and (reps["unavailable"] > 0 or reps["available"] < desired)
        )
        if not (missing or stuck):
            continue
        ns, name, kind = w["namespace"], w["name"], w["kind"]
        title = KIND_TITLES.get(kind, kind)
        parts = []
        if missing:
            parts.append(
                f"{reps['available']}/{desired} replicas available ({reps['unavailable']} unavailable)"
            )
        if stuck and progressing is not None:
            parts.append(
                f"its rollout is stuck: {(progressing['message'] or 'ProgressDeadlineExceeded').rstrip('.')}"
            )
        if failure is not None:  # e.g. FailedCreate: a quota or admission webhook refuses new pods
            parts.append(f"new pods cannot be created ({cause(failure['reason'], failure['message'])})")
        evidence = [
            f"replicas desired {desired}, ready {reps['ready']}, available {reps['available']}, "
            f"updated {reps['updated']}, unavailable {reps['unavailable']}",
            *(
                f"condition {c['type']}={c['status']} {cause(c['reason'], c['message'], '')}".rstrip()
                for c in w["conditions"]
                if c["status"] != "True"
                or c["reason"] == "ProgressDeadlineExceeded"
                or c["type"] == "ReplicaFailure"
            ),
            f"images: {', '.join(w['images'])}",
            *_pod_problems(state, w),
            *event_lines(state.events_for(ns, title, name)),
        ]
        out.append(
            Finding(
                analyzer="workload_unavailable",
                severity="critical" if missing and reps["available"] == 0 else "warning",
                namespace=ns,
                kind=kind,
                name=name,
                summary=f"{title} {name}: " + "; ".join(parts) + ".",
                evidence=tuple(evidence),
                next_query=(
                    tool_call("k8s_list", kind="pod", namespace=ns, label_selector=w["selector"])
                    if w["selector"]
                    else tool_call("k8s_get", kind=kind, name=name, namespace=ns)
                ),
            )
        )
    return out


def failed_jobs(state: ClusterState) -> list[Finding]:
    out = []
    for job in state.jobs:
        failed = next((c for c in job["conditions"] if c["type"] == "Failed" and c["status"] == "True"), None)
        if failed is None:
            continue
        ns, name = job["namespace"], job["name"]
        out.append(
            Finding(
                analyzer="failed_job",
                severity="warning",
                namespace=ns,
                kind="job",
                name=name,
                summary=(
                    f"Job {name} failed "
                    f"({failed['reason'] or 'Failed'}: {failed['message'] or 'no message'}) "
                    f"after {job['failed']} failed pod(s)."
                ),
                evidence=(
                    f"failed {job['failed']}, succeeded {job['succeeded']}, "
                    f"backoffLimit {job['backoff_limit']}",
                    f"started {job['start_time'] or '?'}, failed at {failed['last_transition'] or '?'}",
                    f"images: {', '.join(job['images'])}",
                    f"owned by {job['owner'] or 'nothing (standalone Job)'}",
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns, label_selector=f"job-name={name}"),
            )
        )
    return out
