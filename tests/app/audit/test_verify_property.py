"""Property: any single change to any column of any exported row is reported as that row
modified — and nothing else — whatever the column and value."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.digest import Ed25519Signer, Verifier
from app.audit.export import export
from app.audit.s3 import AuditBucket
from app.audit.verify import MODIFIED, verify
from tests.app.audit.conftest import clock, seed

D = date(2026, 6, 1)
_CHARS = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))  # what PostgreSQL text holds


def _text(**kw: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_CHARS, **kw)


CHANGES = {
    "event_type": st.sampled_from(["security", "tool_call", "query "]),
    "user_id": _text(min_size=1, max_size=12),
    "session_id": st.none() | _text(max_size=12),
    "agent_version": _text(min_size=1, max_size=8),
    "user_message": st.none() | _text(max_size=30),
    "response_hash": st.none() | _text(max_size=10),
    "namespace": st.none() | _text(max_size=10),
    "failure_reason": st.none() | _text(max_size=10),
    "latency_ms": st.none() | st.integers(min_value=-1000, max_value=10**6),
    "token_count": st.none() | st.integers(min_value=0, max_value=10**6),
}


async def test_any_single_change_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer, verifier: Verifier
) -> None:
    ids = await seed(owner_pool, D, 5)
    await export(owner_pool, bucket, signer, now=clock(D + timedelta(days=1)))
    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
    try:
        await _check(owner_pool, bucket, verifier, ids)
    finally:
        async with owner_pool.acquire() as conn:
            await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")


async def _check(pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, ids: list[uuid.UUID]) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        column = data.draw(st.sampled_from(sorted(CHANGES)))
        value = data.draw(CHANGES[column])
        target = data.draw(st.sampled_from(ids))
        samples.append((column, value, target))

    samples: list[tuple[str, object, uuid.UUID]] = []
    run()
    for column, value, target in samples:
        before = await pool.fetchval(f"SELECT {column} FROM audit_events WHERE id = $1", target)
        if before == value:
            continue
        await pool.execute(f"UPDATE audit_events SET {column} = $1 WHERE id = $2", value, target)
        report = await verify(pool, bucket, verifier)
        found = [(p.kind, p.detail) for d in report.days for p in d.problems]
        assert found == [(MODIFIED, str(target))], (column, value)
        await pool.execute(f"UPDATE audit_events SET {column} = $1 WHERE id = $2", before, target)
    assert (await verify(pool, bucket, verifier)).ok
