"""More workload detectors: suspended Jobs and Jobs failing before their Failed condition, standalone
ReplicaSets that cannot create pods, StatefulSets whose governing Service or StorageClass is missing,
and CronJobs (invalid schedule, suspended, negative starting deadline)."""

from __future__ import annotations

import re

from tools.analyzers.base import ClusterState, Finding, cause, event_lines, newest_first, tool_call

JOB_FAILURE_EVENTS = frozenset({"BackoffLimitExceeded", "DeadlineExceeded", "FailedCreate"})
_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat"
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELD = re.compile(rf"^(\*|\?|(\d+|{_NAMES})(-(\d+|{_NAMES}))?)(/\d+)?$", re.I)


def cron_schedule_error(schedule: str | None) -> str | None:
    """Why a CronJob schedule is invalid (None: valid) — the syntax the controller accepts."""
    if not schedule or not schedule.strip():
        return "the schedule is empty"
    text = schedule.strip()
    if text.startswith("@every "):
        return None
    if text.startswith("@"):
        return None if text.lower() in _MACROS else f"unknown macro {text.split()[0]}"
    fields = [f for f in text.split() if not f.upper().startswith(("TZ=", "CRON_TZ="))]
    if len(fields) != 5:
        return f"{len(fields)} fields instead of 5 (minute hour day-of-month month day-of-week)"
    for value, (low, high) in zip(fields, _RANGES, strict=True):
        for part in value.split(","):
            m = _FIELD.match(part)
            if not m:
                return f"cannot parse {part!r}"
            for num in (m.group(2), m.group(4)):
                if num and num.isdigit() and not low <= int(num) <= high:
                    return f"{part!r} is outside {low}-{high}"
    return None


def jobs(state: ClusterState) -> list[Finding]:
    out = []
    for job in state.jobs:
        ns, name = job["namespace"], job["name"]
        refs = state.template_refs.get(("job", ns, name)) or {}
        if any(c["type"] == "Failed" and c["status"] == "True" for c in job["conditions"]):
            continue  # → failed_job
        done = any(c["type"] == "Complete" and c["status"] == "True" for c in job["conditions"])
        events = [e for e in state.events_for(ns, "Job", name) if e["reason"] in JOB_FAILURE_EVENTS]
        query = tool_call("k8s_list", kind="pod", namespace=ns, label_selector=f"job-name={name}")
        if refs.get("suspend") and not done:
            out.append(
                Finding(
                    analyzer="job_suspended",
                    severity="info",
                    namespace=ns,
                    kind="job",
                    name=name,
                    summary=f"Job {name} is suspended (spec.suspend=true): it runs no pods until resumed.",
                    evidence=(f"spec.suspend true, active {job['active']}, succeeded {job['succeeded']}",),
                    next_query=tool_call("k8s_get", kind="job", name=name, namespace=ns),
                )
            )
        elif not done and (events or (job["failed"] > 0 and job["active"] == 0)):
            newest = newest_first(events)[0] if events else None
            why = cause(newest["reason"], newest["message"]) if newest else f"{job['failed']} failed pod(s)"
            out.append(
                Finding(
                    analyzer="job_failing",
                    severity="warning",
                    namespace=ns,
                    kind="job",
                    name=name,
                    summary=f"Job {name} is failing ({why}); its Failed condition is not set yet.",
                    evidence=(
                        f"failed {job['failed']}, active {job['active']}, succeeded {job['succeeded']}, "
                        f"backoffLimit {job['backoff_limit']}",
                        *event_lines(events),
                    ),
                    next_query=query,
                )
            )
    return out


