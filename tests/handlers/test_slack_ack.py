"""The ack path: Slack gets its 200 only once the job is on the stream; if Redis cannot take it,
Slack gets an error and retries — an event is never acknowledged and lost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from app.audit.log import PostgresAuditLog
from app.queue import JobQueue
from handlers.slack import RejectionRecorder, SlackEndpoint, build_bolt_app
from kernel.metrics import Metrics
from sim.slack import SlackSimulator
from sim.slack_events import SlackEventSender, json_body

SECRET = "ack-path-signing-secret"


async def start(
    redis: aioredis.Redis, prefix: str, sim: SlackSimulator, audit: PostgresAuditLog
) -> tuple[web.AppRunner, SlackEventSender]:
    client = AsyncWebClient(token=sim.bot_token, base_url=sim.base_url)
    queue = JobQueue(redis=redis, prefix=prefix)
    bolt = build_bolt_app(client=client, signing_secret=SECRET, queue=queue, metrics=Metrics())
    endpoint = SlackEndpoint(
        bolt=bolt, signing_secret=SECRET, rejections=RejectionRecorder(audit=audit, metrics=Metrics())
    )
    app = web.Application()
    app.router.add_post("/slack/events", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    return runner, SlackEventSender(url=url, signing_secret=SECRET, sim=sim)


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as s:
        yield s


async def test_acknowledged_only_when_queued_and_retries_are_not_requeued(
    sim: SlackSimulator, redis_client: aioredis.Redis, redis_prefix: str, audit_log: PostgresAuditLog
) -> None:
    runner, sender = await start(redis_client, redis_prefix, sim, audit_log)
    try:
        first = await sender.mention("U1", "C1", "hello")
        assert first.status == 200
        assert await redis_client.xlen(f"{redis_prefix}:jobs") == 1
        for n in (1, 2, 3):
            again = await sender.post(*json_body(first.payload), retry_num=n)  # type: ignore[arg-type]
            assert again.status == 200
        assert await redis_client.xlen(f"{redis_prefix}:jobs") == 1
    finally:
        await runner.cleanup()


async def test_redis_down_means_no_ack_so_slack_retries(
    sim: SlackSimulator, redis_prefix: str, audit_log: PostgresAuditLog
) -> None:
    dead = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    runner, sender = await start(dead, redis_prefix, sim, audit_log)
    try:
        sent = await sender.mention("U1", "C1", "hello")
        assert sent.status >= 500
    finally:
        await runner.cleanup()
        await dead.aclose()
