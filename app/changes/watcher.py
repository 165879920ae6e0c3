"""The lightweight watcher in the workers: list + compare, once per interval across all workers.

Every POLL_S one worker (whichever moves the lease in PostgreSQL) lists the watched kinds across
the cluster with the read-only service account and records what changed (app/changes/detect.py)
— metadata only. ConfigMaps are listed as `PartialObjectMetadataList` (their data never leaves the
API server); Secrets are never listed. A kind the operator's RBAC forbids is skipped, not fatal.
Scope is applied when reading (`k8s_changes`), not here: the records are the cluster's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from app.changes.detect import Observation
from app.changes.store import ChangeStore
from kernel.errors import BackendError
from tools.kubernetes.changes_extract import (
    WORKLOADS,
    job_failure,
    last_write,
    node_state,
    parse_time,
    snapshot,
)
from tools.kubernetes.client import KubernetesClient

log = logging.getLogger(__name__)
POLL_S = 60.0
USER_AGENT = "aiops-change-watcher"
"""The watcher's Kubernetes client names itself: its cluster-wide lists are the service account's,
made for no user (tests tell them from the tools' requests by it)."""
WATCHED = (*WORKLOADS, "hpa", "job", "node", "configmap")

JSON = dict[str, Any]


def observe(kind: str, obj: JSON) -> Observation | None:
    meta = obj.get("metadata") or {}
    name, version = meta.get("name"), meta.get("resourceVersion")
    if not isinstance(name, str) or not isinstance(version, str):
        return None
    write = last_write(obj)
    changed_at = write[0] if write else None
    if kind == "hpa":
        changed_at = parse_time((obj.get("status") or {}).get("lastScaleTime")) or changed_at
    elif kind == "job":
        failure = job_failure(obj)
        changed_at = failure[0] if failure else changed_at
    elif kind == "node":
        times = [parse_time(t) for t in node_state(obj)["times"].values()]
        changed_at = max((t for t in times if t is not None), default=changed_at)
    return Observation(
        kind=kind,
        namespace=str(meta.get("namespace") or ""),
        name=name,
        resource_version=version,
        state=snapshot(kind, obj),
        changed_at=changed_at,
        by=write[1] if write and kind in (*WORKLOADS, "configmap") else None,
    )


class ChangeWatcher:
    def __init__(
        self, *, client: KubernetesClient, store: ChangeStore, holder: str, poll_s: float = POLL_S
    ) -> None:
        self._client = client
        self._store = store
        self._holder = holder
        self._poll_s = poll_s

    async def poll_once(self, *, force: bool = False) -> int:
        """One pass over the watched kinds (unless another worker polled within the interval);
        returns the change records added."""
        if not force and not await self._store.claim_poll(
            self._holder, timedelta(seconds=self._poll_s * 0.9)
        ):
            return 0
        added = 0
        for kind in WATCHED:
            try:
                objects = await self._list(kind)
            except BackendError as exc:  # e.g. 403 for a kind the operator did not grant
                log.warning("change watcher: listing %s failed (%s)", kind, exc)
                continue
            seen = [ob for ob in (observe(kind, o) for o in objects) if ob is not None]
            added += await self._store.record(kind, seen, complete=True)
        return added

    async def _list(self, kind: str) -> list[JSON]:
        if kind == "configmap":  # names, labels, managedFields, resourceVersion — never data
            return await self._client.list_metadata("configmap", None)
        return await self._client.list(kind, None)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception as exc:  # a store or API blip must not end the worker; the next poll retries
                log.warning("change watcher: poll failed (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_s)
        await self._client.close()