def replicasets(state: ClusterState) -> list[Finding]:
    """ReplicaSets that cannot create pods; those of a Deployment are reported on the Deployment."""
    deployments = {(d["namespace"], d["name"]) for d in state.deployments}
    out = []
    for rs in state.replicasets:
        failure = next(
            (c for c in rs["conditions"] if c["type"] == "ReplicaFailure" and c["status"] == "True"), None
        )
        owner = rs["owner"] or ""
        if failure is None or (
            owner.startswith("Deployment/") and (rs["namespace"], owner[11:]) in deployments
        ):
            continue
        ns, name = rs["namespace"], rs["name"]
        out.append(
            Finding(
                analyzer="replicaset_failure",
                severity="critical" if rs["replicas"]["available"] == 0 else "warning",
                namespace=ns,
                kind="replicaset",
                name=name,
                summary=(
                    f"ReplicaSet {name} cannot create pods: {cause(failure['reason'], failure['message'])}."
                ),
                evidence=(
                    f"condition ReplicaFailure=True {cause(failure['reason'], failure['message'])}",
                    f"replicas desired {rs['replicas']['desired']}, available {rs['replicas']['available']}",
                    *event_lines(state.events_for(ns, "ReplicaSet", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"ReplicaSet/{name}"),
            )
        )
    return out


def statefulset_refs(state: ClusterState) -> list[Finding]:
    services = state.names_by_ns("service")
    classes = state.cluster_names.get("storageclass")
    out = []
    for sts in state.statefulsets:
        ns, name = sts["namespace"], sts["name"]
        refs = state.template_refs.get(("statefulset", ns, name)) or {}
        svc = refs.get("service_name")
        if svc and services is not None and svc not in services.get(ns, set()):
            out.append(
                Finding(
                    analyzer="statefulset_service_missing",
                    severity="warning",
                    namespace=ns,
                    kind="statefulset",
                    name=name,
                    summary=(
                        f"StatefulSet {name} names the governing Service {svc}, which does not exist: "
                        "its pods "
                        "get no stable DNS names."
                    ),
                    evidence=(f"spec.serviceName {svc}; no Service {svc} in namespace {ns}",),
                    next_query=tool_call("k8s_list", kind="service", namespace=ns),
                )
            )
        missing = [
            sc for sc in refs.get("claim_storage_classes") or [] if classes is not None and sc not in classes
        ]
        for sc in sorted(set(missing)):
            out.append(
                Finding(
                    analyzer="statefulset_storageclass_missing",
                    severity="critical",
                    namespace=ns,
                    kind="statefulset",
                    name=name,
                    summary=(
                        f"StatefulSet {name} claims volumes of StorageClass {sc}, which does not exist: "
                        "its PersistentVolumeClaims stay Pending and its pods cannot start."
                    ),
                    evidence=(f"spec.volumeClaimTemplates[].spec.storageClassName {sc}: not found",),
                    next_query=tool_call("k8s_list", kind="pvc", namespace=ns),
                )
            )
    return out


def cronjobs(state: ClusterState) -> list[Finding]:
    out = []
    for cj in state.of("cronjob"):
        ns, name = cj["namespace"], cj["name"]
        problems: list[tuple[str, str]] = []
        if cj["suspend"]:
            problems.append(("info", "is suspended (spec.suspend=true): no new Jobs are scheduled"))
        error = cron_schedule_error(cj["schedule"])
        if error:
            problems.append(("critical", f"has an invalid schedule {cj['schedule']!r}: {error}"))
        if cj["starting_deadline"] is not None and cj["starting_deadline"] < 0:
            problems.append(
                (
                    "critical",
                    f"has a negative startingDeadlineSeconds ({cj['starting_deadline']}): no run can start",
                )
            )
        if not problems:
            continue
        severity = min((p[0] for p in problems), key=["critical", "warning", "info"].index)
        out.append(
            Finding(
                analyzer="cronjob",
                severity=severity,  # type: ignore[arg-type]
                namespace=ns,
                kind="cronjob",
                name=name,
                summary=f"CronJob {name} " + "; ".join(p[1] for p in problems) + ".",
                evidence=(
                    f"schedule {cj['schedule']!r}, suspend {str(cj['suspend']).lower()}, "
                    f"startingDeadlineSeconds {cj['starting_deadline']}, "
                    f"last scheduled {cj['last_schedule_time'] or 'never'}",
                    *event_lines(state.events_for(ns, "CronJob", name)),
                ),
                next_query=tool_call("k8s_get", kind="cronjob", name=name, namespace=ns),
            )
        )
    return out
