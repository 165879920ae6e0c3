"""One root message per alert group, however many workers race for it (real Redis, the Slack
simulator over HTTP). Regression: a worker that saw no root, then found the lock already
released by the winner, used to post a second root — splitting one incident over two threads."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from app.alert_threads import AlertThreads
from app.jobs import Job
from sim.slack import SlackSimulator

CHANNEL = "C0INCIDENT"


@pytest.fixture
async def slack() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as sim:
        sim.add_channel(CHANNEL, "incidents")
        yield sim


def alert_job(group: str, n: int) -> Job:
    alert = {"status": "firing", "groupKey": group, "commonLabels": {"alertname": "CheckoutErrors"},
             "alerts": [{"labels": {"alertname": "CheckoutErrors"}, "annotations": {}}]}  # fmt: skip
    return Job(job_id=f"{group}-{n}", kind="alert", channel_id=CHANNEL, user_id="system:alertmanager",
               text="", alert=alert)  # fmt: skip


async def test_racing_workers_post_one_root_per_group(
    slack: SlackSimulator, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    workers = [
        AlertThreads(redis=redis_client, slack=client, prefix=redis_prefix, owner=f"w{i}") for i in range(6)
    ]
    rng = random.Random(7)

    async def take(w: AlertThreads, group: str, n: int) -> str:
        # Workers pick up a group's notifications a few milliseconds apart, as after an outage:
        # some look for the root while the winner is still posting it.
        await asyncio.sleep(rng.uniform(0, 0.02))
        return await w.thread_for(alert_job(group, n))

    groups = [f'{{}}:{{alertname="G{uuid.uuid4().hex[:8]}"}}' for _ in range(80)]

    async def one_group(group: str) -> set[str]:
        return set(await asyncio.gather(*(take(w, group, i) for i, w in enumerate(workers))))

    threads: list[set[str]] = []
    for i in range(0, len(groups), 3):  # a few groups at a time: the client's connection pool is small
        threads += await asyncio.gather(*(one_group(g) for g in groups[i : i + 3]))
    assert [len(t) for t in threads] == [1] * len(groups), "one alert group split over several threads"
    roots = slack.root_messages(CHANNEL)
    assert len(roots) == len(groups)
