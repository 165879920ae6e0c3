from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from anthropic import AsyncAnthropic

from kernel.metrics import Metrics
from sim.anthropic import AnthropicSim
from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401  (shared fixture)
from tests.fixtures.prometheus import prometheus_server, prometheus_url  # noqa: F401  (shared fixtures)


@pytest.fixture
async def anthropic_sim() -> AsyncIterator[AnthropicSim]:
    async with AnthropicSim() as sim:
        yield sim


@pytest.fixture
async def anthropic_client(anthropic_sim: AnthropicSim) -> AsyncIterator[AsyncAnthropic]:
    client = AsyncAnthropic(base_url=anthropic_sim.base_url, api_key=anthropic_sim.api_key)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()
