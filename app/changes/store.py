"""Change records in PostgreSQL (migration 013): written by the watcher, read by `k8s_changes`.

Multi-worker safe: every worker may run a watcher. A lease row lets one of them poll per interval;
should two observe the same object anyway, the comparison with the last state runs under one
transaction-scoped advisory lock and the unique (kind, namespace, name, resource_version) index
drops a second copy of the same version. Rows hold metadata only (see detect.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from app.changes.detect import Change, Observation, detect
from tools.kubernetes.changes_extract import image_diff, item

JSON = dict[str, Any]
_LOCK = 0x43_48_4E_47  # "CHNG"

_INSERT = """
INSERT INTO change_records (kind, namespace, name, resource_version, change, changed_at, images,
    previous_images, replicas, previous_replicas, detail, by_manager, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13)
ON CONFLICT (kind, namespace, name, resource_version) DO NOTHING
RETURNING 1
"""
_UPSERT_STATE = """
INSERT INTO change_watch_state (kind, namespace, name, resource_version, state, seen_at)
VALUES ($1, $2, $3, $4, $5::jsonb, now())
ON CONFLICT (kind, namespace, name) DO UPDATE
SET resource_version = EXCLUDED.resource_version, state = EXCLUDED.state, seen_at = now()
"""
_FORGET_GONE = """
DELETE FROM change_watch_state s WHERE s.kind = $1
AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS seen(ns, name)
                WHERE seen.ns = s.namespace AND seen.name = s.name)
"""
_RECORDED = """
SELECT * FROM change_records
WHERE changed_at >= $1 AND ((namespace <> '' AND ($2::text[] IS NULL OR namespace = ANY($2)))
                            OR ($3 AND namespace = ''))
ORDER BY changed_at DESC, id DESC LIMIT $4
"""


class ChangeStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_poll(self, holder: str, every: timedelta) -> bool:
        """True for the one worker that may poll now (the lease moved forward for it)."""
        row = await self._pool.fetchval(
            "UPDATE change_watch_lease SET polled_at = now(), holder = $1"
            " WHERE id = 1 AND polled_at <= now() - $2::interval RETURNING 1",
            holder,
            every,
        )
        return row is not None

    async def record(self, kind: str, observations: Sequence[Observation], *, complete: bool) -> int:
        """Record what changed since the last observation of each object; returns rows added.
        `complete`: the observations are a full listing, so objects missing from it are gone."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            rows = await conn.fetch(
                "SELECT namespace, name, resource_version, state, seen_at"
                " FROM change_watch_state WHERE kind = $1",
                kind,
            )
            known = {(r["namespace"], r["name"]): r for r in rows}
            changes, states = [], []
            for ob in observations:
                prev = known.get((ob.namespace, ob.name))
                if prev is not None and prev["resource_version"] == ob.resource_version:
                    continue
                before = json.loads(prev["state"]) if prev is not None else None
                found = detect(kind, before, ob)
                if found is not None:
                    last_seen = prev["seen_at"] if prev is not None else None
                    changes.append(_row(kind, ob, found, _when(ob.changed_at, last_seen, now)))
                states.append((kind, ob.namespace, ob.name, ob.resource_version, json.dumps(ob.state)))
            added = 0
            for row in changes:  # few per poll: most observations are unchanged
                added += await conn.fetchval(_INSERT, *row) or 0
            if states:
                await conn.executemany(_UPSERT_STATE, states)
            if complete:
                await conn.execute(
                    _FORGET_GONE, kind, [o.namespace for o in observations], [o.name for o in observations]
                )
            return added

    async def recorded(
        self, *, namespaces: Sequence[str] | None, cluster: bool, since: datetime, limit: int
    ) -> list[JSON]:
        """Records since `since` in `namespaces` (None: all) and, with `cluster`, of nodes;
        newest first, in the k8s_changes item shape."""
        rows = await self._pool.fetch(
            _RECORDED, since, None if namespaces is None else list(namespaces), cluster, limit
        )
        return [_as_item(r) for r in rows]


def _row(kind: str, ob: Observation, found: Change, when: datetime) -> tuple[Any, ...]:
    return (
        kind,
        ob.namespace,
        ob.name,
        ob.resource_version,
        found.change,
        when,
        json.dumps(found.images),
        json.dumps(found.previous_images),
        found.replicas,
        found.previous_replicas,
        found.detail[:500],
        ob.by,
        found.reason,
    )


def _when(changed_at: datetime | None, last_seen: datetime | None, now: datetime) -> datetime:
    """The object's own time when it has one and it is plausible (not in the future, not before we
    last saw the previous version); else when we saw it."""
    if changed_at is None or changed_at > now or (last_seen is not None and changed_at < last_seen):
        return now
    return changed_at


def _as_item(row: asyncpg.Record) -> JSON:
    images, previous = json.loads(row["images"]), json.loads(row["previous_images"])
    replicas = None
    if row["replicas"] is not None or row["previous_replicas"] is not None:
        replicas = {"from": row["previous_replicas"], "to": row["replicas"]}
    return item(
        row["kind"],
        row["namespace"] or None,
        row["name"],
        row["change"],
        row["changed_at"],
        row["detail"],
        image_changes=image_diff(previous, images) if row["change"] == "rollout" else [],
        replicas=replicas if row["change"] in ("rollout", "scaled") else None,
        by=row["by_manager"],
        reason=row["reason"],
        source="recorded",
    )
