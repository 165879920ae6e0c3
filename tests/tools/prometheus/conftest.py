"""Fixtures for the Prometheus tool tests: the real Prometheus (session-scoped, started once)
and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.prometheus import PrometheusServer, prometheus_server, prometheus_url  # noqa: F401
from tools.prometheus.client import PrometheusClient


@pytest.fixture
async def prom_client(prometheus_server: PrometheusServer) -> AsyncIterator[PrometheusClient]:  # noqa: F811
    client = PrometheusClient(url=prometheus_server.url)
    try:
        yield client
    finally:
        client.close()
