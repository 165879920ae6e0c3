"""Is a new observation of an object a change worth recording? (pure; the store calls it)

The watcher sees every object on every poll, and most resourceVersion bumps are status noise (an
HPA's current metrics, a Deployment's ready count). Only these count: a workload's images or
replica count, an HPA's desired replicas, any new version of a ConfigMap (its metadata only: we
never see its data), a Job that failed, a node cordoned, uncordoned, under pressure, not ready or
recovered. The first sighting of an object records nothing unless it is already a failed Job or
a troubled node — those states are exactly what vanishes (TTL-deleted Jobs) or flips back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tools.kubernetes.changes_extract import WORKLOADS, describe_images, image_diff

JSON = dict[str, Any]


@dataclass(frozen=True)
class Observation:
    kind: str
    namespace: str
    """'' for cluster-scoped objects (nodes)."""
    name: str
    resource_version: str
    state: JSON
    """`changes_extract.snapshot()`: images, replicas, flags — never content."""
    changed_at: datetime | None
    """The object's own time for its latest change (managedFields write, condition transition)."""
    by: str | None = None
    """The field manager of the latest write, when known."""


@dataclass(frozen=True)
class Change:
    change: str
    detail: str
    images: dict[str, str]
    previous_images: dict[str, str]
    replicas: int | None
    previous_replicas: int | None
    reason: str | None = None
    """The cluster's own word for it (a Job's failure reason): untrusted, kept apart from `detail`."""


def detect(kind: str, before: JSON | None, ob: Observation) -> Change | None:
    after = ob.state
    if kind in WORKLOADS or kind == "hpa":
        return None if before is None else _scaled_or_rolled(before, after)
    if kind == "configmap":
        return None if before is None else _change("updated", "new version (metadata only)", after, before)
    if kind == "job":
        failed, was = after.get("failed"), (before or {}).get("failed")
        return _change("failed", "failed", after, before, reason=failed) if failed and not was else None
    if kind == "node":
        return _node(before, after)
    return None


def _change(change: str, detail: str, after: JSON, before: JSON | None, reason: str | None = None) -> Change:
    return Change(
        change=change,
        detail=detail,
        images=dict(after.get("images") or {}),
        previous_images=dict((before or {}).get("images") or {}),
        replicas=after.get("replicas"),
        previous_replicas=(before or {}).get("replicas"),
        reason=reason,
    )


def _scaled_or_rolled(before: JSON, after: JSON) -> Change | None:
    diff = image_diff(before.get("images") or {}, after.get("images") or {})
    replicas_moved = before.get("replicas") != after.get("replicas")
    scaled = f"replicas {before.get('replicas')} → {after.get('replicas')}" if replicas_moved else ""
    if diff:
        return _change("rollout", "; ".join(p for p in (describe_images(diff), scaled) if p), after, before)
    if replicas_moved:
        return _change("scaled", scaled, after, before)
    return None


def _node(before: JSON | None, after: JSON) -> Change | None:
    was: JSON = before or {"cordoned": False, "pressure": [], "ready": True}
    new_pressure = sorted(set(after.get("pressure") or []) - set(was.get("pressure") or []))
    if after.get("cordoned") and not was.get("cordoned"):
        return _change("cordoned", "cordoned (unschedulable)", after, before)
    if new_pressure:
        return _change("pressure", ", ".join(f"{p}=True" for p in new_pressure), after, before)
    if not after.get("ready", True) and was.get("ready", True):
        return _change("not_ready", "Ready is not True", after, before)
    if before is None:
        return None
    if was.get("cordoned") and not after.get("cordoned"):
        return _change("uncordoned", "uncordoned (schedulable again)", after, before)
    cleared = sorted(set(was.get("pressure") or []) - set(after.get("pressure") or []))
    if cleared:
        return _change("recovered", ", ".join(f"{p} cleared" for p in cleared), after, before)
    if after.get("ready", True) and not was.get("ready", True):
        return _change("recovered", "Ready again", after, before)
    return None
