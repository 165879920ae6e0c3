"""Log reads for the analyzers: only containers that are failing or restarting, at most
MAX_LOG_FETCHES per analyze call, each tail-limited — and the detector for error lines in them."""

from __future__ import annotations

import asyncio
import re

from kernel.errors import ToolError
from tools.analyzers.base import ClusterState, Finding, Obj, tool_call
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.tools import bound_log

MAX_LOG_FETCHES = 8
"""Log reads per analyze call, most urgent first (crash loops, then failed, restarted, unready)."""
LOG_TAIL = 10
ERROR_LINES = 3
ERROR_LINE = re.compile(
    r"\b(error|fatal|panic|exception|traceback|failed|refused|timed? ?out|unauthorized|denied)\b", re.I
)

LogKey = tuple[str, str, str]


def _wanted(state: ClusterState) -> list[tuple[int, LogKey, bool]]:
    """(priority, (ns, pod, container), previous) for every container worth reading."""
    out = []
    for pod in state.pods:
        for c in pod["containers"]:
            key = (pod["namespace"], pod["name"], c["name"])
            if c["state"] == "waiting" and c["state_reason"] == "CrashLoopBackOff":
                out.append((0, key, True))
            elif c["state"] == "terminated" and c["exit_code"] not in (None, 0):
                out.append((1, key, False))
            elif c["state"] == "running" and c["restart_count"] > 0:
                out.append((2, key, True))
            elif c["state"] == "running" and not c["ready"] and not c["init"] and pod["phase"] == "Running":
                out.append((3, key, False))
    return sorted(out, key=lambda w: w[0])


async def collect_logs(client: KubernetesClient, state: ClusterState) -> list[str]:
    wanted = _wanted(state)
    notes = []
    crash = sum(1 for w in wanted if w[0] == 0)
    if crash > MAX_LOG_FETCHES:
        notes.append(f"Logs fetched for {MAX_LOG_FETCHES} of {crash} crash-looping containers.")
    elif len(wanted) > MAX_LOG_FETCHES:
        notes.append(f"Logs fetched for {MAX_LOG_FETCHES} of {len(wanted)} failing or restarting containers.")

    async def one(key: LogKey, previous: bool) -> None:
        ns, pod, container = key
        try:
            text = await client.pod_logs(ns, pod, container=container, tail_lines=LOG_TAIL, previous=previous)
        except ToolError:
            text = None
        if text:
            target = state.previous_logs if previous else state.current_logs
            target[key] = bound_log(text, tail_lines=LOG_TAIL)[0]

    await asyncio.gather(*(one(key, prev) for _, key, prev in wanted[:MAX_LOG_FETCHES]))
    return notes


def error_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if ERROR_LINE.search(line)][-ERROR_LINES:]


def log_errors(state: ClusterState) -> list[Finding]:
    """Error lines in the logs of containers that are up but restarted or not ready (a crash-looping
    container's log is evidence of its `crashloop` finding; a failed one's of `container_failed`)."""
    out = []
    by_key: dict[LogKey, Obj] = {
        (p["namespace"], p["name"], c["name"]): c for p in state.pods for c in p["containers"]
    }
    for source, logs in (("previous", state.previous_logs), ("current", state.current_logs)):
        for key, lines in sorted(logs.items()):
            c = by_key.get(key)
            if c is None or c["state"] != "running":
                continue
            hits = error_lines(lines)
            if not hits:
                continue
            ns, pod, container = key
            which = "the previous (restarted) instance" if source == "previous" else "the running instance"
            out.append(
                Finding(
                    analyzer="log_errors",
                    severity="warning",
                    namespace=ns,
                    kind="pod",
                    name=pod,
                    summary=(
                        f"Container {container} of pod {pod} logged errors in {which} "
                        f"({c['restart_count']} restarts, ready={str(c['ready']).lower()}): {hits[-1][:200]}"
                    ),
                    evidence=(
                        f"last {len(hits)} error lines of {which}:\n" + "\n".join(f"  {h}" for h in hits),
                    ),
                    next_query=tool_call(
                        "k8s_pod_logs",
                        namespace=ns,
                        pod=pod,
                        container=container,
                        previous=source == "previous",
                    ),
                )
            )
    return out
