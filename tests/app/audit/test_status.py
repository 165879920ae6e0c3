"""Item 8: the last export/verify outcome (stored by the CronJobs) appears on /metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

from app.audit.digest import Ed25519Signer, Verifier
from app.audit.export import export
from app.audit.s3 import AuditBucket
from app.audit.status import AuditStatus, record_success
from app.audit.verify import store_run, verify
from handlers.health import HealthEndpoints
from kernel.metrics import Metrics
from tests.app.audit.conftest import clock, seed

D = date(2026, 5, 10)


def _value(text: str, name: str) -> float:
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return float(line.split()[1])


async def _scrape(pool: asyncpg.Pool, metrics: Metrics) -> str:
    status = AuditStatus(pool=pool, metrics=metrics, ttl_s=0)
    endpoints = HealthEndpoints(checks={}, metrics=metrics, refresh=status.refresh)
    resp = await endpoints.metrics(None)  # type: ignore[arg-type]
    assert resp.body is not None
    return bytes(resp.body).decode()  # type: ignore[arg-type]


async def test_metrics_follow_export_and_verify(
    owner_pool: asyncpg.Pool, bucket: AuditBucket, signer: Ed25519Signer, verifier: Verifier
) -> None:
    metrics = Metrics()
    text = await _scrape(owner_pool, metrics)
    assert _value(text, "aiops_audit_last_verified_export_timestamp_seconds") == 0
    assert _value(text, "aiops_audit_verify_ok") == 0

    ids = await seed(owner_pool, D, 2)
    await export(owner_pool, bucket, signer, now=clock(D + timedelta(days=1)))
    await store_run(owner_pool, await verify(owner_pool, bucket, verifier))
    text = await _scrape(owner_pool, metrics)
    end_of_day = datetime(2026, 5, 11, tzinfo=UTC).timestamp()
    assert _value(text, "aiops_audit_last_verified_export_timestamp_seconds") == end_of_day
    assert _value(text, "aiops_audit_verify_ok") == 1
    assert _value(text, "aiops_audit_last_export_timestamp_seconds") > 0
    assert _value(text, 'aiops_task_last_success_timestamp_seconds{task="audit_export"}') == 0
    await record_success(owner_pool, "audit_export")
    text = await _scrape(owner_pool, metrics)
    assert _value(text, 'aiops_task_last_success_timestamp_seconds{task="audit_export"}') > 0
    assert _value(text, 'aiops_task_last_success_timestamp_seconds{task="audit_prune"}') == 0

    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_events WHERE id = $1", ids[0])
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    await store_run(owner_pool, await verify(owner_pool, bucket, verifier))
    text = await _scrape(owner_pool, metrics)
    assert _value(text, "aiops_audit_verify_ok") == 0
    assert _value(text, "aiops_audit_last_verified_export_timestamp_seconds") == 0
