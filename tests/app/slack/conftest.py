from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.queue import RedisJobStateStore
from sim.slack import SlackSimulator


@pytest.fixture
async def slack_sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator(scopes="all") as sim:
        sim.add_user("U1", "alice")
        sim.add_channel("C1", "incidents")
        yield sim


@pytest.fixture
def slack_client(slack_sim: SlackSimulator) -> AsyncWebClient:
    return AsyncWebClient(base_url=slack_sim.base_url, token=slack_sim.bot_token)


@pytest.fixture
def job_state(redis_client, redis_prefix) -> RedisJobStateStore:
    return RedisJobStateStore(redis=redis_client, prefix=redis_prefix)
