"""`aiops audit …` end to end through the console entry point: exit codes 0/1/2/3, tables."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from aiops.cli import main
from tests.app.audit.conftest import pem, seed

DAY = datetime.now(UTC).date() - timedelta(days=3)


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_dsn: str, moto_url: str, bucket_name: str
) -> dict[str, str]:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    # no Slack secrets: the audit CronJobs hold only what they need
    (secrets / "audit_signing_key").write_text(pem(ed25519.Ed25519PrivateKey.generate()))
    (secrets / "audit_s3_access_key_id").write_text("test")
    (secrets / "audit_s3_secret_access_key").write_text("test")
    values = {
        "AIOPS_SECRETS_DIR": str(secrets),
        "DATABASE_URL": db_dsn,
        "AIOPS_AUDIT_S3_BUCKET": bucket_name,
        "AIOPS_AUDIT_S3_ENDPOINT": moto_url,
        "AIOPS_AUDIT_S3_REGION": "us-east-1",
        "AIOPS_IDENTITY_MODE": "directory",
        "KEYCLOAK_URL": "http://127.0.0.1:9",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_export_verify_show_tail(
    env: dict[str, str], owner_pool: asyncpg.Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await seed(owner_pool, DAY, 2)
    assert await _main(["audit", "export", "--date", DAY.isoformat()]) == 0
    assert f"{DAY}: exported 2 rows" in capsys.readouterr().out
    assert await _main(["audit", "export", "--date", DAY.isoformat()]) == 0
    again = capsys.readouterr().out
    assert "already exported" in again and "nothing changed" in again

    assert await _main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert f"{DAY}         2  OK" in out and "1 days checked: all verified" in out

    async with owner_pool.acquire() as conn:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_events WHERE id = $1", ids[1])
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    assert await _main(["audit", "verify"]) == 1
    assert f"row missing: {ids[1]}" in capsys.readouterr().out
    runs = await owner_pool.fetch("SELECT ok FROM audit_verify_runs ORDER BY id")
    assert [r["ok"] for r in runs] == [True, False]
    tasks = {r["task"] for r in await owner_pool.fetch("SELECT task FROM task_runs")}
    assert tasks == {"audit_export", "audit_verify"}  # the last successes the workers export

    assert await _main(["audit", "show", str(ids[0])]) == 0
    assert f"query {ids[0]}" in capsys.readouterr().out
    assert await _main(["audit", "show", "not-an-id"]) == 2
    assert await _main(["audit", "tail", "--since", "7d", "--user", "u1"]) == 0
    assert str(ids[0]) in capsys.readouterr().out


async def test_configuration_errors_exit_2(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], s3: Any
) -> None:
    monkeypatch.delenv("AIOPS_AUDIT_S3_BUCKET")
    assert await _main(["audit", "verify"]) == 2
    assert "AIOPS_AUDIT_S3_BUCKET" in capsys.readouterr().err
    s3.create_bucket(Bucket="audit-unlocked-cli")
    monkeypatch.setenv("AIOPS_AUDIT_S3_BUCKET", "audit-unlocked-cli")
    assert await _main(["audit", "export"]) == 2
    assert "Object Lock" in capsys.readouterr().err


async def test_unreachable_stores_exit_3(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIOPS_AUDIT_S3_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert await _main(["audit", "verify"]) == 3
    assert "object store unreachable" in capsys.readouterr().err
    monkeypatch.setenv("AIOPS_AUDIT_S3_ENDPOINT", env["AIOPS_AUDIT_S3_ENDPOINT"])
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_closed_port()}/x")
    assert await _main(["audit", "verify"]) == 3


async def _main(argv: list[str]) -> int:
    """main() runs its own event loop: call it from a worker thread."""
    import asyncio

    return await asyncio.to_thread(main, argv)
