"""Item 4: `aiops audit prune` as audit_archiver removes only verified days older than 90 days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from app.audit.digest import Ed25519Signer, Verifier
from app.audit.export import export
from app.audit.prune import prune
from app.audit.s3 import AuditBucket
from app.audit.verify import verify
from tests.app.audit.conftest import seed
from tests.app.audit.test_roles import as_role

TODAY = datetime.now(UTC).date()
A, B, C = TODAY - timedelta(days=101), TODAY - timedelta(days=100), TODAY - timedelta(days=95)


@pytest.fixture
async def archiver(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(as_role(db_dsn, "audit_archiver"), min_size=1, max_size=2)
    assert pool is not None
    yield pool
    await pool.close()


async def test_prune_deletes_only_verified_days_past_retention(
    owner_pool: asyncpg.Pool,
    archiver: asyncpg.Pool,
    bucket: AuditBucket,
    signer: Ed25519Signer,
    verifier: Verifier,
) -> None:
    await seed(owner_pool, A, 2)
    tampered = (await seed(owner_pool, B, 2))[0]
    await seed(owner_pool, C, 1)
    await owner_pool.execute(
        "INSERT INTO audit_events (event_type, user_id, agent_version) VALUES ('query','u','v')"
    )
    await export(archiver, bucket, signer, through=B)  # the archiver exports too: its grants suffice
    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("UPDATE audit_events SET user_id = 'someone-else' WHERE id = $1", tampered)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    count = "SELECT count(*) FROM audit_events WHERE event_type = 'query'"
    before = await owner_pool.fetchval(count)

    dry = await prune(archiver, bucket, verifier, agent_version="sha", dry_run=True)
    assert [(r.day, r.pruned) for r in dry] == [(A, False), (B, False), (C, False)]
    assert dry[0].reason == "would prune (dry run)"
    assert await owner_pool.fetchval(count) == before

    done = await prune(archiver, bucket, verifier, agent_version="sha")
    assert [(r.day, r.rows, r.pruned) for r in done] == [(A, 2, True), (B, 2, False), (C, 1, False)]
    assert done[1].reason.startswith("export does not verify (row modified")
    assert done[2].reason == "not exported"
    assert await owner_pool.fetchval(count) == before - 2
    # today's row is never touched
    assert (
        await owner_pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE timestamp >= $1",
            datetime.combine(TODAY, datetime.min.time(), UTC),
        )
        >= 1
    )
    event = await owner_pool.fetchrow(
        "SELECT user_id, session_id, user_message FROM audit_events WHERE event_type = 'retention'"
    )
    assert event is not None and event["user_id"] == "system:audit-prune"
    assert event["session_id"] == f"retention:{A}" and "pruned 2 audit rows" in event["user_message"]

    # the pruned day still verifies (its absence is expected); the tampered one still does not
    report = await verify(owner_pool, bucket, verifier)
    assert [d.ok for d in report.days] == [True, False]
    # running again prunes nothing more
    again = await prune(archiver, bucket, verifier, agent_version="sha")
    assert [r.day for r in again] == [B, C]


async def test_prune_refuses_any_other_role(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier
) -> None:
    from kernel.errors import ConfigError

    with pytest.raises(ConfigError, match="runs as audit_archiver"):
        await prune(owner_pool, bucket, verifier, agent_version="sha")
