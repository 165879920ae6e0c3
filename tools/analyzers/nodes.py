"""Node detectors (cluster-wide scopes only — the state holds no nodes otherwise)."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, cause, promql_str, tool_call

PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
HEALTHY_TRUE = frozenset({"Ready"})
"""Every other node condition (kubelet's and node-problem-detector's) is healthy when False."""


def node_health(state: ClusterState) -> list[Finding]:
    out = []
    for node in state.nodes:
        name = node["name"]
        ready = next((c for c in node["conditions"] if c["type"] == "Ready"), None)
        if ready is None or ready["status"] != "True":
            detail = cause(ready["reason"], ready["message"]) if ready else "no Ready condition reported"
            out.append(
                Finding(
                    analyzer="node_not_ready",
                    severity="critical",
                    namespace=None,
                    kind="node",
                    name=name,
                    summary=(
                        f"Node {name} is NotReady "
                        f"(Ready={ready['status'] if ready else 'missing'}, {detail}); "
                        "its pods are being evicted or are unreachable."
                    ),
                    evidence=(
                        f"condition Ready={ready['status'] if ready else '?'} since "
                        f"{(ready or {}).get('last_transition') or '?'}: {detail}",
                        f"taints: {', '.join(node['taints']) or 'none'}",
                        f"kubelet {node['kubelet_version'] or '?'}",
                    ),
                    next_query=tool_call("k8s_get", kind="node", name=name),
                )
            )
            continue  # pressure conditions of an unreachable node are Unknown, not news
        # a pressure condition, or any problem condition (node-problem-detector's KernelDeadlock,
        # ReadonlyFilesystem, …) that is True or Unknown (the kubelet cannot tell)
        pressed = [
            c
            for c in node["conditions"]
            if c["type"] not in HEALTHY_TRUE and c["status"] in ("True", "Unknown")
        ]
        if pressed:
            kinds = ", ".join(c["type"] + ("" if c["status"] == "True" else " (Unknown)") for c in pressed)
            out.append(
                Finding(
                    analyzer="node_pressure",
                    severity="warning",
                    namespace=None,
                    kind="node",
                    name=name,
                    summary=f"Node {name} reports {kinds}: the kubelet may evict pods and refuse new ones.",
                    evidence=(
                        *(
                            f"condition {c['type']}={c['status']} {cause(c['reason'], c['message'])}"
                            for c in pressed
                        ),
                        f"allocatable: {node['allocatable']}",
                    ),
                    next_query=f'kube_node_status_condition{{node={promql_str(name)},status="true"}}',
                )
            )
    return out
