"""Helpers shared by the identity tests (importable: tests.app.identity.support)."""

from __future__ import annotations

from typing import Any

import asyncpg

from kernel.metrics import Metrics


async def auth_failures(pool: asyncpg.Pool, user_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT failure_reason FROM audit_events WHERE event_type = 'auth_failure' AND user_id = $1"
        " ORDER BY timestamp",
        user_id,
    )
    return [r["failure_reason"] for r in rows]


def counter(metrics: Metrics, reason: str) -> float:
    value: Any = metrics.registry.get_sample_value("aiops_auth_failures_total", {"reason": reason})
    return float(value or 0.0)
