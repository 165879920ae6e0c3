"""/healthz, /readyz (Redis and Postgres reachable, says which one is not), /metrics — over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from handlers.health import HealthEndpoints
from kernel.metrics import Metrics


async def serve(health: HealthEndpoints) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def dead_redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(
        "redis://:pw-must-not-leak@127.0.0.1:1/0", socket_connect_timeout=0.5
    )
    yield client
    await client.aclose()


async def test_ready_only_when_both_stores_answer(
    redis_client: aioredis.Redis, pg_pool: asyncpg.Pool, dead_redis: aioredis.Redis
) -> None:
    metrics = Metrics()
    metrics.events_received.labels("mention").inc()

    async def pg() -> None:
        await pg_pool.fetchval("SELECT 1")

    up = HealthEndpoints(checks={"redis": redis_client.ping, "postgres": pg}, metrics=metrics)
    down = HealthEndpoints(checks={"redis": dead_redis.ping, "postgres": pg}, metrics=metrics)
    runner_up, url_up = await serve(up)
    runner_down, url_down = await serve(down)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(url_up + "/readyz") as r:
                assert r.status == 200
                assert await r.json() == {"status": "ready", "redis": "ok", "postgres": "ok"}
            async with s.get(url_down + "/readyz") as r:
                assert r.status == 503
                body = await r.json()
                assert body["postgres"] == "ok" and body["redis"].startswith("unreachable")
                assert "pw-must-not-leak" not in await r.text()
            async with s.get(url_down + "/healthz") as r:
                assert r.status == 200  # alive even when not ready
            async with s.get(url_up + "/metrics") as r:
                assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
                assert 'aiops_events_received_total{source="mention"} 1.0' in await r.text()
    finally:
        await runner_up.cleanup()
        await runner_down.cleanup()
