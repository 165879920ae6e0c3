"""`aiops audit prune [--dry-run]` (as `audit_archiver`): the seed's 90-day audit retention.

A day's rows are deleted only when the whole day is older than 90 days AND its export verifies
(digest, signature, hash, and every exported row still equal in the database). The trigger
on `audit_events` enforces the rest in the database itself: only this role, only rows older
than 90 days. Each pruned day is recorded, in the same transaction as the delete, as a
`retention` audit event (session_id `retention:<day>`) naming the count and the digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from app.audit.digest import Verifier
from app.audit.roles import ARCHIVER, INSERT_COLUMNS
from app.audit.rows import day_bounds
from app.audit.s3 import AuditBucket
from app.audit.verify import verify
from kernel.errors import ConfigError

RETENTION_DAYS = 90  # the trigger in migration 005 holds the same number
PRUNER = "system:audit-prune"

_CANDIDATES = """
SELECT (timestamp AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM audit_events
WHERE timestamp < $1 GROUP BY 1 ORDER BY 1
"""
_RECORD = f"""
INSERT INTO audit_events ({INSERT_COLUMNS})
VALUES ($1, 'retention', $2, $3, $4, $5, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
"""  # noqa: S608 (constant columns)


@dataclass(frozen=True)
class PruneResult:
    day: date
    rows: int
    pruned: bool
    reason: str


async def prune(
    pool: asyncpg.Pool,
    bucket: AuditBucket,
    verifier: Verifier,
    *,
    agent_version: str,
    dry_run: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[PruneResult]:
    role = await pool.fetchval("SELECT current_user")
    if role != ARCHIVER:  # the trigger would refuse anyway: say so before doing any work
        raise ConfigError("DATABASE_URL", f"aiops audit prune runs as {ARCHIVER}, not {role}")
    cutoff = datetime.combine((now() - timedelta(days=RETENTION_DAYS)).date(), time(0), tzinfo=UTC)
    candidates = [(r["day"], int(r["n"])) for r in await pool.fetch(_CANDIDATES, cutoff)]
    if not candidates:
        return []
    report = await verify(pool, bucket, verifier, from_day=candidates[0][0], to_day=candidates[-1][0])
    results = {d.day: d for d in report.days}
    out = []
    for day, n in candidates:
        checked = results.get(day)
        if checked is None or checked.digest_sha256 is None:
            out.append(PruneResult(day, n, False, "not exported"))
        elif not checked.ok:
            first = checked.problems[0]
            out.append(PruneResult(day, n, False, f"export does not verify ({first.kind}: {first.detail})"))
        elif dry_run:
            out.append(PruneResult(day, n, False, "would prune (dry run)"))
        else:
            deleted = await _prune_day(pool, day, checked.digest_sha256 or "?", agent_version)
            out.append(PruneResult(day, deleted, True, "pruned"))
    return out


async def _prune_day(pool: asyncpg.Pool, day: date, digest_sha: str, agent_version: str) -> int:
    start, end = day_bounds(day)
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            "DELETE FROM audit_events WHERE timestamp >= $1 AND timestamp < $2", start, end
        )
        deleted = int(status.split()[-1])
        await conn.execute(
            _RECORD,
            uuid.uuid4(),
            PRUNER,
            f"retention:{day.isoformat()}",
            agent_version,
            f"pruned {deleted} audit rows of {day} (older than {RETENTION_DAYS} days; export verified, "
            f"digest sha256 {digest_sha})",
        )
    return deleted
