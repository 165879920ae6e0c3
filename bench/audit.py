"""Audit log costs (issue 10).

1. Insert throughput of the hot path (PostgresAuditLog.write: one plain INSERT, no chain) as the
   INSERT-only role `aiops_app` vs the same inserts as the table owner — same run, alternating
   rounds, ratio reported (target >= 0.8x).
2. Export + verify of one UTC day of N rows (default 1,000,000, made by one INSERT … SELECT
   generate_series) to an object-locked bucket on moto's S3 server (a separate process, so its
   in-memory storage is not counted): wall time and the peak RSS of the process doing the work,
   next to the same for N/10 rows — flat memory means streaming (targets: ≤ 60 s each).

Real PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test), a fresh
database created and dropped here.

    .venv/bin/python bench/audit.py [--rows 1000000] [--inserts 4000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.audit.log import PostgresAuditLog  # noqa: E402
from app.audit.migrate import migrate  # noqa: E402
from kernel.audit import AuditEvent  # noqa: E402

ADMIN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = date(2026, 1, 15)

_GENERATE = """
INSERT INTO audit_events (id, event_type, user_id, session_id, timestamp, agent_version, user_message,
    tool_calls, response_hash, namespace, latency_ms, token_count)
SELECT gen_random_uuid(), 'query', 'user-' || (g % 50), 'C0INCIDENT:' || (g % 5000),
    $1::timestamptz + g * $3::interval,
    'bench-sha', 'why is checkout slow? request ' || g,
    '[{"tool": "prometheus_query", "query_sent": "rate(http_requests_total{namespace=\\"checkout\\"}[5m])",
       "inputs_hash": "ab12", "result_hash": "cd34"}]'::jsonb,
    md5(g::text), 'checkout', g % 900, g % 4000
FROM generate_series(0, $2 - 1) g
"""


def _with_db(dsn: str, db: str) -> str:
    return dsn.rpartition("/")[0] + "/" + db


def _as(dsn: str, role: str) -> str:
    scheme, _, rest = dsn.partition("://")
    return f"{scheme}://{role}@{rest.split('@', 1)[-1]}"


async def _create_db() -> str:
    name = f"aiops_bench_audit_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    conn = await asyncpg.connect(_with_db(ADMIN, name))
    await migrate(conn)
    await conn.close()
    return name


async def _drop_db(name: str) -> None:
    conn = await asyncpg.connect(ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


# ---- 1. insert throughput -------------------------------------------------------------------


async def _round(dsn: str, n: int, concurrency: int) -> float:
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    log = PostgresAuditLog(pool=pool, agent_version="bench")
    per = n // concurrency

    async def client() -> None:
        for i in range(per):
            await log.write(
                AuditEvent(
                    event_type="tool_call",
                    user_id="u",
                    session_id="s",
                    latency_ms=i,
                    tool_calls=[{"tool": "prometheus_query", "inputs_hash": "x"}],
                )
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await pool.close()
    return per * concurrency / elapsed


async def inserts(db: str, n: int, concurrency: int, rounds: int = 3) -> None:
    owner, app = _with_db(ADMIN, db), _as(_with_db(ADMIN, db), "aiops_app")
    await _round(owner, n // 4, concurrency)  # warm-up
    got: dict[str, list[float]] = {"owner": [], "aiops_app": []}
    for _ in range(rounds):
        got["owner"].append(await _round(owner, n, concurrency))
        got["aiops_app"].append(await _round(app, n, concurrency))
    best = {k: max(v) for k, v in got.items()}
    print(f"insert throughput, {n} rows x {rounds} rounds, {concurrency} concurrent writers (best round):")
    print(f"  owner (plain INSERT, baseline) {best['owner']:8.0f} rows/s")
    print(
        f"  aiops_app (INSERT-only role)   {best['aiops_app']:8.0f} rows/s"
        f"   ratio {best['aiops_app'] / best['owner']:.2f}x (target >= 0.8x)"
    )


# ---- 2. export + verify ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


async def _generate(db: str, day: date, rows: int) -> None:
    conn = await asyncpg.connect(_with_db(ADMIN, db))
    start = datetime.combine(day, dtime(0), tzinfo=UTC)
    step = timedelta(seconds=86_399 / rows)
    t0 = time.perf_counter()
    await conn.execute(_GENERATE, start, rows, step)
    await conn.close()
    print(
        f"  generated {rows} rows for {day} in {time.perf_counter() - t0:.1f} s"
        " (one INSERT ... SELECT generate_series)"
    )


def _child(phase: str, dsn: str, url: str, bucket: str, day: str, key_pem: str) -> None:
    """Runs one export or verify in this (fresh) process and prints JSON: seconds, peak RSS."""
    import boto3

    from app.audit.digest import Ed25519Signer, Verifier
    from app.audit.export import export
    from app.audit.s3 import AuditBucket
    from app.audit.verify import verify

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    audit_bucket = AuditBucket(s3, bucket=bucket)
    signer = Ed25519Signer(key_pem)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def run() -> Any:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        assert pool is not None
        try:
            d = date.fromisoformat(day)
            if phase == "export":
                return [r.rows for r in await export(pool, audit_bucket, signer, through=d)]
            verifier = Verifier(ed25519_keys={signer.key_id: signer.public_key})
            report = await verify(pool, audit_bucket, verifier, from_day=d, to_day=d)
            return {"ok": report.ok, "rows": [x.rows for x in report.days]}
        finally:
            await pool.close()

    t0 = time.perf_counter()
    result = asyncio.run(run())
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "base_mb": base / 1024, "result": result}))


def _run_child(phase: str, db: str, url: str, bucket: str, day: date, key_pem: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            phase,
            _with_db(ADMIN, db),
            url,
            bucket,
            day.isoformat(),
            key_pem,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def export_verify(db: str, rows: int) -> None:
    import boto3
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    proc, url = _moto()
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        print("export + verify (moto S3 server in its own process; each phase in a fresh process):")
        for n, day in ((rows // 10, DAY - timedelta(days=1)), (rows, DAY)):
            bucket = f"audit-bench-{uuid.uuid4().hex[:8]}"
            s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            asyncio.run(_generate(db, day, n))
            for phase in ("export", "verify"):
                r = _run_child(phase, db, url, bucket, day, key_pem)
                print(
                    f"  {n:>9} rows  {phase:<6} {r['seconds']:6.1f} s  {n / r['seconds']:9.0f} rows/s"
                    f"  peak RSS {r['peak_mb']:6.0f} MB (at start {r['base_mb']:.0f} MB)  {r['result']}"
                )
            asyncio.run(_clear(db, day))
    finally:
        proc.terminate()
        proc.wait()


async def _clear(db: str, day: date) -> None:
    conn = await asyncpg.connect(_with_db(ADMIN, db))
    await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
    await conn.execute("TRUNCATE audit_events, audit_exports")
    await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    await conn.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--inserts", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(*args.child)
        return
    db = asyncio.run(_create_db())
    try:
        asyncio.run(inserts(db, args.inserts, args.concurrency))
        export_verify(db, args.rows)
    finally:
        asyncio.run(_drop_db(db))


if __name__ == "__main__":
    main()
