"""The audit export's health as metrics: `aiops audit export|verify` are short CronJobs that
cannot be scraped, so they record their outcome in `audit_exports` / `audit_verify_runs`,
and the long-running process sets the gauges from there at scrape time (cached briefly)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import asyncpg

from kernel.metrics import Metrics

_STATUS = """
SELECT
    (SELECT max(exported_at) FROM audit_exports) AS last_export,
    r.finished_at, r.ok, r.last_verified_day
FROM (SELECT 1) one
LEFT JOIN LATERAL (
    SELECT finished_at, ok, last_verified_day FROM audit_verify_runs ORDER BY id DESC LIMIT 1
) r ON true
"""


TASKS = ("audit_export", "audit_verify", "audit_prune", "retention")


async def record_success(pool: asyncpg.Pool, task: str) -> None:
    """A nightly task finished successfully (exported as aiops_task_last_success_timestamp_seconds)."""
    await pool.execute(
        "INSERT INTO task_runs (task, last_success) VALUES ($1, now())"
        " ON CONFLICT (task) DO UPDATE SET last_success = excluded.last_success",
        task,
    )


class AuditStatus:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        metrics: Metrics,
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool, self._metrics, self._ttl, self._clock = pool, metrics, ttl_s, clock
        self._at: float | None = None

    async def refresh(self) -> None:
        if self._at is not None and self._clock() - self._at < self._ttl:
            return
        row = await self._pool.fetchrow(_STATUS)
        self._at = self._clock()
        if row is None:
            return
        m = self._metrics
        m.audit_last_export.set(row["last_export"].timestamp() if row["last_export"] else 0)
        m.audit_verify_last_run.set(row["finished_at"].timestamp() if row["finished_at"] else 0)
        m.audit_verify_ok.set(1 if row["ok"] else 0)
        day = row["last_verified_day"]
        end = datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=UTC).timestamp() if day else 0
        m.audit_last_verified_export.set(end)
        done = {r["task"]: r["last_success"] for r in await self._pool.fetch("SELECT * FROM task_runs")}
        for task in TASKS:
            m.task_last_success.labels(task).set(done[task].timestamp() if task in done else 0)
