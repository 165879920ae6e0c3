"""What changed, read off the objects Kubernetes still holds (pure functions, no I/O).

Kubernetes keeps some history itself: a Deployment's old ReplicaSets and a StatefulSet's or
DaemonSet's ControllerRevisions (each with its revision number, creation time and pod template),
an HPA's `lastScaleTime`, each object's `managedFields` (who last wrote which fields, and when),
node conditions' and Job conditions' `lastTransitionTime`. These functions turn that into change
items — metadata only: names, times, image references, replica counts, the field manager. Never a
ConfigMap's data (the caller only ever has its metadata), never env values or other spec content.
The watcher (app/changes) uses `snapshot()` to record the state Kubernetes forgets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
CHANGE_ORDER = (
    "rollout",
    "scaled",
    "failed",
    "cordoned",
    "pressure",
    "not_ready",
    "updated",
    "uncordoned",
    "recovered",
)
"""Tie-break at equal times: the change most likely to explain an alert first."""


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def item(
    obj_kind: str,
    namespace: str | None,
    name: str,
    change: str,
    when: datetime,
    detail: str,
    **extra: Any,
) -> JSON:
    """One change, in the tool's output shape (`namespace` None for cluster-scoped objects).

    `detail` is our own words and numbers only: every string from the cluster (field manager,
    failure reason, images) has a field of its own, so the router's injection check sees it whole
    instead of behind a prefix of ours."""
    return {
        "time": stamp(when),
        "kind": obj_kind,
        "namespace": namespace,
        "name": name,
        "change": change,
        "detail": detail,
        "revision": extra.get("revision"),
        "image_changes": extra.get("image_changes") or [],
        "replicas": extra.get("replicas"),
        "by": extra.get("by"),
        "reason": extra.get("reason"),
        "source": extra.get("source", "cluster"),
    }


def sort_key(entry: JSON) -> tuple[str, int]:
    """Newest first; at equal times the likelier cause first (use with reverse=False)."""
    order = CHANGE_ORDER.index(entry["change"]) if entry["change"] in CHANGE_ORDER else len(CHANGE_ORDER)
    inverted = "".join(chr(0x10FFFF - ord(c)) for c in entry["time"])
    return inverted, order


# ---- images -------------------------------------------------------------------------------


def template_images(template: Any) -> dict[str, str]:
    """container name → image of a pod template (init containers too)."""
    spec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(spec, dict):
        return {}
    out: dict[str, str] = {}
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("image"), str):
                out[c["name"]] = c["image"]
    return out


def image_diff(before: dict[str, str], after: dict[str, str]) -> list[JSON]:
    return [
        {"container": name, "from": before.get(name), "to": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def describe_images(diff: list[JSON]) -> str:
    """Counts only (the image references themselves travel in `image_changes`)."""
    return f"{len(diff)} image{'s' if len(diff) != 1 else ''} changed" if diff else ""


# ---- managedFields ------------------------------------------------------------------------


def last_write(obj: JSON) -> tuple[datetime, str] | None:
    """(time, manager) of the newest spec/metadata write (status subresource writes are not changes)."""
    best: tuple[datetime, str] | None = None
    for entry in _meta(obj).get("managedFields") or []:
        if not isinstance(entry, dict) or entry.get("subresource") == "status":
            continue
        if entry.get("operation") not in ("Update", "Apply"):
            continue
        when = parse_time(entry.get("time"))
        if when is not None and (best is None or when > best[0]):
            best = (when, str(entry.get("manager") or "unknown"))
    return best


def updated_items(obj_kind: str, objects: Iterable[JSON], since: datetime) -> list[JSON]:
    """Objects whose managedFields show a write since `since` (metadata only)."""
    out = []
    for obj in objects:
        meta = _meta(obj)
        write = last_write(obj)
        if write is None or write[0] < since or not isinstance(meta.get("name"), str):
            continue
        out.append(
            item(
                obj_kind,
                meta.get("namespace"),
                meta["name"],
                "updated",
                write[0],
                "spec or metadata written",
                by=write[1],
            )
        )
    return out


# ---- rollouts: ReplicaSets and ControllerRevisions ----------------------------------------


def _owner(obj: JSON, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    for ref in _meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") in kinds and isinstance(ref.get("name"), str):
            return str(ref["kind"]), ref["name"]
    return None


def _revision_of(obj: JSON) -> int | None:
    raw: Any = obj.get("revision")
    if raw is None:
        raw = (_meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _revision_images(obj: JSON) -> dict[str, str]:
    """A ReplicaSet's template, or a ControllerRevision's `data` patch (`spec.template`)."""
    if "data" in obj:  # ControllerRevision: only the template's images are looked at
        data = obj.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return {}
        spec = data.get("spec") if isinstance(data, dict) else None
        return template_images(spec.get("template") if isinstance(spec, dict) else None)
    spec = obj.get("spec")
    return template_images(spec.get("template") if isinstance(spec, dict) else None)


def rollout_items(revisions: Iterable[JSON], since: datetime, *, owners: dict[str, str]) -> list[JSON]:
    """Revisions created since `since`, with the image diff against the owner's previous revision.

    `revisions`: ReplicaSets and/or ControllerRevisions; `owners` maps the owner Kind
    (Deployment, StatefulSet, DaemonSet) to our kind name."""
    by_owner: dict[tuple[str | None, str, str], list[tuple[int, JSON]]] = {}
    for rev in revisions:
        owner = _owner(rev, tuple(owners))
        number = _revision_of(rev)
        if owner is None or number is None:
            continue
        key = (_meta(rev).get("namespace"), owners[owner[0]], owner[1])
        by_owner.setdefault(key, []).append((number, rev))
    out = []
    for (namespace, kind, name), revs in by_owner.items():
        revs.sort(key=lambda r: r[0])
        for i, (number, rev) in enumerate(revs):
            created = parse_time(_meta(rev).get("creationTimestamp"))
            if created is None or created < since:
                continue
            after = _revision_images(rev)
            before = _revision_images(revs[i - 1][1]) if i > 0 else {}
            diff = image_diff(before, after) if i > 0 else []
            detail = f"revision {number}" + (f": {describe_images(diff)}" if diff else "")
            if i == 0:
                detail += " (first revision)"
            elif not diff:
                detail += ": pod template changed, same images"
            out.append(
                item(kind, namespace, name, "rollout", created, detail, revision=number, image_changes=diff)
            )
    return out


# ---- HPA, nodes, Jobs ---------------------------------------------------------------------


def hpa_items(hpas: Iterable[JSON], since: datetime) -> list[JSON]:
    out = []
    for hpa in hpas:
        meta, status = _meta(hpa), hpa.get("status") or {}
        when = parse_time(status.get("lastScaleTime"))
        if when is None or when < since or not isinstance(meta.get("name"), str):
            continue
        current, desired = status.get("currentReplicas"), status.get("desiredReplicas")
        replicas = {"from": current, "to": desired} if isinstance(desired, int) else None
        detail = f"scaled to {desired} replicas (currently {current})" if replicas else "scaled"
        out.append(
            item("hpa", meta.get("namespace"), meta["name"], "scaled", when, detail, replicas=replicas)
        )
    return out


def node_state(node: JSON) -> JSON:
    """The parts of a node that count as changes: cordon and pressure/readiness, with their times."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    state: JSON = {"cordoned": bool(spec.get("unschedulable")), "pressure": [], "ready": True, "times": {}}
    for taint in spec.get("taints") or []:
        if isinstance(taint, dict) and taint.get("key") == UNSCHEDULABLE_TAINT and taint.get("timeAdded"):
            state["times"]["cordoned"] = taint["timeAdded"]
    for cond in status.get("conditions") or []:
        if not isinstance(cond, dict):
            continue
        kind, value, when = cond.get("type"), cond.get("status"), cond.get("lastTransitionTime")
        if kind in PRESSURE and value == "True":
            state["pressure"].append(kind)
            state["times"][kind] = when
        elif kind == "Ready":
            state["ready"] = value == "True"
            state["times"]["Ready"] = when
    state["pressure"].sort()
    return state


