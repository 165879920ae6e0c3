"""Storage detectors: PersistentVolumeClaims that are not Bound (with the StorageClass they name
checked for existence), PersistentVolumes Released or Failed, StorageClass set-up problems."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, cause, event_lines, newest_first, tool_call


def pending_pvc(state: ClusterState) -> list[Finding]:
    out = []
    for pvc in state.pvcs:
        if pvc["phase"] not in ("Pending", "Lost"):
            continue
        ns, name = pvc["namespace"], pvc["name"]
        classes = state.cluster_names.get("storageclass")
        sc = pvc["storage_class"]
        class_missing = bool(sc) and classes is not None and sc not in classes
        events = newest_first(state.events_for(ns, "PersistentVolumeClaim", name))
        reason = (
            cause(events[0]["reason"], events[0]["message"]) if events else "no provisioning event recorded"
        )
        if class_missing:
            reason = f"StorageClass {sc} does not exist ({reason})"
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
                    *([f"StorageClass {sc}: not found"] if class_missing else []),
                    *event_lines(events),
                ),
                next_query=tool_call(
                    "k8s_events", namespace=ns, involved_object=f"PersistentVolumeClaim/{name}"
                ),
            )
        )
    return out


def persistent_volumes(state: ClusterState) -> list[Finding]:
    out = []
    for pv in state.of("pv"):
        if pv["phase"] not in ("Released", "Failed"):
            continue
        failed = pv["phase"] == "Failed"
        out.append(
            Finding(
                analyzer="pv",
                severity="warning" if failed else "info",
                namespace=None,
                kind="pv",
                name=pv["name"],
                summary=(
                    f"PersistentVolume {pv['name']} is {pv['phase']}"
                    + (
                        f": reclaiming it failed ({cause(pv['reason'], pv['message'])})."
                        if failed
                        else f": its claim {pv['claim'] or '?'} was deleted and the volume (reclaim policy "
                        f"{pv['reclaim_policy'] or '?'}) is not reused until an admin cleans it up."
                    )
                ),
                evidence=(
                    f"phase {pv['phase']}, capacity {pv['capacity'] or '?'}, "
                    f"storageClass {pv['storage_class'] or '-'}, "
                    f"claim {pv['claim'] or '-'}",
                ),
                next_query=tool_call("k8s_events", involved_object=f"PersistentVolume/{pv['name']}"),
            )
        )
    return out


def storage_classes(state: ClusterState) -> list[Finding]:
    classes = state.of("storageclass")
    out = []
    defaults = sorted(c["name"] for c in classes if c["default"])
    if len(defaults) > 1:
        out.append(
            Finding(
                analyzer="storageclass",
                severity="warning",
                namespace=None,
                kind="storageclass",
                name=defaults[0],
                summary=(
                    f"{len(defaults)} StorageClasses are marked default ({', '.join(defaults)}): "
                    "a PVC without storageClassName gets whichever the API server picks."
                ),
                evidence=tuple(f"StorageClass {d}: is-default-class=true" for d in defaults),
                next_query=tool_call("k8s_list", kind="pvc"),
            )
        )
    for c in classes:
        if c["provisioner"] == "kubernetes.io/no-provisioner":
            out.append(
                Finding(
                    analyzer="storageclass",
                    severity="info",
                    namespace=None,
                    kind="storageclass",
                    name=c["name"],
                    summary=(
                        f"StorageClass {c['name']} has no dynamic provisioner "
                        "(kubernetes.io/no-provisioner): "
                        "its claims wait for a PersistentVolume created by hand."
                    ),
                    evidence=(f"provisioner {c['provisioner']}",),
                    next_query=tool_call("k8s_list", kind="pvc"),
                )
            )
    return out
