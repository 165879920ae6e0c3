"""Pod-level detectors: CrashLoopBackOff, OOMKilled, image pulls, unschedulable, readiness, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from tools.analyzers.base import (
    ClusterState,
    Finding,
    Obj,
    cause,
    event_lines,
    exit_text,
    promql_str,
    tool_call,
    within,
)

RESTART_BURST_THRESHOLD = 5
"""Restarts of a container that is up right now before we call it a burst (healthy pods: 0-2)..."""
RESTART_BURST_WINDOW = timedelta(hours=1)
"""...when the last one was this recent: a pod with 5 restarts spread over 90 days is not news."""
OOM_WINDOW = timedelta(hours=24)
"""An OOM kill of a container that is running again is reported for this long."""
CRASH_LOG_LINES = 5
CONFIG_ERROR_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})


def _containers(state: ClusterState) -> Iterator[tuple[Obj, Obj]]:
    for pod in state.pods:
        for c in pod["containers"]:
            yield pod, c


def _last_termination(c: Obj) -> str:
    last = c["last_termination"]
    if not last:
        return "no previous termination recorded"
    return f"last terminated: {last['reason'] or 'unknown reason'} ({exit_text(last['exit_code'])})"


def _owner_hint(pod: Obj) -> str:
    return f", owned by {pod['owner']}" if pod["owner"] else ""


def crashloop(state: ClusterState) -> list[Finding]:
    out = []
    for pod, c in _containers(state):
        if c["state"] != "waiting" or c["state_reason"] != "CrashLoopBackOff":
            continue
        ns, name = pod["namespace"], pod["name"]
        last = c["last_termination"] or {}
        evidence = [
            f"container {c['name']} ({c['image']}): CrashLoopBackOff, {c['restart_count']} restarts",
            _last_termination(c),
        ]
        logs = state.previous_logs.get((ns, name, c["name"]), [])
        if logs:
            # one evidence item, so the router checks the lines together (split payloads)
            tail = logs[-CRASH_LOG_LINES:]
            evidence.append(
                f"last {len(tail)} log lines of the crashed instance:\n"
                + "\n".join(f"  {line}" for line in tail)
            )
        evidence += event_lines(state.events_for(ns, "Pod", name))
        out.append(
            Finding(
                analyzer="crashloop",
                severity="critical",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} is crash-looping: container {c['name']} keeps exiting "
                    f"({last.get('reason') or 'unknown reason'}, {exit_text(last.get('exit_code'))}) "
                    f"and has restarted {c['restart_count']} times{_owner_hint(pod)}."
                ),
                evidence=tuple(evidence),
                next_query=tool_call(
                    "k8s_pod_logs", namespace=ns, pod=name, container=c["name"], previous=True
                ),
            )
        )
    return out


def oomkilled(state: ClusterState) -> list[Finding]:
    out = []
    for pod, c in _containers(state):
        last = c["last_termination"] or {}
        now_oom = c["state"] == "terminated" and c["state_reason"] == "OOMKilled"
        if not (now_oom or last.get("reason") == "OOMKilled") or c["state_reason"] == "CrashLoopBackOff":
            continue  # a crash-looping container is reported (with its OOM reason) by `crashloop`
        if not now_oom and c["state"] == "running" and not within(state, last.get("finished_at"), OOM_WINDOW):
            continue
        ns, name = pod["namespace"], pod["name"]
        limit = c["limits"].get("memory")
        selector = f"namespace={promql_str(ns)},pod={promql_str(name)},container={promql_str(c['name'])}"
        out.append(
            Finding(
                analyzer="oomkilled",
                severity="critical" if c["state"] != "running" else "warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Container {c['name']} of pod {name} was OOMKilled (exit code 137): it used more memory "
                    f"than its limit ({limit or 'no limit set'}); restarted {c['restart_count']} times."
                ),
                evidence=(
                    f"container {c['name']} ({c['image']}): state {c['state']}, {_last_termination(c)}"
                    + (f" at {last['finished_at']}" if last.get("finished_at") else ""),
                    f"memory request {c['requests'].get('memory') or 'none'}, limit {limit or 'none'}",
                ),
                next_query=f"max_over_time(container_memory_working_set_bytes{{{selector}}}[1h])",
            )
        )
    return out


def image_pull(state: ClusterState) -> list[Finding]:
    out = []
    for pod, c in _containers(state):
        if c["state"] != "waiting" or c["state_reason"] not in IMAGE_PULL_REASONS:
            continue
        ns, name = pod["namespace"], pod["name"]
        out.append(
            Finding(
                analyzer="image_pull",
                severity="critical",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} cannot start: image {c['image']} of container {c['name']} "
                    f"cannot be pulled ({c['state_reason']}). Check the tag exists and the pull secret."
                ),
                evidence=(
                    f"container {c['name']}: {c['state_reason']}: {c['state_message'] or ''}".rstrip(": "),
                    *event_lines(state.events_for(ns, "Pod", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Pod/{name}"),
            )
        )
    return out


def container_config(state: ClusterState) -> list[Finding]:
    """Containers that cannot even be created: a missing Secret/ConfigMap key, a bad mount, …"""
    out = []
    for pod, c in _containers(state):
        if c["state"] != "waiting" or c["state_reason"] not in CONFIG_ERROR_REASONS:
            continue
        ns, name = pod["namespace"], pod["name"]
        refs = [e["value_from"] for e in c["env"] if e["value_from"]] + c["env_from"]
        out.append(
            Finding(
                analyzer="container_config",
                severity="critical",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Container {c['name']} of pod {name} cannot be created ({c['state_reason']}): "
                    f"{c['state_message'] or 'no message'}"
                ),
                evidence=(
                    f"container {c['name']}: {c['state_reason']}: {c['state_message'] or ''}".rstrip(": "),
                    f"references: {', '.join(refs) or 'none'}",
                    *event_lines(state.events_for(ns, "Pod", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Pod/{name}"),
            )
        )
    return out


def unschedulable(state: ClusterState) -> list[Finding]:
    out = []
    for pod in state.pods:
        if pod["phase"] != "Pending":
            continue
        cond = next((c for c in pod["conditions"] if c["type"] == "PodScheduled"), None)
        if cond is None or cond["status"] != "False":
            continue
        ns, name = pod["namespace"], pod["name"]
        requests = ", ".join(
            f"{c['name']}: {c['requests'].get('cpu', '-')} cpu / {c['requests'].get('memory', '-')} memory"
            for c in pod["containers"]
        )
        out.append(
            Finding(
                analyzer="unschedulable",
                severity="warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} is Pending and cannot be scheduled: "
                    f"{cond['message'] or cond['reason'] or 'no reason given'}"
                ),
                evidence=(
                    f"condition PodScheduled=False {cause(cond['reason'], cond['message'])}",
                    f"requests: {requests or 'none'}",
                    *event_lines(state.events_for(ns, "Pod", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Pod/{name}"),
            )
        )
    return out


def readiness(state: ClusterState) -> list[Finding]:
    out = []
    for pod in state.pods:
        if pod["phase"] != "Running" or pod["deleting"]:
            continue
        failing = [
            c
            for c in pod["containers"]
            if not c["init"] and c["state"] == "running" and c["started"] is not False and not c["ready"]
        ]
        if not failing:
            continue
        ns, name = pod["namespace"], pod["name"]
        names = ", ".join(c["name"] for c in failing)
        probes = [e for e in state.events_for(ns, "Pod", name) if e["reason"] == "Unhealthy"]
        out.append(
            Finding(
                analyzer="readiness",
                severity="warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Pod {name} is running but not ready (container {names}): it receives no Service "
                    "traffic. Its readiness probe is failing."
                ),
                evidence=(
                    *(
                        f"container {c['name']}: running, ready=false, "
                        f"probes: {', '.join(c['probes']) or 'none'}"
                        for c in failing
                    ),
                    *event_lines(probes or state.events_for(ns, "Pod", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Pod/{name}"),
            )
        )
    return out


def restart_burst(state: ClusterState) -> list[Finding]:
    out = []
    for pod, c in _containers(state):
        last = c["last_termination"] or {}
        if (
            c["restart_count"] < RESTART_BURST_THRESHOLD
            or c["state"] != "running"  # waiting → crashloop / image pull report it
            or last.get("reason") == "OOMKilled"  # → oomkilled
            or not within(state, last.get("finished_at"), RESTART_BURST_WINDOW)
        ):
            continue
        ns, name = pod["namespace"], pod["name"]
        out.append(
            Finding(
                analyzer="restart_burst",
                severity="warning",
                namespace=ns,
                kind="pod",
                name=name,
                summary=(
                    f"Container {c['name']} of pod {name} has restarted {c['restart_count']} times "
                    f"({_last_termination(c)}); it is up right now but unstable."
                ),
                evidence=(
                    f"container {c['name']} ({c['image']}): {c['restart_count']} restarts, state running",
                    _last_termination(c),
                ),
                next_query=tool_call(
                    "k8s_pod_logs", namespace=ns, pod=name, container=c["name"], previous=True
                ),
            )
        )
    return out