def node_items(nodes: Iterable[JSON], since: datetime) -> list[JSON]:
    out = []
    for node in nodes:
        name, state = _meta(node).get("name"), node_state(node)
        if not isinstance(name, str):
            continue
        times = state["times"]
        cordon_at = parse_time(times.get("cordoned"))
        if state["cordoned"] and cordon_at is None:
            write = last_write(node)
            cordon_at = write[0] if write else None
        if state["cordoned"] and cordon_at is not None and cordon_at >= since:
            out.append(item("node", None, name, "cordoned", cordon_at, "cordoned (unschedulable)"))
        for kind in state["pressure"]:
            when = parse_time(times.get(kind))
            if when is not None and when >= since:
                out.append(item("node", None, name, "pressure", when, f"{kind}=True"))
        ready_at = parse_time(times.get("Ready"))
        if not state["ready"] and ready_at is not None and ready_at >= since:
            out.append(item("node", None, name, "not_ready", ready_at, "Ready is not True"))
    return out


def job_failure(job: JSON) -> tuple[datetime, str] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Failed" and cond.get("status") == "True":
            when = parse_time(cond.get("lastTransitionTime"))
            if when is not None:
                return when, str(cond.get("reason") or "Failed")
    return None


def job_items(jobs: Iterable[JSON], since: datetime) -> list[JSON]:
    out = []
    for job in jobs:
        meta, failure = _meta(job), job_failure(job)
        if failure is None or failure[0] < since or not isinstance(meta.get("name"), str):
            continue
        out.append(
            item(
                "job", meta.get("namespace"), meta["name"], "failed", failure[0], "failed", reason=failure[1]
            )
        )
    return out


# ---- what the watcher records -------------------------------------------------------------

WORKLOADS = ("deployment", "statefulset", "daemonset")


def snapshot(kind: str, obj: JSON) -> JSON:
    """The recorded state of one object: images, replicas and state flags — nothing else."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if kind in WORKLOADS:
        replicas = spec.get("replicas") if kind != "daemonset" else None
        return {"images": template_images(spec.get("template")), "replicas": replicas}
    if kind == "hpa":
        return {"images": {}, "replicas": status.get("desiredReplicas")}
    if kind == "node":
        state = node_state(obj)
        return {
            "images": {},
            "replicas": None,
            "cordoned": state["cordoned"],
            "pressure": state["pressure"],
            "ready": state["ready"],
        }
    if kind == "job":
        failure = job_failure(obj)
        return {"images": {}, "replicas": None, "failed": failure[1] if failure else None}
    return {"images": {}, "replicas": None}  # configmap: its resourceVersion is its state
