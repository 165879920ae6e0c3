"""Item 2: nightly export to an object-locked bucket, digest chain, grace period, no-op re-run."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from app.audit.digest import Ed25519Signer, Verifier
from app.audit.export import ExportRefused, export
from app.audit.s3 import AuditBucket
from kernel.errors import ConfigError
from tests.app.audit.conftest import clock, seed

D1 = date(2026, 3, 1)


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


async def test_export_writes_locked_encrypted_objects_and_a_signed_digest(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer, verifier: Verifier, s3: Any
) -> None:
    ids = await seed(owner_pool, D1, 3)
    out = await export(owner_pool, bucket, signer, now=clock(D1 + timedelta(days=1)))
    assert [(r.day, r.rows, r.already) for r in out] == [(D1, 3, False)]

    head = s3.head_object(Bucket=bucket.bucket, Key="audit/2026/03/01/events.jsonl.gz")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ServerSideEncryption"] == "AES256"
    lines = gzip.decompress(_get(s3, bucket.bucket, "audit/2026/03/01/events.jsonl.gz")).decode().splitlines()
    rows = [json.loads(x) for x in lines]
    assert [r["id"] for r in rows] == [str(i) for i in ids]
    assert rows[0]["timestamp"] == "2026-03-01T12:00:00.000000Z" and rows[0]["tool_calls"] == [
        {"tool": "prometheus_query"}
    ]

    raw = _get(s3, bucket.bucket, "audit/2026/03/01/digest.json")
    digest = json.loads(raw)
    assert digest["row_count"] == 3 and digest["previous_digest_sha256"] is None
    assert digest["first_id"] == str(ids[0]) and digest["last_id"] == str(ids[-1])
    assert (
        digest["object_sha256"]
        == hashlib.sha256(_get(s3, bucket.bucket, "audit/2026/03/01/events.jsonl.gz")).hexdigest()
    )
    assert digest["key_id"] == signer.key_id and digest["signature_alg"] == "Ed25519"
    assert verifier.check(digest) is None
    assert out[0].digest_sha256 == hashlib.sha256(raw).hexdigest()


async def test_chain_covers_every_day_including_empty_ones(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer, s3: Any
) -> None:
    await seed(owner_pool, D1, 2)
    await seed(owner_pool, D1 + timedelta(days=2), 1)
    out = await export(owner_pool, bucket, signer, now=clock(D1 + timedelta(days=3)))
    assert [(r.day.day, r.rows) for r in out] == [(1, 2), (2, 0), (3, 1)]
    empty = json.loads(_get(s3, bucket.bucket, "audit/2026/03/02/digest.json"))
    assert empty["row_count"] == 0 and empty["first_id"] is None
    assert gzip.decompress(_get(s3, bucket.bucket, "audit/2026/03/02/events.jsonl.gz")) == b""
    third = json.loads(_get(s3, bucket.bucket, "audit/2026/03/03/digest.json"))
    assert third["previous_digest_sha256"] == out[1].digest_sha256


async def test_export_twice_is_a_no_op(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer, s3: Any
) -> None:
    await seed(owner_pool, D1, 2)
    now = clock(D1 + timedelta(days=1))
    first = await export(owner_pool, bucket, signer, now=now)
    before = s3.list_object_versions(Bucket=bucket.bucket)["Versions"]
    again = await export(owner_pool, bucket, signer, now=now)
    assert again[0].already and again[0].digest_sha256 == first[0].digest_sha256
    assert s3.list_object_versions(Bucket=bucket.bucket)["Versions"] == before


async def test_a_day_is_exported_only_after_the_grace_period(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer
) -> None:
    await seed(owner_pool, D1, 1)
    with pytest.raises(ExportRefused, match="not finished"):  # 00:10 the next day: too early
        await export(
            owner_pool,
            bucket,
            signer,
            through=D1,
            now=lambda: clock(D1 + timedelta(days=1), 0)() + timedelta(minutes=10),
        )
    # the default target at 00:10 is the day before, which is not there yet: nothing to refuse
    early = await export(
        owner_pool, bucket, signer, now=lambda: clock(D1 + timedelta(days=1), 0)() + timedelta(minutes=10)
    )
    assert [r.day for r in early] == [D1 - timedelta(days=1)]
    with pytest.raises(ExportRefused, match="not finished"):  # today is never exported
        await export(owner_pool, bucket, signer, through=D1, now=clock(D1, 23))
    on_time = lambda: clock(D1 + timedelta(days=1), 0)() + timedelta(minutes=30)  # noqa: E731 (deploy's 00:30)
    assert [r.day for r in await export(owner_pool, bucket, signer, through=D1, now=on_time)] == [D1]


async def test_a_bucket_without_object_lock_is_refused(
    owner_pool: asyncpg.Pool, s3: Any, signer: Ed25519Signer
) -> None:
    s3.create_bucket(Bucket="audit-no-lock-here")
    plain = AuditBucket(s3, bucket="audit-no-lock-here")
    with pytest.raises(ConfigError, match="Object Lock"):
        await export(owner_pool, plain, signer, now=clock(D1 + timedelta(days=1)))
    assert "Contents" not in s3.list_objects_v2(Bucket="audit-no-lock-here")


async def test_kms_signing(owner_pool: asyncpg.Pool, bucket: AuditBucket, moto_url: str, s3: Any) -> None:
    from app.audit.digest import KmsSigner
    from tests.app.audit.conftest import aws_client

    kms = aws_client("kms", moto_url)
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    await seed(owner_pool, D1, 1)
    await export(owner_pool, bucket, KmsSigner(kms, key), now=clock(D1 + timedelta(days=1)))
    digest = json.loads(_get(s3, bucket.bucket, "audit/2026/03/01/digest.json"))
    assert digest["signature_alg"] == "ECDSA_SHA_256" and digest["key_id"].endswith(key)
    assert Verifier(kms_client=kms).check(digest) is None
    digest["row_count"] = 0
    assert Verifier(kms_client=kms).check(digest) is not None
