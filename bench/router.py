"""Per-call overhead of the tool router (validate + enforce + filter + sanitize + wrap + audit)
with instant tools returning realistic-size outputs (50 Prometheus series, 100 pods).

Audit rows go to a real PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test)
in a fresh database created and dropped by this script; the blocklist uses real Redis
(REDIS_URL, default redis://127.0.0.1:6379/0) under a throw-away key prefix.

    .venv/bin/python bench/router.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from kernel.metrics import Metrics
from kernel.scope import Identity, effective_scope
from tools import sanitize
from tools.base import JSON, Tool, ToolContext
from tools.blocklist import Blocklist
from tools.router import ToolRouter, _walk

_STR = {"type": "string"}
_NUM = {"type": "number"}


class InstantTool(Tool):
    """Returns the next pre-built output: no I/O, so the router's own cost is what is left."""

    description: ClassVar[str] = "bench"
    input_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {"namespace": _STR, "query": _STR},
        "additionalProperties": False,
    }

    def __init__(self, outputs: list[JSON]) -> None:
        self._outputs = outputs
        self._i = 0

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        self._i += 1
        return self._outputs[self._i % len(self._outputs)]


class SeriesTool(InstantTool):
    name: ClassVar[str] = "bench_series"
    namespace_arg: ClassVar[str | None] = None
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "query_sent": _STR,
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "labels": {"type": "object", "additionalProperties": _STR},
                        "min": _NUM, "max": _NUM, "avg": _NUM, "last": _NUM,
                    },
                    "required": ["labels", "last"],
                },
            },
        },
        "required": ["series"],
    }  # fmt: skip


class PodsTool(InstantTool):
    name: ClassVar[str] = "bench_pods"
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STR, "namespace": _STR, "phase": _STR, "node": _STR,
                        "restarts": {"type": "integer"},
                        "containers": {"type": "array", "items": {"type": "object"}},
                        "conditions": {"type": "array", "items": {"type": "object"}},
                        "owner": _STR,
                    },
                    "required": ["name", "namespace", "phase"],
                },
            }
        },
        "required": ["items"],
    }  # fmt: skip


def series_output(run: int) -> JSON:
    return {
        "query_sent": 'sum by (pod) (rate(http_requests_total{namespace="shop"}[5m]))',
        "series": [
            {
                "labels": {
                    "__name__": "http_requests_total", "namespace": "shop",
                    "pod": f"checkout-{run:04x}-{i:05d}", "job": "checkout",
                    "instance": f"10.0.{i // 250}.{i % 250}:8080", "code": "500",
                    "method": "GET", "route": f"/api/v1/orders/{i}",
                },
                "min": 0.1 * i, "max": 2.0 * i, "avg": 1.0 * i, "last": 1.5 * i,
            }
            for i in range(50)
        ],
    }  # fmt: skip


