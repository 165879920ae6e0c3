"""More pod detectors: evicted pods, sandbox creation failures, containers stuck waiting for any
other reason (lifecycle hook errors, init containers), containers that exited non-zero, pods held
by scheduling gates, and privileged containers."""

from __future__ import annotations

from tools.analyzers.base import (
    ClusterState,
    Finding,
    Obj,
    cause,
    event_lines,
    exit_text,
    newest_first,
    tool_call,
)
from tools.analyzers.pods import CONFIG_ERROR_REASONS, IMAGE_PULL_REASONS

HANDLED_WAITING = IMAGE_PULL_REASONS | CONFIG_ERROR_REASONS | {"CrashLoopBackOff"}
"""Waiting reasons an earlier analyzer reports with more specific evidence."""
TRANSIENT_WAITING = frozenset({"ContainerCreating", "PodInitializing"})
SANDBOX_REASONS = frozenset({"FailedCreatePodSandBox", "FailedKillPodSandBox"})


def _events_query(ns: str, name: str) -> str:
    return tool_call("k8s_events", namespace=ns, involved_object=f"Pod/{name}")


def evicted(state: ClusterState) -> list[Finding]:
    out = []
    for pod in state.pods:
        if pod["phase"] != "Failed" or pod["reason"] != "Evicted":
            continue
        ns, name = pod["namespace"], pod["name"]
        out.append(
            Finding(
                analyzer="pod_evicted",
                severity="warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} was evicted by the kubelet of node {pod['node'] or '?'}: "
                    f"{pod['message'] or 'no message recorded'}"
                ),
                evidence=(
                    f"phase Failed, reason Evicted: {pod['message'] or '(no message)'}",
                    f"owned by {pod['owner'] or 'nothing (not recreated)'}",
                    *event_lines(state.events_for(ns, "Pod", name)),
                ),
                next_query=tool_call("k8s_get", kind="node", name=pod["node"])
                if pod["node"]
                else _events_query(ns, name),
            )
        )
    return out


def sandbox(state: ClusterState) -> list[Finding]:
    """The runtime cannot create the pod's sandbox (CNI out of IPs, runtime down, bad RuntimeClass)."""
    out = []
    for pod in state.pods:
        if pod["phase"] not in ("Pending", None) or pod["deleting"]:
            continue
        ns, name = pod["namespace"], pod["name"]
        events = [e for e in state.events_for(ns, "Pod", name) if e["reason"] in SANDBOX_REASONS]
        if not events:
            continue
        newest = newest_first(events)[0]
        out.append(
            Finding(
                analyzer="pod_sandbox",
                severity="critical",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} cannot start on node {pod['node'] or '?'}: "
                    "the container runtime fails to create "
                    f"its sandbox ({cause(newest['reason'], newest['message'])})"
                ),
                evidence=tuple(event_lines(events)),
                next_query=_events_query(ns, name),
            )
        )
    return out


def container_waiting(state: ClusterState) -> list[Finding]:
    """Containers (init ones included) waiting for a reason no other analyzer names: PreStartHookError,
    PostStartHookError, … A pod with no events still gets its reason."""
    out = []
    for pod in state.pods:
        for c in pod["containers"]:
            if c["state"] != "waiting" or c["state_reason"] in HANDLED_WAITING:
                continue
            if c["state_reason"] in TRANSIENT_WAITING or c["state_reason"] is None:
                continue  # still starting; a sandbox that cannot be created is `pod_sandbox`
            ns, name = pod["namespace"], pod["name"]
            what = "init container" if c["init"] else "container"
            out.append(
                Finding(
                    analyzer="container_waiting",
                    severity="critical",
                    namespace=ns,
                    kind="pod",
                    name=name,
                    summary=(
                        f"The {what} {c['name']} of pod {name} is waiting "
                        f"({cause(c['state_reason'], c['state_message'], 'no reason given')}); "
                        "the pod cannot run."
                    ),
                    evidence=(
                        f"{what} {c['name']} ({c['image']}): waiting, "
                        f"{cause(c['state_reason'], c['state_message'], 'no reason')}, "
                        f"{c['restart_count']} restarts",
                        *event_lines(state.events_for(ns, "Pod", name)),
                    ),
                    next_query=_events_query(ns, name),
                )
            )
    return out


def container_failed(state: ClusterState) -> list[Finding]:
    """Containers that exited non-zero and stay terminated (restartPolicy Never/OnFailure pods, Job pods)."""
    out = []
    for pod in state.pods:
        for c in pod["containers"]:
            if c["state"] != "terminated" or c["exit_code"] in (None, 0) or c["state_reason"] == "OOMKilled":
                continue
            if pod["phase"] == "Running" and c["init"]:
                continue
            ns, name = pod["namespace"], pod["name"]
            key = (ns, name, c["name"])
            logs = state.current_logs.get(key) or state.previous_logs.get(key) or []
            evidence = [
                f"container {c['name']} ({c['image']}): terminated, "
                f"{cause(c['state_reason'], c['state_message'], 'no reason')}, {exit_text(c['exit_code'])}",
                f"pod phase {pod['phase'] or '?'}, owned by {pod['owner'] or 'nothing'}",
            ]
            if logs:
                evidence.append("last log lines:\n" + "\n".join(f"  {line}" for line in logs[-5:]))
            out.append(
                Finding(
                    analyzer="container_failed",
                    severity="warning",
                    namespace=ns,
                    kind="pod",
                    name=name,
                    summary=(
                        f"Container {c['name']} of pod {name} exited with {exit_text(c['exit_code'])} "
                        f"({c['state_reason'] or 'Error'}) and was not restarted."
                    ),
                    evidence=(*evidence, *event_lines(state.events_for(ns, "Pod", name))),
                    next_query=tool_call(
                        "k8s_pod_logs", namespace=ns, pod=name, container=c["name"], previous=False
                    ),
                )
            )
    return out


def scheduling_gated(state: ClusterState) -> list[Finding]:
    out = []
    for pod in state.pods:
        refs: Obj = state.pod_refs.get((pod["namespace"], pod["name"])) or {}
        gates = refs.get("scheduling_gates") or []
        gated = next((c for c in pod["conditions"] if c["reason"] == "SchedulingGated"), None)
        if pod["phase"] not in ("Pending", None) or not (gates or gated):
            continue
        ns, name = pod["namespace"], pod["name"]
        out.append(
            Finding(
                analyzer="scheduling_gated",
                severity="warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} is Pending and held back from scheduling by scheduling gates "
                    f"({', '.join(gates) or 'see condition'}): whatever should remove them has not."
                ),
                evidence=(
                    f"spec.schedulingGates: {', '.join(gates) or '(not shown)'}",
                    *(
                        [f"condition PodScheduled=False {cause(gated['reason'], gated['message'])}"]
                        if gated
                        else []
                    ),
                ),
                next_query=tool_call("k8s_get", kind="pod", name=name, namespace=ns),
            )
        )
    return out


def privileged(state: ClusterState) -> list[Finding]:
    out = []
    for (ns, name), refs in sorted(state.pod_refs.items()):
        if not refs["privileged"]:
            continue
        out.append(
            Finding(
                analyzer="privileged_container",
                severity="info",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} runs privileged container(s) {', '.join(refs['privileged'])}: "
                    "full access to "
                    "the node's devices and kernel if compromised."
                ),
                evidence=tuple(f"container {c}: securityContext.privileged=true" for c in refs["privileged"]),
                next_query=tool_call("k8s_get", kind="pod", name=name, namespace=ns),
            )
        )
    return out
