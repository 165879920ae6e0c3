"""Audit export fixtures: a private migrated database per test (exports look at every row),
and moto's S3/KMS in server mode on loopback — the real HTTP API, spoken to by boto3."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.audit.digest import Ed25519Signer, Verifier
from app.audit.migrate import migrate
from app.audit.s3 import AuditBucket
from tests.conftest import ADMIN_DSN


def pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def s3(moto_url: str) -> Any:
    return aws_client("s3", moto_url)


@pytest.fixture
def bucket_name(s3: Any) -> str:
    name = f"audit-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture
def bucket(s3: Any, bucket_name: str) -> AuditBucket:
    return AuditBucket(s3, bucket=bucket_name, prefix="audit/", lock_days=90)


@pytest.fixture(scope="session")
def signing_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def signer(signing_key: ed25519.Ed25519PrivateKey) -> Ed25519Signer:
    return Ed25519Signer(pem(signing_key))


@pytest.fixture
def verifier(signing_key: ed25519.Ed25519PrivateKey) -> Verifier:
    return Verifier.from_pems([public_pem(signing_key)])


@pytest.fixture
async def db_dsn() -> AsyncIterator[str]:
    name = f"aiops_ta_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    dsn = ADMIN_DSN.rpartition("/")[0] + "/" + name
    conn = await asyncpg.connect(dsn)
    await migrate(conn)
    await conn.close()
    try:
        yield dsn
    finally:
        conn = await asyncpg.connect(ADMIN_DSN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def owner_pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """The schema owner (here the superuser): what tamper tests attack with."""
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


async def seed(pool: asyncpg.Pool, day: date, n: int, *, user: str = "u1") -> list[uuid.UUID]:
    """n rows spread over `day` (inserted by the owner, who may set the timestamp)."""
    ids = [uuid.uuid4() for _ in range(n)]
    await pool.executemany(
        "INSERT INTO audit_events (id, event_type, user_id, session_id, timestamp, agent_version,"
        " user_message, tool_calls, ip_address, latency_ms) VALUES ($1, 'query', $2, 's1', $3, 'sha',"
        " $4, $5::jsonb, '10.0.0.1', 42)",
        [
            (i, user, at(day) + timedelta(minutes=k), f"question {k}", '[{"tool": "prometheus_query"}]')
            for k, i in enumerate(ids)
        ],
    )
    return ids


def clock(day: date, hour: int = 3) -> Any:
    """A `now` for export: `hour` o'clock UTC on `day`."""
    return lambda: at(day, hour)