def pods_output(run: int) -> JSON:
    return {
        "items": [
            {
                "name": f"checkout-{run:04x}-{i:05d}", "namespace": "shop", "phase": "Running",
                "node": f"worker-{i % 5}", "restarts": i % 3, "owner": "ReplicaSet/checkout-7d9f8b6c5",
                "conditions": [
                    {"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}
                ],
                "containers": [
                    {
                        "name": "app", "image": "registry.example/shop/checkout:v1.4.2", "ready": True,
                        "restart_count": i % 3,
                        "last_termination": {"reason": "OOMKilled", "exit_code": 137} if i % 7 == 0 else None,
                        "requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"},
                        "env": [{"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "value": "x"}],
                    }
                ],
            }
            for i in range(100)
        ]
    }  # fmt: skip


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def measure(
    router: ToolRouter, tool: InstantTool, args: JSON, ctx: ToolContext, calls: int
) -> tuple[list[float], list[float]]:
    bare: list[float] = []
    routed: list[float] = []
    for _ in range(20):  # warm-up: validators, caches, connections
        await router.invoke(tool.name, args, ctx)
    for _ in range(calls):
        t0 = time.perf_counter()
        await tool._invoke(args, ctx)
        t1 = time.perf_counter()
        out = await router.invoke(tool.name, args, ctx)
        t2 = time.perf_counter()
        assert not out.is_error, out.content[:300]
        bare.append((t1 - t0) * 1e6)
        routed.append((t2 - t1) * 1e6)
    return bare, routed


async def stages(router: ToolRouter, cases: list[Any], ctx: ToolContext, calls: int) -> None:
    """Where the time goes: each router stage timed on its own, same data (p50, µs)."""
    from kernel.audit import AuditEvent

    print(f"\n{'stage p50 (µs)':<16}" + "".join(f"{label:>12}" for label, _, _ in cases))
    rows: dict[str, list[float]] = {}
    for _, tool, build in cases:
        reg = router._tools[tool.name]
        data = [build(1000 + r) for r in range(calls)]
        steps = {
            "validate out": lambda d, reg=reg: list(reg.outputs.iter_errors(d)),
            "scope filter": lambda d: _walk(d, ctx.scope, set(), [0, 0], in_list=False),
            "sanitize": lambda d, tool=tool: sanitize.clean(d, long_text_fields=tool.long_text_fields),
            "wrap": lambda d: sanitize.wrap("x", d),
        }
        for step, fn in steps.items():
            times = []
            for d in data:
                t0 = time.perf_counter()
                fn(d)
                times.append((time.perf_counter() - t0) * 1e6)
            rows.setdefault(step, []).append(pct(times, 50))
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            await router._audit.write(AuditEvent(event_type="tool_call", user_id="kc-bench", tool_calls=[{}]))
            times.append((time.perf_counter() - t0) * 1e6)
        rows.setdefault("audit insert", []).append(pct(times, 50))
    for step, values in rows.items():
        print(f"{step:<16}" + "".join(f"{v:>12.0f}" for v in values))


async def main(calls: int) -> None:
    admin_dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    db = f"aiops_bench_{uuid.uuid4().hex[:10]}"
    prefix = f"aiops-bench-{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{db}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{db}"
    redis = aioredis.Redis.from_url(redis_url)
    pool = None
    try:
        conn = await asyncpg.connect(dsn)
        await migrate(conn)
        await conn.close()
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
        assert pool is not None
        series = SeriesTool([series_output(r) for r in range(64)])
        pods = PodsTool([pods_output(r) for r in range(64)])
        blocklist = Blocklist(redis=redis, prefix=prefix)
        router = ToolRouter(
            tools=[series, pods],
            audit=PostgresAuditLog(pool=pool, agent_version="bench"),
            metrics=Metrics(),
            blocklist=blocklist,
        )
        ident = Identity("U1", "kc-bench", "bench", frozenset({"viewer"}), frozenset({"shop", "payments"}))
        ctx = ToolContext(scope=effective_scope(ident, channel_id=None, channel_namespaces=None), job_id="b")
        cases = [
            ("50 series", series, {"query": "rate(http_requests_total[5m])"}),
            ("100 pods", pods, {"namespace": "shop"}),
        ]
        print(f"router overhead, {calls} calls per case (µs; audit → PostgreSQL, blocklist → Redis)")
        header = f"{'case':<30}{'bare p50':>10}{'bare p95':>10}{'router p50':>12}{'router p95':>12}"
        print(header + f"{'overhead p50':>14}{'overhead p95':>14}{'ratio p50':>11}")
        for blocked in (False, True):
            if blocked:  # an unrelated blocked value: the router now hashes the result and MGETs
                await blocklist.block(["ignore previous instructions"])
            for label, tool, args in cases:
                bare, routed = await measure(router, tool, args, ctx, calls)
                b50, b95, r50, r95 = pct(bare, 50), pct(bare, 95), pct(routed, 50), pct(routed, 95)
                name = label + (" (blocklist active)" if blocked else "")
                ratio = r50 / b50 if b50 else float("inf")
                print(f"{name:<30}{b50:>10.1f}{b95:>10.1f}{r50:>12.0f}{r95:>12.0f}"
                      f"{r50 - b50:>14.0f}{r95 - b95:>14.0f}{ratio:>10.0f}x")  # fmt: skip
        builders = [("50 series", series, series_output), ("100 pods", pods, pods_output)]
        await stages(router, builders, ctx, calls)
    finally:
        if pool is not None:
            await pool.close()
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300)
    asyncio.run(main(parser.parse_args().calls))
