"""`aiops retention run`: conversation turns past the retention period are deleted (in batches),
newer ones and the audit log are untouched."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from app.retention import purge_conversations

REPO = Path(__file__).resolve().parents[2]
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def seed(pool: asyncpg.Pool, session: str, ages_days: list[float]) -> None:
    await pool.executemany(
        "INSERT INTO conversations (session_id, user_id, role, content, created_at)"
        " VALUES ($1, 'kc-x', 'user', 'q', now() - $2::interval)",
        [(session, timedelta(days=d)) for d in ages_days],
    )


async def remaining(pool: asyncpg.Pool, session: str) -> list[int]:
    rows = await pool.fetch(
        "SELECT extract(day FROM now() - created_at)::int AS d FROM conversations"
        " WHERE session_id = $1 ORDER BY d",
        session,
    )
    return [r["d"] for r in rows]


async def test_old_turns_go_in_batches_new_ones_stay(pg_pool: asyncpg.Pool, redis_prefix: str) -> None:
    session = f"C0RET:{redis_prefix}"
    await seed(pg_pool, session, [1, 89, 91, 120, 400, 400, 400])
    # dry run counts (across the whole table, so at least ours) and deletes nothing
    assert await purge_conversations(pg_pool, older_than=timedelta(days=90), dry_run=True) >= 5
    assert len(await remaining(pg_pool, session)) == 7
    deleted = await purge_conversations(pg_pool, older_than=timedelta(days=90), batch=2)
    assert deleted >= 5  # several batches of 2
    assert await remaining(pg_pool, session) == [1, 89]


async def test_a_non_positive_period_is_refused(pg_pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="positive"):
        await purge_conversations(pg_pool, older_than=timedelta(0))


async def test_cli_reports_and_leaves_the_audit_log_alone(
    pg_pool: asyncpg.Pool, pg_dsn: str, redis_prefix: str, tmp_path: Path
) -> None:
    session = f"C0CLI:{redis_prefix}"
    await seed(pg_pool, session, [10, 100])
    audit_before = await pg_pool.fetchval("SELECT count(*) FROM audit_events")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("slack_bot_token", "slack_signing_secret", "alertmanager_token"):
        (secrets / name).write_text("x" * 20)
    # Redis is not needed (nor started, nor pinged) by a nightly retention job: point it nowhere
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "DATABASE_URL": pg_dsn, "REDIS_URL": DEAD_REDIS,
           "AIOPS_SECRETS_DIR": str(secrets), "KEYCLOAK_URL": "https://sso.example"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aiops.cli", "retention", "run", *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    bad = run("--days", "0")
    assert bad.returncode == 2 and "--days: must be at least 1" in bad.stderr
    done = run("--days", "30")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deleted ") and "older than 30 days" in done.stdout
    assert await remaining(pg_pool, session) == [10]
    assert await pg_pool.fetchval("SELECT count(*) FROM audit_events") == audit_before
