"""Item 3: `verify` names each kind of tampering, and a clean week verifies."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.audit.digest import Ed25519Signer, Verifier, canonical, sign_digest
from app.audit.export import export
from app.audit.s3 import AuditBucket
from app.audit.verify import ADDED, CHAIN, MISSING, MODIFIED, SIGNATURE, Report, render, store_run, verify
from tests.app.audit.conftest import at, clock, pem, seed

WEEK = [date(2026, 4, 1) + timedelta(days=i) for i in range(7)]


@pytest.fixture
async def week(owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer) -> list[list[uuid.UUID]]:
    ids = [await seed(owner_pool, d, 3 + i % 3) for i, d in enumerate(WEEK)]
    await export(owner_pool, bucket, signer, now=clock(WEEK[-1] + timedelta(days=1)))
    return ids


def problems(report: Report) -> list[tuple[date, str, str]]:
    return [(d.day, p.kind, p.detail) for d in report.days for p in d.problems]


async def test_a_clean_week_verifies(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: Any
) -> None:
    report = await verify(owner_pool, bucket, verifier)
    assert report.ok and [d.day for d in report.days] == WEEK
    assert [d.rows for d in report.days] == [3, 4, 5, 3, 4, 5, 3]
    assert "7 days checked: all verified" in render(report)
    await store_run(owner_pool, report)
    row = await owner_pool.fetchrow("SELECT ok, last_verified_day, days_checked FROM audit_verify_runs")
    assert row is not None and row["ok"] and row["last_verified_day"] == WEEK[-1] and row["days_checked"] == 7


async def test_row_updated_with_triggers_disabled_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: list[list[uuid.UUID]]
) -> None:
    target = week[2][1]
    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("UPDATE audit_events SET user_message = 'nothing to see' WHERE id = $1", target)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    report = await verify(owner_pool, bucket, verifier)
    assert problems(report) == [(WEEK[2], MODIFIED, str(target))]
    assert f"row modified: {target}" in render(report)


async def test_row_moved_to_another_time_is_modified_not_missing(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: list[list[uuid.UUID]]
) -> None:
    target = week[1][0]
    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE audit_events SET timestamp = timestamp + interval '3 days' WHERE id = $1", target
        )
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    found = problems(await verify(owner_pool, bucket, verifier))
    assert (WEEK[1], MODIFIED, str(target)) in found
    assert all(kind != MISSING for _, kind, _ in found)


async def test_row_deleted_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: list[list[uuid.UUID]]
) -> None:
    target = week[4][0]
    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_events WHERE id = $1", target)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    assert problems(await verify(owner_pool, bucket, verifier)) == [(WEEK[4], MISSING, str(target))]


async def test_row_inserted_with_an_old_timestamp_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: Any
) -> None:
    intruder = uuid.uuid4()
    await owner_pool.execute(
        "INSERT INTO audit_events (id, event_type, user_id, timestamp, agent_version)"
        " VALUES ($1, 'query', 'x', $2, 'v')",
        intruder,
        at(WEEK[3], 8),
    )
    assert problems(await verify(owner_pool, bucket, verifier)) == [(WEEK[3], ADDED, str(intruder))]


async def test_digest_deleted_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, s3: Any, week: Any
) -> None:
    s3.delete_object(Bucket=bucket.bucket, Key="audit/2026/04/05/digest.json")
    found = problems(await verify(owner_pool, bucket, verifier))
    assert found == [(WEEK[4], CHAIN, "digest audit/2026/04/05/digest.json was deleted (delete marker)")]


async def test_export_object_replaced_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, s3: Any, week: Any
) -> None:
    import gzip

    s3.put_object(Bucket=bucket.bucket, Key="audit/2026/04/02/events.jsonl.gz", Body=gzip.compress(b""))
    found = problems(await verify(owner_pool, bucket, verifier))
    assert [(d, k) for d, k, _ in found] == [(WEEK[1], CHAIN)]
    assert "events.jsonl.gz was replaced" in found[0][2]


async def test_signature_forged_with_another_key_is_named(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, s3: Any, week: Any
) -> None:
    key = "audit/2026/04/06/digest.json"
    digest = json.loads(s3.get_object(Bucket=bucket.bucket, Key=key)["Body"].read())
    digest["row_count"] = 0
    forger = Ed25519Signer(pem(ed25519.Ed25519PrivateKey.generate()))
    for key_id in (digest["key_id"], forger.key_id):  # pretend to be ours, then use the forger's id
        fields = {k: v for k, v in digest.items() if k not in ("signature", "key_id", "signature_alg")}
        forged = sign_digest(fields, forger)
        forged["key_id"] = key_id
        s3.put_object(Bucket=bucket.bucket, Key=key, Body=canonical(forged))
        found = problems(await verify(owner_pool, bucket, verifier))
        assert (
            WEEK[5],
            SIGNATURE,
            f"digest {key} (current version): "
            + (
                f"signature does not verify with key {key_id}"
                if key_id == digest["key_id"]
                else f"unknown signing key {key_id}"
            ),
        ) in found
        assert any(k == CHAIN and "overwritten" in d for _, k, d in found)


async def test_a_whole_chain_signed_by_an_unknown_key_fails(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, week: Any
) -> None:
    other = Verifier.from_pems([])
    report = await verify(owner_pool, bucket, other)
    assert {d.day for d in report.days if any(p.kind == SIGNATURE for p in d.problems)} == set(WEEK)


async def test_verify_a_range_links_to_the_day_before(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, verifier: Verifier, week: Any
) -> None:
    report = await verify(owner_pool, bucket, verifier, from_day=WEEK[3], to_day=WEEK[4])
    assert report.ok and [d.day for d in report.days] == WEEK[3:5]
