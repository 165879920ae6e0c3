"""Storage detector: PersistentVolumeClaims that are not Bound."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, cause, event_lines, newest_first, tool_call


def pending_pvc(state: ClusterState) -> list[Finding]:
    out = []
    for pvc in state.pvcs:
        if pvc["phase"] not in ("Pending", "Lost"):
            continue
        ns, name = pvc["namespace"], pvc["name"]
        events = newest_first(state.events_for(ns, "PersistentVolumeClaim", name))
        reason = (
            cause(events[0]["reason"], events[0]["message"]) if events else "no provisioning event recorded"
        )
        out.append(
            Finding(
                analyzer="pending_pvc",
                severity="critical" if pvc["phase"] == "Lost" else "warning",
                namespace=ns,
                kind="pvc",
                name=name,
                summary=(
                    f"PersistentVolumeClaim {name} is {pvc['phase']} "
                    f"(storage class {pvc['storage_class'] or 'default'}, {pvc['requested'] or '?'}): "
                    f"{reason.rstrip('.')}. "
                    "Pods that mount it cannot start."
                ),
                evidence=(
                    f"phase {pvc['phase']}, storageClassName {pvc['storage_class']}, "
                    f"requested {pvc['requested']}, "
                    f"access modes {', '.join(pvc['access_modes']) or '-'}",
                    *event_lines(events),
                ),
                next_query=tool_call(
                    "k8s_events", namespace=ns, involved_object=f"PersistentVolumeClaim/{name}"
                ),
            )
        )
    return out
